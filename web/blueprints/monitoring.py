"""Monitoring pages: monitors file visit reports from a phone; monitoring coordinators handle them.

Every report URL answers 404 to anyone who may not read the report (its institution's managers
included), so that not even its existence leaks; the lists are 403 to anyone without the role.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from web.authz import role_required
from web.extensions import db
from web.forms.monitoring import MoveForm, ReportForm
from web.forms.programmes import ConfirmForm
from web.labels import (
    CHECK_ANSWER_LABELS,
    KIND_LABELS,
    REPORT_STATUS_LABELS,
    SEVERITY_LABELS,
)
from web.models import (
    CHECK_ANSWERS,
    REPORT_STATUSES,
    SEVERITIES,
    Governorate,
    MonitoringReport,
    Shift,
    User,
)
from web.security import large_upload
from web.services import monitoring as service
from web.services import uploads
from web.services.shifts import RuleError

bp = Blueprint("monitoring", __name__, url_prefix="/monitoring")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "severity_labels": SEVERITY_LABELS,
        "report_status_labels": REPORT_STATUS_LABELS,
        "answer_labels": CHECK_ANSWER_LABELS,
        "check_answers": CHECK_ANSWERS,
        "kind_labels": KIND_LABELS,
        "item_labels": service.item_labels(),
    }


def _report(report_id: int) -> MonitoringReport:
    """The report, for a reader allowed to see it; 404 for anyone else (managers included)."""
    report = db.session.get(MonitoringReport, report_id)
    if report is None or not service.can_read_report(current_user, report):
        abort(404)
    return report


def _visit(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        abort(404)
    return shift


# --- monitors ----------------------------------------------------------------------------------


@bp.get("/visits")
@role_required("volunteer")
def visits() -> str:
    """The monitor's visits and the reports they filed."""
    return render_template(
        "monitoring/visits.html",
        visits=service.my_visits(current_user),
        reports=service.reports_by(current_user),
    )


def _render_report_form(shift: Shift, form: ReportForm, answers: dict[str, str], status: int):
    return render_template(
        "monitoring/report_form.html",
        shift=shift,
        form=form,
        items=service.checklist_for(shift.institution.kind),
        answers=answers,
        errors=getattr(form, "item_errors", {}),
        max_photos=service.MAX_PHOTOS,
        photo_limit=uploads.format_size(uploads.max_bytes(service.PHOTO_KIND)),
    ), status


@bp.route("/visits/<int:visit_id>/report", methods=["GET", "POST"])
@role_required("volunteer")
@large_upload
def report_new(visit_id: int) -> Response | tuple[str, int]:
    """File the report of a visit: the institution kind's checklist, notes, severity, photos."""
    shift = _visit(visit_id)
    refusal = service.visit_refusal(current_user, shift)
    if refusal is not None:
        abort(404 if not service.is_visit_shift(shift) else 403)
    form = ReportForm()
    answers = {
        code: request.form.get(f"check_{code}", "")
        for code, _label in service.checklist_for(shift.institution.kind)
    }
    if request.method == "GET":
        return _render_report_form(shift, form, {}, 200)
    if not form.validate_on_submit():
        return _render_report_form(shift, form, answers, 400)
    data = service.ReportInput(
        answers={code: value for code, value in answers.items() if value},
        notes=form.notes.data or "",
        severity=form.severity.data or "",
        photos=[f for f in request.files.getlist(form.photos.name) if f and f.filename],
    )
    try:
        report = service.file_report(current_user, shift, data)
    except RuleError as exc:
        item_errors = {}
        for name, message in exc.errors:
            if name and name.startswith("check_"):
                item_errors[name[len("check_") :]] = message
            elif name and name in form:
                form[name].errors = [*form[name].errors, message]
            else:
                form.form_errors.append(message)
        form.item_errors = item_errors  # type: ignore[attr-defined]
        return _render_report_form(shift, form, answers, exc.status)
    flash(_("Thank you. Your report was sent to the monitoring coordinators."), "success")
    return redirect(url_for("monitoring.report", report_id=report.id))


# --- reading -----------------------------------------------------------------------------------


@bp.get("/reports")
@role_required("coordinator", "admin")
def reports() -> str:
    """Open reports in the coordinator's scope, filtered by governorate, severity and status."""
    if not current_user.is_monitoring_coordinator:
        abort(403)
    scope = current_user.governorate_ids()
    governorates = db.session.scalars(
        sa.select(Governorate)
        .where(sa.true() if scope is None else Governorate.id.in_(sorted(scope)))
        .order_by(Governorate.id)
    ).all()
    filters = service.parse_filters(request.args, [g.id for g in governorates])
    return render_template(
        "monitoring/reports.html",
        reports=service.reports_for_coordinator(current_user, filters),
        filters=filters,
        governorates=governorates,
        severities=SEVERITIES,
        statuses=REPORT_STATUSES,
    )


@bp.get("/reports/<int:report_id>")
@role_required("volunteer", "coordinator", "admin")
def report(report_id: int) -> str:
    """One report, for its author or a monitoring coordinator in scope (the view is audited)."""
    item = _report(report_id)
    service.view_report(current_user, item)
    handles = service.can_handle_report(current_user, item)
    form = MoveForm()
    steps = service.TRANSITIONS.get(item.status, ())
    form.to_status.choices = [c for c in form.to_status.choices if c.value in steps]
    return render_template(
        "monitoring/report.html",
        report=item,
        handles=handles,
        form=form,
        steps=steps,
        items=service.checklist_for(item.institution_kind),
    )


@bp.get("/reports/<int:report_id>/photos/<int:photo_id>")
@role_required("volunteer", "coordinator", "admin")
def photo(report_id: int, photo_id: int) -> Response:
    """A report's photo, served only to those who may read the report (audited)."""
    item = _report(report_id)
    try:
        found = service.view_photo(current_user, item, photo_id)
    except LookupError:
        abort(404)
    return uploads.send_upload(found.upload)


@bp.post("/reports/<int:report_id>/move")
@role_required("coordinator", "admin")
def move(report_id: int) -> Response | tuple[str, int]:
    """Move a report to its next step, with a note."""
    item = _report(report_id)
    if not service.can_handle_report(current_user, item):
        abort(404)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.move(current_user, item, form.to_status.data or "", form.note.data or "")
    except RuleError as exc:
        db.session.rollback()
        for _field, message in exc.errors:
            flash(message, "error")
        return redirect(url_for("monitoring.report", report_id=item.id))
    flash(_("The report moved to the next step."), "success")
    return redirect(url_for("monitoring.report", report_id=item.id))


# --- the monitoring role -----------------------------------------------------------------------


@bp.get("/roles")
@role_required("admin")
def roles() -> str:
    """Admins give coordinators the monitoring role."""
    return render_template(
        "monitoring/roles.html", people=service.coordinators(), form=ConfirmForm()
    )


@bp.post("/roles/<int:user_id>")
@role_required("admin")
def role_toggle(user_id: int) -> Response:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.set_monitoring_role(current_user, user, not user.can_monitor)
    except RuleError as exc:
        db.session.rollback()
        for _field, message in exc.errors:
            flash(message, "error")
        return redirect(url_for("monitoring.roles"))
    flash(_("Saved."), "success")
    return redirect(url_for("monitoring.roles"))
