"""Monitoring reports of care-home visits: checklist, notes, photos, severity and workflow."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.institution import Institution
    from web.models.opportunity import Shift
    from web.models.upload import UploadedFile
    from web.models.user import User

REPORT_STATUSES = ("submitted", "under_review", "referred", "closed")
SEVERITIES = ("none", "minor", "serious", "critical")
CHECK_ANSWERS = ("yes", "no", "not_seen")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class MonitoringReport(db.Model):
    """What a monitor saw on a visit. Only its author and monitoring coordinators may read it."""

    __tablename__ = "monitoring_report"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(REPORT_STATUSES)})", name="status_known"),
        CheckConstraint(f"severity IN ({_in(SEVERITIES)})", name="severity_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("shift.id", ondelete="SET NULL"), index=True
    )
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    institution_kind: Mapped[str] = mapped_column(String(30))
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(15), default="submitted", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship()
    institution: Mapped[Institution] = relationship()
    shift: Mapped[Shift | None] = relationship()
    photos: Mapped[list[MonitoringReportPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="MonitoringReportPhoto.id"
    )
    events: Mapped[list[MonitoringReportEvent]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="MonitoringReportEvent.id"
    )


class MonitoringReportPhoto(db.Model):
    """A photo attached to a report (the file is kept by web.services.uploads)."""

    __tablename__ = "monitoring_report_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_report.id", ondelete="CASCADE"), index=True
    )
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploaded_file.id"), unique=True)

    report: Mapped[MonitoringReport] = relationship(back_populates="photos")
    upload: Mapped[UploadedFile] = relationship()


class MonitoringReportEvent(db.Model):
    """One step of a report's workflow, with the coordinator's note."""

    __tablename__ = "monitoring_report_event"
    __table_args__ = (
        CheckConstraint(f"to_status IN ({_in(REPORT_STATUSES)})", name="to_status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("monitoring_report.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(15))
    to_status: Mapped[str] = mapped_column(String(15))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[MonitoringReport] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
