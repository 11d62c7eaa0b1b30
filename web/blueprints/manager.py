"""The care-home manager's pages: institutions, opportunities, shifts, series, rosters, contacts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from web.authz import require_institution, role_required
from web.blueprints.opportunities import url_if
from web.extensions import db
from web.forms.manager import (
    STATUS_LABELS,
    CancelShiftForm,
    ConfirmForm,
    InstitutionForm,
    OpportunityForm,
    SeriesForm,
    ShiftForm,
    options,
)
from web.labels import GENDER_LABELS, KIND_LABELS, LANGUAGE_LABELS
from web.models import (
    Assignment,
    Governorate,
    Institution,
    Opportunity,
    Shift,
    Skill,
    User,
    utcnow,
)
from web.services import attendance, privacy
from web.services import opportunities as opportunity_service
from web.services import shifts as shift_service
from web.services.shifts import RuleError, ShiftDetails

log = logging.getLogger(__name__)

bp = Blueprint("manager", __name__, url_prefix="/manage")

STAFF = ("manager", "coordinator", "admin")
DASHBOARD_PAGE_SIZE = 20
DASHBOARD_SHIFTS = 5
INSTITUTION_SHIFTS = 60

STATE_LABELS = {
    "proposed": _l("Proposed"),
    "waitlisted": _l("On the waiting list"),
    "offered": _l("Offered"),
    "confirmed": _l("Confirmed"),
    "declined": _l("Declined"),
    "expired": _l("Offer expired"),
    "cancelled": _l("Cancelled"),
    "attended": _l("Attended"),
    "no_show": _l("Did not come"),
}


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "url_if": url_if,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "gender_labels": GENDER_LABELS,
        "language_labels": LANGUAGE_LABELS,
        "state_labels": STATE_LABELS,
    }


# --- loading and authorising ------------------------------------------------------------------


def _institution(institution_id: int) -> Institution:
    return require_institution(current_user, db.session.get(Institution, institution_id))


def _opportunity(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None:
        abort(404)
    require_institution(current_user, opportunity.institution)
    return opportunity


def _shift(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        abort(404)
    require_institution(current_user, shift.institution)
    return shift


def _institutions_query(user: User) -> sa.Select[tuple[Institution]]:
    """The institutions a user manages: theirs, those in a coordinator's area, or all."""
    query = sa.select(Institution).order_by(Institution.name_ar, Institution.id)
    if user.role == "manager":
        ids = [i.id for i in user.managed_institutions]
        return query.where(Institution.id.in_(ids))
    scope = user.governorate_ids()
    if scope is not None:
        query = query.where(Institution.governorate_id.in_(sorted(scope)))
    return query


def _active_skills(extra_ids: Sequence[int] = ()) -> list[Skill]:
    condition = Skill.active.is_(True)
    if extra_ids:
        condition = sa.or_(condition, Skill.id.in_(list(extra_ids)))
    return list(db.session.execute(sa.select(Skill).where(condition).order_by(Skill.id)).scalars())


