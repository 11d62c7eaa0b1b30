"""Accounts: users, their roles, and the scopes of managers and coordinators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.institution import Institution
    from web.models.reference import Governorate
    from web.models.volunteer import VolunteerProfile

ROLES = ("volunteer", "manager", "coordinator", "admin")
STAFF_ROLES = ("manager", "coordinator", "admin")

institution_manager = Table(
    "institution_manager",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("institution_id", ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True),
)

coordinator_governorate = Table(
    "coordinator_governorate",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("governorate_id", ForeignKey("governorate.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """Anyone who logs in: a volunteer, a care-home manager, a coordinator or an admin."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('volunteer', 'manager', 'coordinator', 'admin')", name="role_known"
        ),
        CheckConstraint("locale IS NULL OR locale IN ('ar', 'en')", name="locale_known"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="volunteer", index=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    national_scope: Mapped[bool] = mapped_column(Boolean, default=False)
    # Monitoring role of a coordinator (set by admins): reads and handles monitoring reports.
    can_monitor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    # An accredited monitor (a volunteer): may join monitoring-visit programmes and file reports.
    monitor_accredited: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa.false()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the session's user id (get_id): bumping it ends every session and remember-me cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when a volunteer erased their account: the row stays (hours, rosters) without a person.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped[VolunteerProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )
    managed_institutions: Mapped[list[Institution]] = relationship(
        secondary=institution_manager, back_populates="managers", order_by="Institution.id"
    )
    governorates: Mapped[list[Governorate]] = relationship(
        secondary=coordinator_governorate, order_by="Governorate.id"
    )

    def get_id(self) -> str:
        """Flask-Login's id ``"<id>.<session_version>"``: a password change ends old sessions."""
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Make every session and remember-me cookie of this user stop working."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_monitoring_coordinator(self) -> bool:
        """A coordinator or admin given the monitoring role: sees monitoring reports."""
        return self.role in ("coordinator", "admin") and bool(self.can_monitor) and self.active

    def governorate_ids(self) -> set[int] | None:
        """Governorates a coordinator may see; ``None`` means the whole country."""
        if self.role == "admin" or self.national_scope:
            return None
        return {g.id for g in self.governorates}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
