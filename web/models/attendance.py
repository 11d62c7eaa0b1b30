"""Attendance: check-in and check-out per assignment, the append-only hours ledger, certificates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.assignment import Assignment
    from web.models.opportunity import Shift
    from web.models.user import User

# How a check-in, a check-out or a ledger entry was made.
CHECK_SOURCES = ("manager", "qr")
HOURS_SOURCES = ("manager", "qr", "correction")
CERTIFICATE_LANGUAGES = ("ar", "en")


class AttendanceRecord(db.Model):
    """When a volunteer on a shift arrived and left, and who recorded it (one per assignment)."""

    __tablename__ = "attendance_record"
    __table_args__ = (
        CheckConstraint("check_in_source IN ('manager', 'qr')", name="check_in_source_known"),
        CheckConstraint(
            "check_out_source IS NULL OR check_out_source IN ('manager', 'qr')",
            name="check_out_source_known",
        ),
        CheckConstraint(
            "(checked_out_at IS NULL) = (check_out_source IS NULL)", name="check_out_complete"
        ),
        CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="out_after_in"
        ),
    )

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True
    )
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_source: Mapped[str] = mapped_column(String(10))
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_source: Mapped[str | None] = mapped_column(String(10))
    checked_out_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )

    assignment: Mapped[Assignment] = relationship()


class HoursEntry(db.Model):
    """One line of the hours ledger; never changed or deleted: a correction is a new line."""

    __tablename__ = "hours_entry"
    __table_args__ = (
        CheckConstraint("source IN ('manager', 'qr', 'correction')", name="source_known"),
        CheckConstraint("minutes BETWEEN -1440 AND 1440", name="minutes_range"),
        CheckConstraint("source = 'correction' OR minutes >= 0", name="only_corrections_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    shift: Mapped[Shift] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class Certificate(db.Model):
    """An issued hours certificate: its public code and a frozen copy of what it says."""

    __tablename__ = "certificate"
    __table_args__ = (CheckConstraint("language IN ('ar', 'en')", name="language_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the certificate says, as issued: name, minutes, period, places and programmes.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    volunteer: Mapped[User] = relationship()


class ImmutableRowError(RuntimeError):
    """An append-only row (ledger line, certificate) was about to be changed or deleted."""


def _refuse_change(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableRowError(f"{type(target).__name__} rows are never changed or deleted")


for _model in (HoursEntry, Certificate):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
