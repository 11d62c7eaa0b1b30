"""Accreditation: credential types, volunteers' credentials, shift requirements, calendar feeds."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.i18n import localized
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.upload import UploadedFile
    from web.models.user import User

CREDENTIAL_STATUSES = ("pending", "verified", "rejected")

shift_credential_requirement = Table(
    "shift_credential_requirement",
    db.metadata,
    Column("shift_id", ForeignKey("shift.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "credential_type_id", ForeignKey("credential_type.id", ondelete="CASCADE"), primary_key=True
    ),
)


class CredentialType(db.Model):
    """A kind of accreditation (first aid, child safeguarding...), seeded by a migration."""

    __tablename__ = "credential_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)


class VolunteerCredential(db.Model):
    """A credential a volunteer declared, with its document; it counts once verified, until expiry.

    ``expires_on`` is the last day it is valid (None: it never expires).
    """

    __tablename__ = "volunteer_credential"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'verified', 'rejected')", name="status_known"),
        CheckConstraint(
            "expires_on IS NULL OR expires_on >= issued_on", name="expires_after_issue"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_type_id: Mapped[int] = mapped_column(ForeignKey("credential_type.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("uploaded_file.id", ondelete="SET NULL"), index=True
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    credential_type: Mapped[CredentialType] = relationship()
    document: Mapped[UploadedFile | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    def is_valid_on(self, day: date) -> bool:
        """Verified and not expired on ``day``."""
        return self.status == "verified" and (self.expires_on is None or self.expires_on >= day)


class CalendarFeed(db.Model):
    """A volunteer's private iCal feed: only the SHA-256 of its random token is kept."""

    __tablename__ = "calendar_feed"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
