"""Volunteer profiles: skills, languages, home, radius, caps, consent and weekly availability."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.institution import Institution
    from web.models.reference import Governorate, Skill
    from web.models.user import User

GENDERS = ("female", "male")
LANGUAGES = ("ar", "en", "fr", "de", "es", "it", "tr", "ur", "sgn")

volunteer_skill = Table(
    "volunteer_skill",
    db.metadata,
    Column("profile_id", ForeignKey("volunteer_profile.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skill.id", ondelete="CASCADE"), primary_key=True),
)

volunteer_preferred_institution = Table(
    "volunteer_preferred_institution",
    db.metadata,
    Column("profile_id", ForeignKey("volunteer_profile.id", ondelete="CASCADE"), primary_key=True),
    Column("institution_id", ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True),
)


class VolunteerProfile(db.Model):
    """What the matcher needs to know about a volunteer, kept by the volunteer."""

    __tablename__ = "volunteer_profile"
    __table_args__ = (
        CheckConstraint("gender IS NULL OR gender IN ('female', 'male')", name="gender_known"),
        CheckConstraint("travel_radius_km >= 0 AND travel_radius_km <= 500", name="radius_range"),
        CheckConstraint(
            "max_shifts_per_week IS NULL OR max_shifts_per_week >= 0", name="shift_cap_positive"
        ),
        CheckConstraint(
            "max_hours_per_week IS NULL OR max_hours_per_week >= 0", name="hour_cap_positive"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    gender: Mapped[str | None] = mapped_column(String(10))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    governorate_id: Mapped[int | None] = mapped_column(ForeignKey("governorate.id"), index=True)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    travel_radius_km: Mapped[float] = mapped_column(Float, default=15.0)
    max_shifts_per_week: Mapped[int | None] = mapped_column(Integer)
    max_hours_per_week: Mapped[float | None] = mapped_column(Float)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Africa/Cairo")
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")
    governorate: Mapped[Governorate | None] = relationship()
    skills: Mapped[list[Skill]] = relationship(secondary=volunteer_skill, order_by="Skill.id")
    preferred_institutions: Mapped[list[Institution]] = relationship(
        secondary=volunteer_preferred_institution, order_by="Institution.id"
    )
    availability_rules: Mapped[list[AvailabilityRule]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="(AvailabilityRule.weekday, AvailabilityRule.start_time)",
    )
    availability_exceptions: Mapped[list[AvailabilityException]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="(AvailabilityException.day, AvailabilityException.start_time)",
    )

    def age_on(self, day: date) -> int | None:
        """Whole years of age on ``day``, or ``None`` when the date of birth is unknown."""
        born = self.date_of_birth
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class AvailabilityRule(db.Model):
    """A weekly window when the volunteer can help (weekday 0 = Monday, local time)."""

    __tablename__ = "availability_rule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profile.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    profile: Mapped[VolunteerProfile] = relationship(back_populates="availability_rules")


class AvailabilityException(db.Model):
    """A dated change to the weekly rules: unavailable that day, or extra hours that day."""

    __tablename__ = "availability_exception"
    __table_args__ = (
        UniqueConstraint("profile_id", "day", "start_time"),
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR "
            "(start_time IS NOT NULL AND end_time IS NOT NULL)",
            name="times_together",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profile.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")

    profile: Mapped[VolunteerProfile] = relationship(back_populates="availability_exceptions")
