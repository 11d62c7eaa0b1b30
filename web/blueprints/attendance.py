"""Attendance pages: check-in/out, the shift's QR code, hours, no-shows and certificates."""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from web.authz import require_institution, role_required
from web.certificate_pdf import hours_text, render
from web.extensions import db
from web.forms.attendance import CertificateForm, CorrectionForm, LookupForm
from web.models import Assignment, Certificate, Shift, User, utcnow
from web.services import attendance
from web.services import certificates as certificate_service
from web.services.attendance import AttendanceError
from web.services.certificates import CertificateError

bp = Blueprint("attendance", __name__)

STAFF = ("manager", "coordinator", "admin")


def _source_label(source: str) -> str:
    labels = {
        "manager": _("Recorded by the institution"),
        "qr": _("Scanned QR code"),
        "correction": _("Correction"),
    }
    return labels.get(source, source)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "hours_text": hours_text,
        "source_label": _source_label,
        "format_date": format_date,
        "format_percent": format_percent,
    }


def _assignment(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    require_institution(current_user, assignment.shift.institution)
    return assignment


def _back_to_roster(assignment: Assignment) -> Response:
    return redirect(url_for("manager.shift_roster", shift_id=assignment.shift_id), code=303)


# --- the manager on the roster ----------------------------------------------------------------


@bp.post("/manage/assignments/<int:assignment_id>/check-in")
@role_required(*STAFF)
def check_in(assignment_id: int) -> Response:
    """Check a confirmed volunteer in now."""
    assignment = _assignment(assignment_id)
    try:
        attendance.check_in(current_user, assignment)
    except AttendanceError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s is checked in.", name=assignment.volunteer.full_name), "success")
    return _back_to_roster(assignment)


@bp.post("/manage/assignments/<int:assignment_id>/check-out")
@role_required(*STAFF)
def check_out(assignment_id: int) -> Response:
    """Check a volunteer out now; their hours go into the ledger."""
    assignment = _assignment(assignment_id)
    try:
        entry = attendance.check_out(current_user, assignment)
    except AttendanceError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _(
                "%(name)s is checked out: %(hours)s hours recorded.",
                name=assignment.volunteer.full_name,
                hours=hours_text(entry.minutes),
            ),
            "success",
        )
    return _back_to_roster(assignment)


@bp.post("/manage/assignments/<int:assignment_id>/whole-shift")
@role_required(*STAFF)
def whole_shift(assignment_id: int) -> Response:
    """After the shift: record a confirmed volunteer as present for all of it."""
    assignment = _assignment(assignment_id)
    try:
        entry = attendance.record_whole_shift(current_user, assignment)
    except AttendanceError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _(
                "%(name)s is recorded as present: %(hours)s hours.",
                name=assignment.volunteer.full_name,
                hours=hours_text(entry.minutes),
            ),
            "success",
        )
    return _back_to_roster(assignment)


@bp.route("/manage/assignments/<int:assignment_id>/hours", methods=["GET", "POST"])
@role_required(*STAFF)
def hours(assignment_id: int) -> Response | tuple[str, int]:
    """A volunteer's ledger lines for a shift, and a correction (a new line, never an edit)."""
    assignment = _assignment(assignment_id)
    form = CorrectionForm()
    status = 200
    if form.validate_on_submit():
        try:
            attendance.add_correction(current_user, assignment, form.minutes.data, form.note.data)
        except AttendanceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.message))
            status = exc.status
        else:
            flash(_("The correction was added to the ledger."), "success")
            return redirect(url_for("attendance.hours", assignment_id=assignment.id), code=303)
    elif request.method == "POST":
        status = 400
    if status == 403:
        abort(403)
    shift = assignment.shift
    return (
        render_template(
            "attendance/hours.html",
            assignment=assignment,
            shift=shift,
            institution=shift.institution,
            opportunity=shift.opportunity,
            entries=attendance.ledger(assignment.volunteer_id, shift.id),
            total=attendance.shift_minutes(assignment.volunteer_id, shift.id),
            form=form,
        ),
        status,
    )


@bp.get("/manage/shifts/<int:shift_id>/qr")
@role_required(*STAFF)
def qr(shift_id: int) -> str:
    """The shift's QR code to show at the institution (an SVG drawn on the server)."""
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        abort(404)
    require_institution(current_user, shift.institution)
    url = attendance.qr_url(shift)
    svg = segno.make(url, error="m").svg_inline(
        scale=6, border=4, dark="#000", light="#fff", svgclass="qr-code", title=_("Check-in code")
    )
    return render_template(
        "attendance/qr.html",
        shift=shift,
        institution=shift.institution,
        opportunity=shift.opportunity,
        svg=svg,
        url=url,
        window=attendance.window(shift),
    )


