"""Monitoring visits: checklists per institution kind, filing reports, who may read them, workflow.

A report is visible ONLY to its author and to coordinators with the monitoring role whose scope
holds the institution (``can_read_report``): never to the institution's managers. Every view
and every change writes an AuditEvent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from web.extensions import db
from web.models import (
    CHECK_ANSWERS,
    REPORT_STATUSES,
    SEVERITIES,
    Assignment,
    Institution,
    MonitoringReport,
    MonitoringReportEvent,
    MonitoringReportPhoto,
    Opportunity,
    Shift,
    User,
    utcnow,
)
from web.models.programme import Cohort, Programme
from web.services import uploads
from web.services.audit import record
from web.services.shifts import RuleError

NOTES_MAX = 5000
NOTE_MAX = 2000
MAX_PHOTOS = 5
PHOTO_KIND = "report_photo"
# Assignment states of a monitor who went (or is going) on the visit.
VISIT_STATES = ("confirmed", "attended")
# The workflow: submitted -> under review -> referred -> closed (or closed after review).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submitted": ("under_review",),
    "under_review": ("referred", "closed"),
    "referred": ("closed",),
    "closed": (),
}
OPEN_STATUSES = ("submitted", "under_review", "referred")

# The checklist, defined once: items every visit checks, then items of each institution kind.
COMMON_ITEMS: tuple[tuple[str, Any], ...] = (
    ("clean_safe_building", _l("The building is clean and safe (exits, electricity, water).")),
    ("enough_staff", _l("There are enough carers on duty for the residents present.")),
    ("food_water", _l("Meals and drinking water are sufficient and hygienic.")),
    ("health_care", _l("Medicines are stored safely and health records are kept.")),
    ("dignity_respect", _l("Residents are treated with dignity; no humiliation or violence.")),
    ("complaints", _l("Residents know how to complain and can speak freely.")),
)
KIND_ITEMS: dict[str, tuple[tuple[str, Any], ...]] = {
    "orphanage": (
        ("schooling", _l("Children of school age go to school.")),
        ("safeguarding_policy", _l("A child safeguarding policy is posted and known to staff.")),
        ("age_separation", _l("Sleeping areas are separated by age and sex.")),
        ("play_time", _l("Children have time and space to play.")),
    ),
    "elderly_home": (
        ("mobility_aids", _l("Walking aids, grab bars and ramps are in place.")),
        ("bedsores", _l("Bedridden residents are turned and free of bedsores.")),
        ("family_visits", _l("Families may visit and residents may go out.")),
    ),
    "disability_centre": (
        ("accessibility", _l("Rooms, toilets and entrances are accessible.")),
        ("therapy", _l("Residents receive the therapy and rehabilitation they need.")),
        ("no_restraint", _l("No one is tied, locked in or restrained without a medical order.")),
    ),
    "other": (),
}


def checklist_for(kind: str) -> tuple[tuple[str, Any], ...]:
    """The items (code, label) a visit to an institution of this kind checks."""
    return COMMON_ITEMS + KIND_ITEMS.get(kind, ())


def item_labels() -> dict[str, Any]:
    """Every checklist item's label by code."""
    labels = dict(COMMON_ITEMS)
    for items in KIND_ITEMS.values():
        labels.update(items)
    return labels


# --- who may see -------------------------------------------------------------------------------


def in_monitoring_scope(user: User, institution: Institution) -> bool:
    """A coordinator with the monitoring role whose scope holds the institution."""
    if not user.is_authenticated or not getattr(user, "is_monitoring_coordinator", False):
        return False
    scope = user.governorate_ids()
    return scope is None or institution.governorate_id in scope


def can_read_report(user: User, report: MonitoringReport) -> bool:
    """The ONE rule: the author, or a monitoring coordinator in scope. Never anyone else."""
    if not user.is_authenticated or not user.active:
        return False
    if report.author_id is not None and report.author_id == user.id:
        return True
    return in_monitoring_scope(user, report.institution)


def can_handle_report(user: User, report: MonitoringReport) -> bool:
    """Moving a report through its workflow: monitoring coordinators in scope only."""
    return in_monitoring_scope(user, report.institution)


# --- visits ------------------------------------------------------------------------------------


def is_visit_shift(shift: Shift) -> bool:
    """A shift of a monitoring-visits programme's cohort."""
    return (
        db.session.scalar(
            sa.select(Programme.id)
            .join(Cohort, Cohort.programme_id == Programme.id)
            .join(Opportunity, Opportunity.cohort_id == Cohort.id)
            .where(Opportunity.id == shift.opportunity_id, Programme.kind == "monitoring_visits")
        )
        is not None
    )


