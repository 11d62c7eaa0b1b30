"""Programmes: their institutions, cohorts and the volunteers' enrolments in a cohort."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.i18n import localized
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.credential import CredentialType
    from web.models.institution import Institution
    from web.models.opportunity import Opportunity
    from web.models.reference import Governorate
    from web.models.user import User

PROGRAMME_KINDS = (
    "mentoring",
    "psychosocial_support",
    "sports",
    "choir",
    "tutoring",
    "monitoring_visits",
)
PROGRAMME_STATUSES = ("open", "closed")
COHORT_STATUSES = ("open", "closed")
ENROLMENT_STATUSES = ("applied", "accepted", "waitlisted", "rejected", "withdrawn")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


programme_institution = Table(
    "programme_institution",
    db.metadata,
    Column("programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True),
    Column("institution_id", ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True),
)

# Credential types every volunteer of the programme must hold (verified, unexpired) on each of
# its shifts: the programme's shifts require them (web.services.programme_access).
programme_credential_requirement = Table(
    "programme_credential_requirement",
    db.metadata,
    Column("programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "credential_type_id", ForeignKey("credential_type.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Programme(db.Model):
    """A programme run by coordinators, e.g. weekly choir for children in Cairo's orphanages."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(PROGRAMME_KINDS)})", name="kind_known"),
        CheckConstraint(f"status IN ({_in(PROGRAMME_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    governorate_id: Mapped[int] = mapped_column(ForeignKey("governorate.id"), index=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    governorate: Mapped[Governorate] = relationship()
    institutions: Mapped[list[Institution]] = relationship(
        secondary=programme_institution, order_by="Institution.id"
    )
    required_credentials: Mapped[list[CredentialType]] = relationship(
        secondary=programme_credential_requirement, order_by="CredentialType.id"
    )
    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="programme", order_by="(Cohort.starts_on, Cohort.id)"
    )

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)

    @property
    def description(self) -> str:
        return localized(self.description_ar, self.description_en)


class Cohort(db.Model):
    """One intake of a programme: its dates and how many volunteers it accepts."""

    __tablename__ = "cohort"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
        CheckConstraint(f"status IN ({_in(COHORT_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="cohorts")
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="cohort", order_by="Enrolment.id"
    )
    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="cohort", order_by="Opportunity.id"
    )

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)


class Enrolment(db.Model):
    """A volunteer's application to a cohort and the coordinator's decision on it."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("cohort_id", "volunteer_id"),
        CheckConstraint(f"status IN ({_in(ENROLMENT_STATUSES)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    motivation: Mapped[str] = mapped_column(Text, default="")
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
