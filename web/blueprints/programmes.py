"""Programme pages: coordinators run programmes, cohorts and sessions; volunteers apply."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from web.authz import can_manage_programme, role_required
from web.extensions import db
from web.forms.fields import options
from web.forms.programmes import (
    ApplyForm,
    CohortForm,
    ConfirmForm,
    DecisionForm,
    ProgrammeForm,
    SessionForm,
)
from web.labels import ENROLMENT_STATUS_LABELS, KIND_LABELS, PROGRAMME_KIND_LABELS
from web.models import (
    Cohort,
    CredentialType,
    Enrolment,
    Governorate,
    Institution,
    Programme,
    User,
    utcnow,
)
from web.services import programmes as service
from web.services import shifts as shift_service
from web.services.shifts import RuleError

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

COORDINATORS = ("coordinator", "admin")
EVERYONE = ("volunteer", "coordinator", "admin")
T = TypeVar("T")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "programme_kind_labels": PROGRAMME_KIND_LABELS,
        "enrolment_labels": ENROLMENT_STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "local_time": shift_service.utc_to_local,
    }


# --- loading and authorising ------------------------------------------------------------------


def _programme(programme_id: int, *, manage: bool = False) -> Programme:
    """404 for a missing programme (or a closed one for a volunteer), 403 out of scope."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        abort(404)
    if current_user.has_role(*COORDINATORS):
        if not can_manage_programme(current_user, programme):
            abort(403)
    elif manage:
        abort(403)
    elif programme.status != "open":
        abort(404)
    return programme


def _cohort(cohort_id: int, *, manage: bool = False) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    _programme(cohort.programme_id, manage=manage)
    return cohort


def _attach(form: FlaskForm, errors: Sequence[tuple[str | None, str]]) -> None:
    aliases = {
        "governorate_id": "governorate",
        "institution_ids": "institutions",
        "credential_type_ids": "credential_types",
        "institution_id": "institution",
        "start": "start_time",
        "end": "end_time",
    }
    for name, message in errors:
        name = aliases.get(name or "", name)
        if name and name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _submit(
    form: FlaskForm, action: Callable[[], T], success: Callable[[T], Response]
) -> Response | int:
    """Run a service action for a valid form: its response, or the status to render with."""
    if not form.validate_on_submit():
        return 400 if request.method == "POST" else 200
    try:
        result = action()
    except RuleError as exc:
        db.session.rollback()
        _attach(form, exc.errors)
        return exc.status
    return success(result)


def _done(message: str, endpoint: str, **values: Any) -> Response:
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def _refused(exc: RuleError, endpoint: str, **values: Any) -> Response:
    db.session.rollback()
    for _field, message in exc.errors:
        flash(message, "error")
    return redirect(url_for(endpoint, **values))


# --- programmes -------------------------------------------------------------------------------


@bp.get("")
@role_required(*EVERYONE)
def index() -> str:
    """Coordinators: their programmes. Volunteers: open programmes and their applications."""
    return render_template(
        "programmes/index.html",
        programmes=service.programmes_for(current_user),
        enrolments=service.enrolments_of(current_user)
        if current_user.has_role("volunteer")
        else [],
        manages=current_user.has_role(*COORDINATORS),
    )


def _programme_form(programme: Programme | None = None) -> ProgrammeForm:
    form = ProgrammeForm(obj=programme)
    scope = current_user.governorate_ids()
    governorates = db.session.scalars(
        sa.select(Governorate)
        .where(sa.true() if scope is None else Governorate.id.in_(sorted(scope)))
        .order_by(Governorate.id)
    ).all()
    institutions = db.session.scalars(
        sa.select(Institution)
        .where(
            Institution.active.is_(True),
            sa.true() if scope is None else Institution.governorate_id.in_(sorted(scope)),
        )
        .order_by(Institution.governorate_id, Institution.id)
    ).all()
    types = db.session.scalars(
        sa.select(CredentialType).where(CredentialType.active.is_(True)).order_by(CredentialType.id)
    ).all()
    form.fill_choices(governorates, institutions, types)
    if request.method == "GET" and programme is not None:
        form.governorate.data = str(programme.governorate_id)
        form.institutions.data = [str(i.id) for i in programme.institutions]
        form.credential_types.data = [str(t.id) for t in programme.required_credentials]
    return form