def my_visits(user: User, limit: int = 50) -> list[Shift]:
    """Monitoring-visit shifts the volunteer holds a place on, latest first."""
    return list(
        db.session.scalars(
            sa.select(Shift)
            .join(Assignment, Assignment.shift_id == Shift.id)
            .join(Opportunity, Opportunity.id == Shift.opportunity_id)
            .join(Cohort, Cohort.id == Opportunity.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .where(
                Assignment.volunteer_id == user.id,
                Assignment.state.in_(VISIT_STATES),
                Programme.kind == "monitoring_visits",
                Shift.status == "open",
            )
            .order_by(Shift.starts_at.desc(), Shift.id.desc())
            .limit(limit)
        )
    )


def visit_refusal(user: User, shift: Shift, now: datetime | None = None) -> Any | None:
    """Why this user may not file a report for this visit (None: they may)."""
    now = now or utcnow()
    if not is_visit_shift(shift):
        return _l("This shift is not a monitoring visit.")
    held = db.session.scalar(
        sa.select(Assignment.id).where(
            Assignment.shift_id == shift.id,
            Assignment.volunteer_id == user.id,
            Assignment.state.in_(VISIT_STATES),
        )
    )
    if held is None:
        return _l("Only the monitors of this visit can report on it.")
    if shift.starts_at > now:
        return _l("You can file the report once the visit has started.")
    return None


# --- filing ------------------------------------------------------------------------------------


@dataclass
class ReportInput:
    """A report form: checklist answers by item code, notes, severity and photo files."""

    answers: Mapping[str, str]
    notes: str
    severity: str
    photos: list[Any] = field(default_factory=list)


def file_report(
    author: User, shift: Shift, data: ReportInput, now: datetime | None = None
) -> MonitoringReport:
    """Check everything, store the photos and the report in one transaction, audited."""
    now = now or utcnow()
    refusal = visit_refusal(author, shift, now)
    if refusal is not None:
        raise RuleError([(None, refusal)], 403)
    institution = shift.institution
    items = checklist_for(institution.kind)
    errors: list[tuple[str | None, Any]] = []
    checklist: dict[str, str] = {}
    for code, _label in items:
        answer = data.answers.get(code)
        if answer not in CHECK_ANSWERS:
            errors.append((f"check_{code}", _l("Answer this question.")))
        else:
            checklist[code] = answer
    unknown = set(data.answers) - {code for code, _ in items}
    if unknown:
        errors.append((None, _l("The form has questions that are not on this checklist.")))
    if data.severity not in SEVERITIES:
        errors.append(("severity", _l("Choose how serious it is from the list.")))
    notes = data.notes.strip()
    if len(notes) > NOTES_MAX:
        errors.append(("notes", _l("Keep this under %(max)s characters.", max=NOTES_MAX)))
    if data.severity in ("serious", "critical") and not notes:
        errors.append(("notes", _l("Describe what you saw: the report says it is serious.")))
    photos = [p for p in data.photos if p is not None and getattr(p, "filename", "x")]
    if len(photos) > MAX_PHOTOS:
        errors.append(("photos", _l("Attach at most %(max)s photos.", max=MAX_PHOTOS)))
    if errors:
        raise RuleError(errors)
    try:
        report = MonitoringReport(
            author_id=author.id,
            institution_id=institution.id,
            shift_id=shift.id,
            visited_at=shift.starts_at,
            institution_kind=institution.kind,
            checklist=checklist,
            notes=notes,
            severity=data.severity,
            status="submitted",
            created_at=now,
            updated_at=now,
        )
        db.session.add(report)
        for photo in photos:
            upload = uploads.save_upload(photo, PHOTO_KIND, owner=author)
            report.photos.append(MonitoringReportPhoto(upload=upload))
        report.events.append(
            MonitoringReportEvent(
                actor_id=author.id, from_status=None, to_status="submitted", at=now
            )
        )
        db.session.flush()
        record(
            author,
            "monitoring_report.submit",
            "monitoring_report",
            report.id,
            institution_id=institution.id,
            shift_id=shift.id,
            severity=data.severity,
            photos=len(photos),
        )
        db.session.commit()
    except uploads.UploadError as exc:
        db.session.rollback()
        raise RuleError([("photos", exc.message)]) from exc
    except BaseException:
        db.session.rollback()
        raise
    return report


# --- reading (every read audited) --------------------------------------------------------------


def _audit_read(actor: User, action: str, report_id: int | None, **details: Any) -> None:
    record(actor, action, "monitoring_report", report_id, **details)
    db.session.commit()


def view_report(actor: User, report: MonitoringReport) -> MonitoringReport:
    """The report for a reader allowed to see it; the view is audited. LookupError otherwise."""
    if not can_read_report(actor, report):
        raise LookupError(report.id)
    _audit_read(actor, "monitoring_report.view", report.id)
    return report


def view_photo(actor: User, report: MonitoringReport, photo_id: int) -> MonitoringReportPhoto:
    """A photo of a report the reader may see (audited). LookupError otherwise."""
    if not can_read_report(actor, report):
        raise LookupError(report.id)
    photo = next((p for p in report.photos if p.id == photo_id), None)
    if photo is None:
        raise LookupError(photo_id)
    _audit_read(actor, "monitoring_report.photo_view", report.id, photo_id=photo_id)
    return photo


@dataclass(frozen=True)
class ReportFilters:
    """Filters of the coordinators' list (already validated; None = any)."""

    governorate_id: int | None = None
    severity: str | None = None
    status: str | None = None  # None: every open status


def reports_for_coordinator(actor: User, filters: ReportFilters) -> list[MonitoringReport]:
    """Reports a monitoring coordinator may see, newest and most serious first (audited)."""
    if not getattr(actor, "is_monitoring_coordinator", False):
        raise LookupError("not a monitoring coordinator")
    query = (
        sa.select(MonitoringReport)
        .join(Institution, Institution.id == MonitoringReport.institution_id)
        .options(joinedload(MonitoringReport.institution), joinedload(MonitoringReport.author))
    )
    scope = actor.governorate_ids()
    if scope is not None:
        query = query.where(Institution.governorate_id.in_(sorted(scope)))
    if filters.governorate_id is not None:
        query = query.where(Institution.governorate_id == filters.governorate_id)
    if filters.severity is not None:
        query = query.where(MonitoringReport.severity == filters.severity)
    if filters.status is not None:
        query = query.where(MonitoringReport.status == filters.status)
    else:
        query = query.where(MonitoringReport.status.in_(OPEN_STATUSES))
    severity_rank = sa.case(
        {s: i for i, s in enumerate(reversed(SEVERITIES))}, value=MonitoringReport.severity
    )
    rows = list(
        db.session.scalars(
            query.order_by(severity_rank, MonitoringReport.created_at.desc()).limit(500)
        ).unique()
    )
    _audit_read(
        actor,
        "monitoring_report.list",
        None,
        governorate_id=filters.governorate_id,
        severity=filters.severity,
        status=filters.status,
        shown=[r.id for r in rows],
    )
    return rows


def reports_by(author: User) -> list[MonitoringReport]:
    """The author's own reports, newest first."""
    return list(
        db.session.scalars(
            sa.select(MonitoringReport)
            .where(MonitoringReport.author_id == author.id)
            .order_by(MonitoringReport.created_at.desc(), MonitoringReport.id.desc())
        )
    )


def parse_filters(args: Mapping[str, str], governorate_ids: Iterable[int]) -> ReportFilters:
    """Filters from the query string; unknown values are ignored (the list shows everything)."""
    raw = (args.get("governorate") or "").strip()
    governorate = int(raw) if raw.isdigit() and int(raw) in set(governorate_ids) else None
    severity = args.get("severity") if args.get("severity") in SEVERITIES else None
    status = args.get("status") if args.get("status") in REPORT_STATUSES else None
    return ReportFilters(governorate_id=governorate, severity=severity, status=status)


# --- workflow ----------------------------------------------------------------------------------


def move(
    actor: User,
    report: MonitoringReport,
    to_status: str,
    note: str = "",
    now: datetime | None = None,
) -> MonitoringReport:
    """Move a report one step along its workflow, with a note (required to refer or close)."""
    now = now or utcnow()
    if not can_handle_report(actor, report):
        raise LookupError(report.id)
    db.session.refresh(report)
    note = note.strip()
    errors: list[tuple[str | None, Any]] = []
    if to_status not in TRANSITIONS.get(report.status, ()):
        raise RuleError([(None, _l("A report cannot move to that step from where it is."))], 409)
    if len(note) > NOTE_MAX:
        errors.append(("note", _l("Keep this under %(max)s characters.", max=NOTE_MAX)))
    if to_status in ("referred", "closed") and not note:
        errors.append(("note", _l("Write a note: to whom it was referred, or why it is closed.")))
    if errors:
        raise RuleError(errors)
    before = report.status
    report.status = to_status
    report.updated_at = now
    report.events.append(
        MonitoringReportEvent(
            actor_id=actor.id, from_status=before, to_status=to_status, note=note, at=now
        )
    )
    record(
        actor,
        "monitoring_report.move",
        "monitoring_report",
        report.id,
        before=before,
        after=to_status,
        note=note,
    )
    db.session.commit()
    return report


# --- the monitoring role -----------------------------------------------------------------------


def set_monitoring_role(actor: User, user: User, enabled: bool) -> User:
    """An admin gives (or takes back) a coordinator's monitoring role."""
    if actor.role != "admin":
        raise RuleError([(None, _l("Only administrators can change the monitoring role."))], 403)
    if user.role not in ("coordinator", "admin"):
        raise RuleError([(None, _l("Only coordinators can have the monitoring role."))])
    before = bool(user.can_monitor)
    user.can_monitor = enabled
    record(actor, "user.monitoring_role", "user", user.id, before=before, enabled=enabled)
    db.session.commit()
    return user


def coordinators() -> list[User]:
    """Coordinators and admins, for the monitoring role page."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(("coordinator", "admin")), User.active.is_(True))
            .order_by(User.full_name, User.id)
        )
    )


def report_for_shift(author: User, shift: Shift) -> MonitoringReport | None:
    """The author's latest report on this visit, if any."""
    return db.session.scalars(
        sa.select(MonitoringReport)
        .where(MonitoringReport.shift_id == shift.id, MonitoringReport.author_id == author.id)
        .order_by(MonitoringReport.id.desc())
        .limit(1)
    ).first()
