"""Opportunities (a described need at an institution), their shifts and weekly shift series."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.i18n import localized
from web.models.base import UTCDateTime, utcnow
from web.models.credential import shift_credential_requirement

if TYPE_CHECKING:
    from web.models.assignment import Assignment
    from web.models.credential import CredentialType
    from web.models.institution import Institution
    from web.models.programme import Cohort
    from web.models.reference import Skill
    from web.models.user import User

OPPORTUNITY_STATUSES = ("draft", "open", "closed")
SHIFT_STATUSES = ("open", "cancelled")
GENDER_RULES = ("any", "female", "male")

opportunity_skill = Table(
    "opportunity_skill",
    db.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
)


class Opportunity(db.Model):
    """A named, described need at an institution, e.g. weekly tutoring for girls aged 10-14."""

    __tablename__ = "opportunity"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    requirements_ar: Mapped[str] = mapped_column(Text, default="")
    requirements_en: Mapped[str] = mapped_column(Text, default="")
    commitment_ar: Mapped[str] = mapped_column(String(300), default="")
    commitment_en: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    # The programme cohort whose sessions this opportunity holds: its shifts are open only to
    # the cohort's accepted volunteers (web.services.programme_access).
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohort.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship(back_populates="opportunities")
    cohort: Mapped[Cohort | None] = relationship(back_populates="opportunities")
    skills: Mapped[list[Skill]] = relationship(secondary=opportunity_skill, order_by="Skill.id")
    shifts: Mapped[list[Shift]] = relationship(
        back_populates="opportunity", order_by="Shift.starts_at"
    )
    series: Mapped[list[ShiftSeries]] = relationship(back_populates="opportunity")
    created_by: Mapped[User | None] = relationship()

    @property
    def title(self) -> str:
        return localized(self.title_ar, self.title_en)

    @property
    def description(self) -> str:
        return localized(self.description_ar, self.description_en)

    @property
    def requirements(self) -> str:
        return localized(self.requirements_ar, self.requirements_en)

    @property
    def commitment(self) -> str:
        return localized(self.commitment_ar, self.commitment_en)


class OpportunityInterest(db.Model):
    """A volunteer's expressed interest in an opportunity."""

    __tablename__ = "opportunity_interest"
    __table_args__ = (UniqueConstraint("opportunity_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShiftSeries(db.Model):
    """A weekly recurrence: the same shift on one weekday for a number of weeks, with exceptions."""

    __tablename__ = "shift_series"
    __table_args__ = (
        CheckConstraint("weeks BETWEEN 1 AND 104", name="weeks_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    excluded_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    opportunity: Mapped[Opportunity] = relationship(back_populates="series")
    shifts: Mapped[list[Shift]] = relationship(back_populates="series", order_by="Shift.starts_at")


class Shift(db.Model):
    """A dated block of help at an institution: times in UTC, shown in the institution's zone."""

    __tablename__ = "shift"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("needed >= 1 AND needed <= 500", name="needed_range"),
        CheckConstraint("open_places >= 0 AND open_places <= needed", name="open_places_range"),
        CheckConstraint(
            "open_taken >= 0 AND open_taken <= open_places", name="open_not_overbooked"
        ),
        CheckConstraint("gender IN ('any', 'female', 'male')", name="gender_known"),
        CheckConstraint("min_age >= 0 AND min_age <= 120", name="min_age_range"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("status IN ('open', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunity.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("shift_series.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    needed: Mapped[int] = mapped_column(Integer)
    # Places not reserved for a skill, and how many of them are taken: the conditional UPDATE
    # on these counters is what keeps concurrent sign-ups from overbooking.
    open_places: Mapped[int] = mapped_column(Integer)
    open_taken: Mapped[int] = mapped_column(Integer, default=0)
    gender: Mapped[str] = mapped_column(String(10), default="any")
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    description_ar: Mapped[str] = mapped_column(String(500), default="")
    description_en: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    opportunity: Mapped[Opportunity] = relationship(back_populates="shifts")
    institution: Mapped[Institution] = relationship()
    series: Mapped[ShiftSeries | None] = relationship(back_populates="shifts")
    requirements: Mapped[list[ShiftSkillRequirement]] = relationship(
        back_populates="shift", cascade="all, delete-orphan", order_by="ShiftSkillRequirement.id"
    )
    # Credential types a volunteer must hold, verified and unexpired, to take any place.
    required_credentials: Mapped[list[CredentialType]] = relationship(
        secondary=shift_credential_requirement, order_by="CredentialType.id"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="shift", order_by="Assignment.id"
    )

    @property
    def description(self) -> str:
        return localized(self.description_ar, self.description_en)

    @property
    def taken(self) -> int:
        return self.open_taken + sum(r.taken for r in self.requirements)

    @property
    def free(self) -> int:
        return self.needed - self.taken

    @property
    def duration_hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class ShiftSkillRequirement(db.Model):
    """Places of a shift reserved for holders of one skill, with their own taken counter."""

    __tablename__ = "shift_skill_requirement"
    __table_args__ = (
        UniqueConstraint("shift_id", "skill_id"),
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint("taken >= 0 AND taken <= places", name="not_overbooked"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id"))
    places: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)

    shift: Mapped[Shift] = relationship(back_populates="requirements")
    skill: Mapped[Skill] = relationship()