def _programme_input(form: ProgrammeForm) -> service.ProgrammeInput:
    return service.ProgrammeInput(
        kind=form.kind.data or "",
        governorate_id=int(form.governorate.data) if str(form.governorate.data).isdigit() else None,
        name_ar=form.name_ar.data or "",
        name_en=form.name_en.data or "",
        description_ar=form.description_ar.data or "",
        description_en=form.description_en.data or "",
        institution_ids=form.institution_ids(),
        credential_type_ids=form.credential_type_ids(),
        status=form.status.data or "open",
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def programme_new() -> Response | tuple[str, int]:
    """Create a programme in the coordinator's scope."""
    form = _programme_form()
    outcome = _submit(
        form,
        lambda: service.create_programme(current_user, _programme_input(form)),
        lambda p: _done(_("The programme was created."), "programmes.programme", programme_id=p.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template("programmes/programme_form.html", form=form, programme=None), outcome


@bp.get("/<int:programme_id>")
@role_required(*EVERYONE)
def programme(programme_id: int) -> str:
    """A programme, its institutions and cohorts (with counts for coordinators)."""
    item = _programme(programme_id)
    manages = current_user.has_role(*COORDINATORS)
    counts = {c.id: service.enrolment_counts(c) for c in item.cohorts} if manages else {}
    mine = {}
    if not manages:
        mine = {e.cohort_id: e for e in service.enrolments_of(current_user)}
    return render_template(
        "programmes/programme.html",
        programme=item,
        manages=manages,
        counts=counts,
        mine=mine,
        today=utcnow().date(),
    )


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def programme_edit(programme_id: int) -> Response | tuple[str, int]:
    """Change a programme."""
    item = _programme(programme_id, manage=True)
    form = _programme_form(item)
    outcome = _submit(
        form,
        lambda: service.update_programme(current_user, item, _programme_input(form)),
        lambda p: _done(_("The programme was saved."), "programmes.programme", programme_id=p.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template("programmes/programme_form.html", form=form, programme=item), outcome


# --- cohorts ----------------------------------------------------------------------------------


def _cohort_input(form: CohortForm) -> service.CohortInput:
    return service.CohortInput(
        name_ar=form.name_ar.data or "",
        name_en=form.name_en.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        capacity=form.capacity.data,
        status=form.status.data or "open",
    )


@bp.route("/<int:programme_id>/cohorts/new", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def cohort_new(programme_id: int) -> Response | tuple[str, int]:
    """Add a cohort to a programme."""
    item = _programme(programme_id, manage=True)
    form = CohortForm()
    outcome = _submit(
        form,
        lambda: service.create_cohort(current_user, item, _cohort_input(form)),
        lambda c: _done(_("The cohort was created."), "programmes.cohort", cohort_id=c.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template(
        "programmes/cohort_form.html", form=form, programme=item, cohort=None
    ), outcome


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def cohort_edit(cohort_id: int) -> Response | tuple[str, int]:
    """Change a cohort's names, dates, capacity or status."""
    cohort = _cohort(cohort_id, manage=True)
    form = CohortForm(obj=cohort)
    outcome = _submit(
        form,
        lambda: service.update_cohort(current_user, cohort, _cohort_input(form)),
        lambda c: _done(_("The cohort was saved."), "programmes.cohort", cohort_id=c.id),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template(
        "programmes/cohort_form.html", form=form, programme=cohort.programme, cohort=cohort
    ), outcome


@bp.get("/cohorts/<int:cohort_id>")
@role_required(*EVERYONE)
def cohort(cohort_id: int) -> str:
    """Coordinators: applications, decisions and sessions. Volunteers: apply or their status."""
    item = _cohort(cohort_id)
    manages = current_user.has_role(*COORDINATORS)
    enrolment = None if manages else service.enrolment_of(current_user, item)
    shifts = service.cohort_shifts(item)
    return render_template(
        "programmes/cohort.html",
        cohort=item,
        programme=item.programme,
        manages=manages,
        enrolment=enrolment,
        enrolments=item.enrolments if manages else [],
        counts=service.enrolment_counts(item) if manages else {},
        sessions=service.cohort_sessions(item) if manages else [],
        shifts=shifts if manages or (enrolment and enrolment.status == "accepted") else [],
        apply_form=ApplyForm(),
        decision_form=DecisionForm(),
        confirm_form=ConfirmForm(),
        decisions=service.DECISIONS,
        accredited={
            e.volunteer_id: service.is_accredited_monitor(e.volunteer) for e in item.enrolments
        }
        if manages and item.programme.kind == service.MONITORING_KIND
        else {},
        today=utcnow().date(),
    )


@bp.post("/cohorts/<int:cohort_id>/apply")
@role_required("volunteer")
def apply(cohort_id: int) -> Response | tuple[str, int]:
    """A volunteer applies with a short motivation."""
    item = _cohort(cohort_id)
    form = ApplyForm()
    outcome = _submit(
        form,
        lambda: service.apply(current_user, item, form.motivation.data or ""),
        lambda e: _done(
            _("Your application was sent. The coordinator will reply by SMS."),
            "programmes.cohort",
            cohort_id=item.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template(
        "programmes/cohort.html",
        cohort=item,
        programme=item.programme,
        manages=False,
        enrolment=service.enrolment_of(current_user, item),
        enrolments=[],
        counts={},
        sessions=[],
        shifts=[],
        apply_form=form,
        decision_form=DecisionForm(),
        confirm_form=ConfirmForm(),
        decisions=service.DECISIONS,
        accredited={},
        today=utcnow().date(),
    ), outcome


@bp.route("/cohorts/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@role_required(*COORDINATORS)
def sessions_new(cohort_id: int) -> Response | tuple[str, int]:
    """Weekly sessions of the cohort at one of the programme's institutions."""
    item = _cohort(cohort_id, manage=True)
    form = SessionForm()
    form.institution.choices = options((str(i.id), i.name) for i in item.programme.institutions)
    max_weeks = shift_service.series_max_weeks()
    if request.method == "GET":
        form.weeks.data = min(12, max_weeks)
    outcome = _submit(
        form,
        lambda: service.add_sessions(
            current_user,
            item,
            service.SessionInput(
                institution_id=int(form.institution.data)
                if str(form.institution.data).isdigit()
                else None,
                first_day=form.first_day.data,
                start=form.start_time.data,
                end=form.end_time.data,
                weeks=form.weeks.data,
                needed=form.needed.data,
                excluded=tuple(form.excluded()),
            ),
        ),
        lambda series: _done(
            ngettext(
                "%(num)s session was added.", "%(num)s sessions were added.", len(series.shifts)
            ),
            "programmes.cohort",
            cohort_id=item.id,
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return render_template(
        "programmes/session_form.html",
        form=form,
        cohort=item,
        programme=item.programme,
        max_weeks=max_weeks,
    ), outcome


# --- decisions --------------------------------------------------------------------------------


def _enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        abort(404)
    return enrolment


@bp.post("/enrolments/<int:enrolment_id>/decide")
@role_required(*COORDINATORS)
def decide(enrolment_id: int) -> Response:
    """Accept, waitlist or reject an application."""
    enrolment = _enrolment(enrolment_id)
    _cohort(enrolment.cohort_id, manage=True)
    form = DecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("programmes.cohort", cohort_id=enrolment.cohort_id))
    try:
        service.decide(current_user, enrolment, form.decision.data or "", form.note.data or "")
    except RuleError as exc:
        return _refused(exc, "programmes.cohort", cohort_id=enrolment.cohort_id)
    return _done(_("The decision was saved."), "programmes.cohort", cohort_id=enrolment.cohort_id)


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@role_required("volunteer")
def withdraw(enrolment_id: int) -> Response:
    """The volunteer withdraws their application (or leaves the cohort)."""
    enrolment = _enrolment(enrolment_id)
    if enrolment.volunteer_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        service.withdraw(current_user, enrolment)
    except RuleError as exc:
        return _refused(exc, "programmes.cohort", cohort_id=enrolment.cohort_id)
    return _done(_("You withdrew."), "programmes.cohort", cohort_id=enrolment.cohort_id)


@bp.post("/enrolments/<int:enrolment_id>/accreditation")
@role_required(*COORDINATORS)
def accreditation(enrolment_id: int) -> Response:
    """A monitoring coordinator accredits (or stops accrediting) the applicant as a monitor."""
    enrolment = _enrolment(enrolment_id)
    _cohort(enrolment.cohort_id, manage=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    volunteer = db.session.get(User, enrolment.volunteer_id)
    assert volunteer is not None
    try:
        service.set_monitor_accreditation(current_user, volunteer, not volunteer.monitor_accredited)
    except RuleError as exc:
        return _refused(exc, "programmes.cohort", cohort_id=enrolment.cohort_id)
    return _done(_("Saved."), "programmes.cohort", cohort_id=enrolment.cohort_id)