# --- the volunteer --------------------------------------------------------------------------


@bp.route("/attend/<int:shift_id>/<scan_token>", methods=["GET", "POST"])
@role_required("volunteer")
def scan(shift_id: int, scan_token: str) -> Response | tuple[str, int]:
    """Where a shift's QR code leads: see what can be recorded, then check in or out."""
    user: User = current_user  # type: ignore[assignment]
    if request.method == "POST":
        try:
            action, entry = attendance.scan(user, shift_id, scan_token)
        except AttendanceError as exc:
            flash(str(exc.message), "error")
        else:
            if action == "check_in":
                flash(_("You are checked in. Thank you for coming!"), "success")
            else:
                minutes = entry.minutes if entry is not None else 0
                flash(
                    _("You are checked out: %(hours)s hours recorded.", hours=hours_text(minutes)),
                    "success",
                )
        return redirect(
            url_for("attendance.scan", shift_id=shift_id, scan_token=scan_token), code=303
        )
    state = attendance.read_scan(user, shift_id, scan_token)
    status = 200 if state.action or state.shift is not None else 400
    return render_template("attendance/scan.html", state=state), status


@bp.get("/my-hours")
@role_required("volunteer")
def my_hours() -> str:
    """The volunteer's hours per shift, their total, and their certificates."""
    user: User = current_user  # type: ignore[assignment]
    return render_template(
        "attendance/my_hours.html",
        rows=attendance.hours_by_shift(user.id),
        total=attendance.total_minutes(user.id),
        certificates=certificate_service.of_volunteer(user),
        form=CertificateForm(),
    )


@bp.post("/my-hours/certificates")
@role_required("volunteer")
def certificate_new() -> Response:
    """Issue a certificate in the chosen language and download it."""
    form = CertificateForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("attendance.my_hours"), code=303)
    try:
        certificate = certificate_service.issue(current_user, form.language.data)
    except CertificateError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("attendance.my_hours"), code=303)
    flash(_("Your certificate is ready. Its code is %(code)s.", code=certificate.code), "success")
    return redirect(url_for("attendance.my_hours"), code=303)


@bp.get("/my-hours/certificates/<int:certificate_id>.pdf")
@role_required("volunteer")
def certificate_pdf(certificate_id: int) -> Response:
    """One of the volunteer's certificates as a PDF (made again from its frozen snapshot)."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.volunteer_id != current_user.id:
        abort(404)
    body = render(
        certificate.snapshot,
        certificate.language,
        certificate.code,
        certificate_service.verify_url(certificate),
    )
    response = make_response(body)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.code}.pdf"'
    )
    return response


# --- the coordinator ------------------------------------------------------------------------


@bp.get("/coordinate/no-shows")
@role_required("coordinator", "admin")
def no_shows() -> str:
    """Volunteers who missed shifts in the coordinator's area, most misses first."""
    return render_template(
        "attendance/no_shows.html", rows=attendance.no_show_summaries(current_user)
    )


@bp.get("/coordinate/volunteers/<int:user_id>/attendance")
@role_required("coordinator", "admin")
def history(user_id: int) -> str:
    """One volunteer's attended and missed shifts in the coordinator's area, with their hours."""
    volunteer = db.session.get(User, user_id)
    if volunteer is None or volunteer.role != "volunteer":
        abort(404)
    if not attendance.can_see_volunteer(current_user, volunteer):
        abort(403)
    rows = attendance.attendance_history(current_user, volunteer)
    attended = sum(1 for a in rows if a.state == "attended")
    missed = sum(1 for a in rows if a.state == "no_show")
    return render_template(
        "attendance/history.html",
        volunteer=volunteer,
        rows=rows,
        attended=attended,
        missed=missed,
        rate=missed / (attended + missed) if attended + missed else 0.0,
        total=attendance.total_minutes(volunteer.id),
    )


# --- anyone: checking a certificate --------------------------------------------------------


@bp.get("/certificates")
def certificate_lookup() -> Response | tuple[str, int]:
    """Type a certificate's code to check it."""
    form = LookupForm(request.args)
    if request.args and form.validate():
        return redirect(url_for("attendance.certificate_public", code=form.code.data.strip()))
    status = 400 if request.args else 200
    return render_template("attendance/lookup.html", form=form), status


@bp.get("/certificates/<code>")
def certificate_public(code: str) -> tuple[str, int]:
    """The public confirmation of a certificate: name, hours, period and issue date."""
    certificate = certificate_service.find(code)
    form = LookupForm(data={"code": code})
    return (
        render_template(
            "attendance/certificate_public.html",
            certificate=certificate,
            snapshot=certificate.snapshot if certificate else None,
            day=certificate_service.day,
            form=form,
            now=utcnow(),
        ),
        200 if certificate else 404,
    )