def _attach(form: FlaskForm, errors: Sequence[tuple[str | None, str]]) -> None:
    """Show a service's rule errors on the form fields they belong to."""
    for name, message in errors:
        if name and name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _render_form(template: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


T = TypeVar("T")


def _submit(
    form: FlaskForm,
    action: Callable[[], T],
    success: Callable[[T], Response],
    *,
    rollback: bool = False,
) -> Response | int:
    """Run a service action for a valid submitted form.

    Returns ``success(result)`` when the service accepts the change; otherwise the status to
    render the form with: 200 on a first view, 400 for invalid input, or the service's rule
    error status, its messages attached to the form (after a rollback when asked).
    """
    if not form.validate_on_submit():
        return 400 if request.method == "POST" else 200
    try:
        result = action()
    except RuleError as exc:
        if rollback:
            db.session.rollback()
        _attach(form, exc.errors)
        return exc.status
    return success(result)


def _done(message: str, endpoint: str, **values: Any) -> Response:
    """Flash a success message and redirect."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


# --- dashboard and institution --------------------------------------------------------------


@bp.get("")
@role_required(*STAFF)
def dashboard() -> str:
    """The user's institutions with open opportunities and the next shifts' fill."""
    page = db.paginate(
        _institutions_query(current_user),
        page=request.args.get("page", 1, type=int),
        per_page=DASHBOARD_PAGE_SIZE,
        error_out=False,
    )
    now = utcnow()
    rows = []
    for institution in page.items:
        opportunities = [o for o in institution.opportunities if o.status in ("open", "draft")]
        shifts = shift_service.upcoming_shifts([institution.id], now, limit=DASHBOARD_SHIFTS)
        rows.append((institution, opportunities, shifts))
    return render_template("manager/dashboard.html", page=page, rows=rows)


@bp.get("/institutions/<int:institution_id>")
@role_required(*STAFF)
def institution(institution_id: int) -> str:
    """An institution's opportunities and upcoming shifts, with the actions on them."""
    place = _institution(institution_id)
    shifts = shift_service.upcoming_shifts([place.id], limit=INSTITUTION_SHIFTS)
    return render_template("manager/institution.html", institution=place, shifts=shifts)


def _staff_edits_scope(user: User) -> bool:
    return user.role in ("admin", "coordinator")


@bp.route("/institutions/<int:institution_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def institution_edit(institution_id: int) -> Response | tuple[str, int]:
    """Edit names, address and phone (and, for coordinators and admins, kind and governorate)."""
    place = _institution(institution_id)
    form = InstitutionForm(obj=place if request.method == "GET" else None)
    if request.method == "GET":
        form.governorate.data = place.governorate_id
    if _staff_edits_scope(current_user):
        scope = current_user.governorate_ids()
        query = sa.select(Governorate).order_by(Governorate.id)
        if scope is not None:
            query = query.where(Governorate.id.in_(sorted(scope | {place.governorate_id})))
        form.governorate.choices = options(
            (g.id, g.name) for g in db.session.execute(query).scalars()
        )
    else:
        del form.kind
        del form.governorate
    outcome = _submit(
        form,
        lambda: opportunity_service.update_institution(
            current_user, place, _institution_details(form)
        ),
        lambda _saved: _done(
            _("The institution's details were saved."),
            "manager.institution",
            institution_id=place.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    if outcome == 403:
        abort(403)
    return _render_form("manager/institution_form.html", outcome, institution=place, form=form)


def _institution_details(form: InstitutionForm) -> opportunity_service.InstitutionDetails:
    return opportunity_service.InstitutionDetails(
        name_ar=form.name_ar.data,
        name_en=form.name_en.data,
        address_ar=form.address_ar.data,
        address_en=form.address_en.data,
        phone=form.phone.data,
        kind=form.kind.data if "kind" in form else None,
        governorate_id=form.governorate.data if "governorate" in form else None,
    )


# --- opportunities ------------------------------------------------------------------------


def _opportunity_text(form: OpportunityForm) -> opportunity_service.OpportunityText:
    return opportunity_service.OpportunityText(
        **{
            name: getattr(form, name).data or ""
            for name in (
                "title_ar",
                "title_en",
                "description_ar",
                "description_en",
                "requirements_ar",
                "requirements_en",
                "commitment_ar",
                "commitment_en",
            )
        }
    )


def _skill_ids(form: OpportunityForm) -> list[int]:
    return [s for s in form.skills.data or [] if s is not None]


@bp.route("/institutions/<int:institution_id>/opportunities/new", methods=["GET", "POST"])
@role_required(*STAFF)
def opportunity_new(institution_id: int) -> Response | tuple[str, int]:
    """Describe a new opportunity at an institution."""
    place = _institution(institution_id)
    form = OpportunityForm(skills=_active_skills(), new=True)
    if request.method == "GET":
        form.status.data = "open"
    outcome = _submit(
        form,
        lambda: opportunity_service.create_opportunity(
            current_user, place, _opportunity_text(form), _skill_ids(form), form.status.data
        ),
        lambda opportunity: _done(
            _("The opportunity was created."),
            "manager.opportunity",
            opportunity_id=opportunity.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/opportunity_form.html", outcome, institution=place, opportunity=None, form=form
    )


@bp.get("/opportunities/<int:opportunity_id>")
@role_required(*STAFF)
def opportunity(opportunity_id: int) -> str:
    """An opportunity with all its shifts, past and future, and its series."""
    item = _opportunity(opportunity_id)
    return render_template(
        "manager/opportunity.html",
        opportunity=item,
        institution=item.institution,
        now=utcnow(),
    )


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def opportunity_edit(opportunity_id: int) -> Response | tuple[str, int]:
    """Change an opportunity's texts, skills or status."""
    item = _opportunity(opportunity_id)
    skills = _active_skills([s.id for s in item.skills])
    if request.method == "GET":
        form = OpportunityForm(obj=item, skills=skills, new=False)
        form.skills.data = [s.id for s in item.skills]
    else:
        form = OpportunityForm(skills=skills, new=False)
    outcome = _submit(
        form,
        lambda: opportunity_service.update_opportunity(
            current_user, item, _opportunity_text(form), _skill_ids(form), form.status.data
        ),
        lambda _saved: _done(
            _("The opportunity was saved."), "manager.opportunity", opportunity_id=item.id
        ),
        rollback=True,
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/opportunity_form.html",
        outcome,
        institution=item.institution,
        opportunity=item,
        form=form,
    )


@bp.route("/opportunities/<int:opportunity_id>/close", methods=["GET", "POST"])
@role_required(*STAFF)
def opportunity_cancel(opportunity_id: int) -> Response | tuple[str, int]:
    """Close an opportunity after confirming; its upcoming shifts are cancelled."""
    item = _opportunity(opportunity_id)
    form = ConfirmForm()
    if item.status == "closed":
        flash(_("This opportunity is already closed."), "warning")
        return redirect(url_for("manager.opportunity", opportunity_id=item.id))
    outcome = _submit(
        form,
        lambda: opportunity_service.close_opportunity(current_user, item),
        lambda cancelled: _done(
            ngettext(
                "The opportunity was closed and %(num)s upcoming shift was cancelled.",
                "The opportunity was closed and %(num)s upcoming shifts were cancelled.",
                len(cancelled),
            ),
            "manager.opportunity",
            opportunity_id=item.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    upcoming = opportunity_service.upcoming_open_shifts(item)
    return _render_form(
        "manager/opportunity_close.html",
        outcome,
        opportunity=item,
        institution=item.institution,
        upcoming=upcoming,
        volunteers=sum(s.taken for s in upcoming),
        form=form,
    )


# --- shifts -------------------------------------------------------------------------------


def _shift_details(form: Any) -> ShiftDetails:
    return ShiftDetails(
        needed=form.needed.data,
        reserved=form.reserved(),
        gender=form.gender.data or "any",
        min_age=form.min_age.data or 0,
        priority=form.priority.data or 1,
        languages=tuple(form.languages.data or ()),
        description_ar=form.description_ar.data or "",
        description_en=form.description_en.data or "",
        credential_type_ids=form.credential_type_ids(),
    )


def _shift_form_data(shift: Shift) -> dict[str, Any]:
    start = shift_service.utc_to_local(shift.starts_at, shift.institution)
    end = shift_service.utc_to_local(shift.ends_at, shift.institution)
    data: dict[str, Any] = {
        "day": start.date(),
        "start_time": start.time().replace(tzinfo=None),
        "end_time": end.time().replace(tzinfo=None),
        "needed": shift.needed,
        "gender": shift.gender,
        "min_age": shift.min_age,
        "priority": shift.priority,
        "languages": list(shift.languages or []),
        "description_ar": shift.description_ar,
        "description_en": shift.description_en,
        "required_credentials": [str(t.id) for t in shift.required_credentials],
    }
    for requirement in shift.requirements:
        data[f"reserved_{requirement.skill_id}"] = requirement.places
    return data


@bp.route("/opportunities/<int:opportunity_id>/shifts/new", methods=["GET", "POST"])
@role_required(*STAFF)
def shift_new(opportunity_id: int) -> Response | tuple[str, int]:
    """Add one shift to an opportunity, in the institution's local time."""
    item = _opportunity(opportunity_id)
    form = ShiftForm.for_skills(_active_skills())()
    outcome = _submit(
        form,
        lambda: shift_service.create_shift(
            current_user,
            item,
            form.day.data,
            form.start_time.data,
            form.end_time.data,
            _shift_details(form),
        ),
        lambda shift: _done(_("The shift was created."), "manager.shift_roster", shift_id=shift.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/shift_form.html",
        outcome,
        opportunity=item,
        institution=item.institution,
        shift=None,
        form=form,
        zone=shift_service.institution_zone(item.institution).key,
    )


@bp.route("/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def shift_edit(shift_id: int) -> Response | tuple[str, int]:
    """Change a future shift; places never drop below those taken."""
    shift = _shift(shift_id)
    skills = _active_skills([r.skill_id for r in shift.requirements])
    form_class = ShiftForm.for_skills(skills)
    form = form_class(data=_shift_form_data(shift)) if request.method == "GET" else form_class()
    outcome = _submit(
        form,
        lambda: shift_service.update_shift(
            current_user,
            shift,
            form.day.data,
            form.start_time.data,
            form.end_time.data,
            _shift_details(form),
        ),
        lambda _saved: _done(_("The shift was saved."), "manager.shift_roster", shift_id=shift.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/shift_form.html",
        outcome,
        opportunity=shift.opportunity,
        institution=shift.institution,
        shift=shift,
        form=form,
        zone=shift_service.institution_zone(shift.institution).key,
    )


@bp.route("/shifts/<int:shift_id>/cancel", methods=["GET", "POST"])
@role_required(*STAFF)
def shift_cancel(shift_id: int) -> Response | tuple[str, int]:
    """Cancel a shift (or, in a series, it and every later one) after confirming."""
    shift = _shift(shift_id)
    form = CancelShiftForm()
    if shift.series_id is None:
        form.scope.choices = [c for c in form.scope.choices if c.value == "shift"]
    outcome = _submit(
        form,
        lambda: _cancel(shift, form.scope.data, form.reason.data or ""),
        lambda message: _done(message, "manager.opportunity", opportunity_id=shift.opportunity_id),
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/shift_cancel.html",
        outcome,
        shift=shift,
        opportunity=shift.opportunity,
        institution=shift.institution,
        form=form,
    )


def _cancel(shift: Shift, scope: str, reason: str) -> str:
    """Cancel a shift, its occurrence in a series, or the rest of its series; the message."""
    if scope == "rest":
        cancelled = shift_service.cancel_rest_of_series(current_user, shift, reason)
        return ngettext(
            "%(num)s shift of the series was cancelled.",
            "%(num)s shifts of the series were cancelled.",
            len(cancelled),
        )
    if shift.series_id is not None:
        shift_service.cancel_occurrence(current_user, shift, reason)
        return _("The shift was cancelled and its date skipped in the series.")
    shift_service.cancel_shift(current_user, shift, reason)
    return _("The shift was cancelled.")


@bp.route("/opportunities/<int:opportunity_id>/series/new", methods=["GET", "POST"])
@role_required(*STAFF)
def series_new(opportunity_id: int) -> Response | tuple[str, int]:
    """Add a weekly series of shifts: same weekday and local time for a number of weeks."""
    item = _opportunity(opportunity_id)
    form = SeriesForm.for_skills(_active_skills())()
    max_weeks = shift_service.series_max_weeks()
    if request.method == "GET":
        form.weeks.data = min(12, max_weeks)
    outcome = _submit(
        form,
        lambda: shift_service.create_series(
            current_user,
            item,
            form.first_day.data,
            form.start_time.data,
            form.end_time.data,
            form.weeks.data,
            form.excluded(),
            _shift_details(form),
        ),
        lambda series: _done(
            ngettext(
                "The series was created with %(num)s shift.",
                "The series was created with %(num)s shifts.",
                len(series.shifts),
            ),
            "manager.opportunity",
            opportunity_id=item.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return _render_form(
        "manager/series_form.html",
        outcome,
        opportunity=item,
        institution=item.institution,
        form=form,
        max_weeks=max_weeks,
        zone=shift_service.institution_zone(item.institution).key,
    )


# --- people -------------------------------------------------------------------------------


@bp.get("/shifts/<int:shift_id>")
@role_required(*STAFF)
def shift_roster(shift_id: int) -> str:
    """Who is signed up for a shift: name, phone, state, position and waiting list."""
    shift = _shift(shift_id)
    return render_template(
        "manager/roster.html",
        shift=shift,
        opportunity=shift.opportunity,
        institution=shift.institution,
        assignments=shift_service.roster(shift),
        changeable=shift.status == "open" and shift.starts_at > utcnow(),
        attendance=attendance.roster_attendance(shift),
        window=attendance.window(shift),
        now=utcnow(),
    )


@bp.post("/assignments/<int:assignment_id>/absent")
@role_required(*STAFF)
def mark_absent(assignment_id: int) -> Response:
    """Mark a confirmed volunteer as not coming: the place is freed and re-matched in time."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    shift = _shift(assignment.shift_id)
    try:
        attendance.mark_absent(current_user, assignment)
    except attendance.AttendanceError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _("Marked as absent. The place is offered to someone else if there is time."), "success"
        )
    return redirect(url_for("manager.shift_roster", shift_id=shift.id), code=303)


@bp.get("/institutions/<int:institution_id>/contacts")
@role_required(*STAFF)
def contacts(institution_id: int) -> str:
    """Names and phones of the confirmed volunteers of the institution's upcoming shifts."""
    place = _institution(institution_id)
    privacy.record_view(current_user, "contacts", "institution", place.id)
    return render_template(
        "manager/contacts.html",
        institution=place,
        rows=shift_service.confirmed_contacts(place),
    )
