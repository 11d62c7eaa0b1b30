"""The volunteer's pages: profile, availability, shifts they can do, sign-up and their shifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import get_day_names
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from web.authz import role_required
from web.extensions import db, limiter
from web.forms.fields import int_or_none, parse_int_arg
from web.forms.volunteer import (
    ExceptionForm,
    ProfileForm,
    RuleForm,
    ShiftFilterForm,
)
from web.i18n import format_km
from web.labels import KIND_LABELS
from web.models import (
    INSTITUTION_KINDS,
    Assignment,
    Governorate,
    Institution,
    Shift,
    Skill,
    User,
    VolunteerProfile,
    utcnow,
)
from web.security import user_or_address
from web.services import availability as availability_service
from web.services import offers
from web.services.availability import AvailabilityError, ExceptionInput, RuleInput, profile_zone
from web.services.eligibility import (
    ProfileError,
    ProfileInput,
    ShiftFilters,
    get_or_create_profile,
    reason_texts,
    shifts_i_can_do,
    update_profile,
)
from web.services.signup import WITHDRAWABLE, SignupError, sign_up, waitlist_rank, withdraw

bp = Blueprint("volunteer", __name__)


def _signup_limit() -> str:
    return str(current_app.config.get("SIGNUP_RATE_LIMIT", "30 per minute"))


def state_label(state: str) -> str:
    """An assignment state in the active language."""
    labels = {
        "proposed": _("Proposed"),
        "waitlisted": _("On the waitlist"),
        "offered": _("Offered to you"),
        "confirmed": _("Confirmed"),
        "declined": _("Declined"),
        "expired": _("Expired"),
        "cancelled": _("Cancelled"),
        "attended": _("Attended"),
        "no_show": _("Did not attend"),
    }
    return labels.get(state, state)


def availability_error_text(code: str) -> str:
    """A refused availability change, explained in the active language."""
    texts = {
        "times_together": _("Enter both times, or neither for the whole day."),
        "end_before_start": _("The end must be after the start."),
        "weekday": _("Choose a day of the week."),
        "too_many": _("You have reached the maximum number of entries. Remove one first."),
        "duplicate": _("You already have this entry."),
        "past_day": _("This day is in the past."),
        "far_day": _("Choose a day within the next two years."),
    }
    return texts.get(code, _("The request could not be understood."))


def _profile_or_none() -> VolunteerProfile | None:
    user: User = current_user  # type: ignore[assignment]
    return user.profile


def _local_today(profile: VolunteerProfile | None) -> date:
    if profile is None:
        return utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    return utcnow().astimezone(profile_zone(profile)).date()


# ---- profile ----------------------------------------------------------------------------------


def _governorate_choices(empty_label: str) -> list[tuple[str, str]]:
    governorates = db.session.scalars(sa.select(Governorate)).all()
    named = sorted(((str(g.id), g.name) for g in governorates), key=lambda pair: pair[1])
    return [("", empty_label), *named]


def _skill_choices() -> list[tuple[int, str]]:
    skills = db.session.scalars(sa.select(Skill).where(Skill.active.is_(True))).all()
    return sorted(((s.id, s.name) for s in skills), key=lambda pair: pair[1])


def _institution_choices(
    profile: VolunteerProfile | None, governorate_ids: set[int]
) -> list[tuple[int, str]]:
    current = {i.id for i in profile.preferred_institutions} if profile else set()
    if not governorate_ids and not current:
        return []
    query = sa.select(Institution).where(
        Institution.active.is_(True),
        sa.or_(Institution.governorate_id.in_(governorate_ids), Institution.id.in_(current)),
    )
    institutions = db.session.scalars(query).all()
    return sorted(((i.id, i.name) for i in institutions), key=lambda pair: pair[1])


def _fill_profile_form(form: ProfileForm, profile: VolunteerProfile | None) -> None:
    if profile is None:
        form.languages.data = ["ar"]
        return
    form.gender.data = profile.gender or ""
    form.date_of_birth.data = profile.date_of_birth
    form.governorate.data = str(profile.governorate_id) if profile.governorate_id else ""
    form.home_lat.data = profile.home_lat
    form.home_lon.data = profile.home_lon
    form.travel_radius_km.data = profile.travel_radius_km
    form.skills.data = [s.id for s in profile.skills]
    form.languages.data = list(profile.languages or [])
    form.max_shifts_per_week.data = profile.max_shifts_per_week
    form.max_hours_per_week.data = profile.max_hours_per_week
    form.preferred_institutions.data = [i.id for i in profile.preferred_institutions]
    form.sms_consent.data = profile.sms_consent


@bp.route("/profile", methods=["GET", "POST"])
@role_required("volunteer")
def profile() -> Any:
    user: User = current_user  # type: ignore[assignment]
    existing = user.profile
    form = ProfileForm(today=_local_today(existing))
    form.governorate.choices = _governorate_choices(_("Choose your governorate"))
    form.skills.choices = _skill_choices()
    governorate_ids = set()
    if existing is not None and existing.governorate_id:
        governorate_ids.add(existing.governorate_id)
    chosen = int_or_none(request.form.get("governorate")) if request.method == "POST" else None
    if chosen:
        governorate_ids.add(chosen)
    form.preferred_institutions.choices = _institution_choices(existing, governorate_ids)
    if request.method == "GET":
        _fill_profile_form(form, existing)
        return render_template("volunteer/profile.html", form=form, profile=existing)
    if not form.validate_on_submit():
        return render_template("volunteer/profile.html", form=form, profile=existing), 400
    governorate_id = int_or_none(form.governorate.data)
    home_lat, home_lon = form.home_lat.data, form.home_lon.data
    if form.use_centre.data and governorate_id is not None:
        centre = db.session.get(Governorate, governorate_id)
        if centre is not None:
            home_lat, home_lon = centre.lat, centre.lon
    data = ProfileInput(
        gender=form.gender.data or None,
        date_of_birth=form.date_of_birth.data,
        governorate_id=governorate_id,
        home_lat=home_lat,
        home_lon=home_lon,
        travel_radius_km=float(form.travel_radius_km.data),
        skill_ids=tuple(form.skills.data or ()),
        languages=tuple(dict.fromkeys(form.languages.data or ())),
        max_shifts_per_week=form.max_shifts_per_week.data,
        max_hours_per_week=form.max_hours_per_week.data,
        preferred_institution_ids=tuple(form.preferred_institutions.data or ()),
        sms_consent=bool(form.sms_consent.data),
    )
    try:
        update_profile(user, user, data)
    except ProfileError:
        db.session.rollback()
        form.form_errors.append(_("Choose from the list."))
        return render_template("volunteer/profile.html", form=form, profile=user.profile), 400
    flash(_("Your profile was saved."), "success")
    return redirect(url_for("volunteer.profile"), code=303)


# ---- availability -----------------------------------------------------------------------------


def _weekday_choices() -> list[tuple[int, str]]:
    names = get_day_names("wide", locale=get_locale() or "ar")
    return [(day, names[day]) for day in range(7)]


def _availability_page(
    rule_form: RuleForm | None = None,
    exception_form: ExceptionForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    profile = _profile_or_none()
    today = _local_today(profile)
    rule_form = rule_form or RuleForm(formdata=None)
    exception_form = exception_form or ExceptionForm(formdata=None, today=today)
    rule_form.weekday.choices = _weekday_choices()
    weekday_names = dict(_weekday_choices())
    rules = list(profile.availability_rules) if profile else []
    exceptions = [e for e in (profile.availability_exceptions if profile else []) if e.day >= today]
    return (
        render_template(
            "volunteer/availability.html",
            profile=profile,
            rules=rules,
            exceptions=exceptions,
            weekday_names=weekday_names,
            rule_form=rule_form,
            exception_form=exception_form,
            zone_name=profile.timezone if profile else "Africa/Cairo",
        ),
        status,
    )


@bp.get("/availability")
@role_required("volunteer")
def availability() -> Any:
    return _availability_page()


@bp.post("/availability/rules")
@role_required("volunteer")
def rule_add() -> Any:
    form = RuleForm()
    form.weekday.choices = _weekday_choices()
    if not form.validate_on_submit():
        return _availability_page(rule_form=form, status=400)
    data = RuleInput(form.weekday.data, form.start_time.data, form.end_time.data)
    return _add_availability(
        "rule_form",
        form,
        lambda user, profile: availability_service.add_rule(user, profile, data),
        _("The weekly time was added."),
    )


@bp.post("/availability/rules/<int:rule_id>/delete")
@role_required("volunteer")
def rule_delete(rule_id: int) -> Any:
    return _remove_availability(
        availability_service.remove_rule, rule_id, _("The weekly time was removed.")
    )


@bp.post("/availability/exceptions")
@role_required("volunteer")
def exception_add() -> Any:
    user: User = current_user  # type: ignore[assignment]
    today = _local_today(user.profile)
    form = ExceptionForm(today=today)
    if not form.validate_on_submit():
        return _availability_page(exception_form=form, status=400)
    data = ExceptionInput(
        day=form.day.data,
        available=form.kind.data == "extra",
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        note=form.note.data or "",
    )
    return _add_availability(
        "exception_form",
        form,
        lambda user, profile: availability_service.add_exception(user, profile, data, today=today),
        _("The change for that day was added."),
    )


@bp.post("/availability/exceptions/<int:exception_id>/delete")
@role_required("volunteer")
def exception_delete(exception_id: int) -> Any:
    return _remove_availability(
        availability_service.remove_exception,
        exception_id,
        _("The change for that day was removed."),
    )


def _add_availability(
    form_name: str,
    form: FlaskForm,
    add: Callable[[User, VolunteerProfile], object],
    message: str,
) -> Any:
    """Add a weekly time or a day's change; a refusal re-renders the page with ``form``."""
    user: User = current_user  # type: ignore[assignment]
    try:
        add(user, get_or_create_profile(user))
    except AvailabilityError as exc:
        db.session.rollback()
        form.form_errors.append(availability_error_text(exc.code))
        status = 409 if exc.code == "duplicate" else 400
        return _availability_page(**{form_name: form}, status=status)
    flash(message, "success")
    return redirect(url_for("volunteer.availability"), code=303)


def _remove_availability(
    remove: Callable[[User, VolunteerProfile, int], None], item_id: int, message: str
) -> Any:
    """Remove one of the volunteer's own weekly times or changes; any other id is a 404."""
    profile = _profile_or_none()
    if profile is None:
        raise NotFound()
    try:
        remove(current_user, profile, item_id)  # type: ignore[arg-type]
    except LookupError as exc:
        raise NotFound() from exc
    flash(message, "success")
    return redirect(url_for("volunteer.availability"), code=303)


# ---- shifts I can do -----------------------------------------------------------------------


@bp.get("/shifts")
@role_required("volunteer")
def shifts() -> Any:
    user: User = current_user  # type: ignore[assignment]
    form = ShiftFilterForm(formdata=request.args)
    all_label = _("All")
    form.governorate.choices = _governorate_choices(all_label)
    form.kind.choices = [("", all_label), *((k, str(KIND_LABELS[k])) for k in INSTITUTION_KINDS)]
    form.skill.choices = [("", all_label), *((str(i), n) for i, n in _skill_choices())]
    page_arg = request.args.get("page")
    page_number = parse_int_arg(page_arg) if page_arg is not None else 1
    valid = form.validate() and page_number is not None and page_number >= 1
    if page_number is None or page_number < 1:
        form.form_errors.append(_("That page does not exist."))
    if not valid:
        return (
            render_template(
                "volunteer/shifts.html", form=form, page=None, args={}, format_km=format_km
            ),
            400,
        )
    filters = ShiftFilters(
        governorate_id=int_or_none(form.governorate.data),
        kind=form.kind.data or None,
        skill_id=int_or_none(form.skill.data),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        page=page_number or 1,
    )
    result = shifts_i_can_do(user, filters)
    args = {
        key: value
        for key, value in {
            "governorate": form.governorate.data,
            "kind": form.kind.data,
            "skill": form.skill.data,
            "date_from": form.date_from.data.isoformat() if form.date_from.data else "",
            "date_to": form.date_to.data.isoformat() if form.date_to.data else "",
        }.items()
        if value
    }
    return render_template(
        "volunteer/shifts.html", form=form, page=result, args=args, format_km=format_km
    )


def _shift_or_404(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound()
    return shift


def _refused(shift: Shift, exc: SignupError, title: str) -> tuple[str, int]:
    return (
        render_template(
            "volunteer/refused.html",
            shift=shift,
            reasons=reason_texts(exc.reasons, profile=_profile_or_none(), shift=shift),
            title=title,
        ),
        exc.status,
    )


@bp.post("/shifts/<int:shift_id>/signup")
@limiter.shared_limit(_signup_limit, scope="signup", key_func=user_or_address)
@role_required("volunteer")
def signup(shift_id: int) -> Any:
    shift = _shift_or_404(shift_id)
    try:
        assignment = sign_up(current_user, shift)  # type: ignore[arg-type]
    except SignupError as exc:
        return _refused(_shift_or_404(shift_id), exc, _("You could not be signed up"))
    except LookupError as exc:
        raise NotFound() from exc
    if assignment.state == "waitlisted":
        flash(
            _(
                "The shift is full: you are on the waitlist (number %(n)s). "
                "You will get a place if one frees up.",
                n=waitlist_rank(assignment),
            ),
            "warning",
        )
    else:
        flash(_("You are signed up. Thank you!"), "success")
    return redirect(url_for("volunteer.my_shifts"), code=303)


@bp.post("/shifts/<int:shift_id>/withdraw", endpoint="withdraw")
@limiter.shared_limit(_signup_limit, scope="signup", key_func=user_or_address)
@role_required("volunteer")
def withdraw_shift(shift_id: int) -> Any:
    shift = _shift_or_404(shift_id)
    try:
        withdraw(current_user, shift)  # type: ignore[arg-type]
    except SignupError as exc:
        return _refused(_shift_or_404(shift_id), exc, _("You could not withdraw"))
    except LookupError as exc:
        raise NotFound() from exc
    flash(_("You have withdrawn from the shift."), "success")
    return redirect(url_for("volunteer.my_shifts"), code=303)


@bp.post("/offers/<int:assignment_id>/<any(accept, decline):answer>", endpoint="answer_offer")
@limiter.shared_limit(_signup_limit, scope="signup", key_func=user_or_address)
@role_required("volunteer")
def answer_offer(assignment_id: int, answer: str) -> Any:
    """Accept or decline a place a coordinator's run offered; a decline is re-matched."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.volunteer_id != current_user.id:
        raise NotFound()
    try:
        if answer == "accept":
            offers.accept(assignment, current_user)  # type: ignore[arg-type]
            flash(_("You accepted the shift. Thank you!"), "success")
        else:
            offers.decline(assignment, current_user)  # type: ignore[arg-type]
            flash(_("You declined the shift. We will offer it to someone else."), "success")
    except offers.OfferError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("volunteer.my_shifts"), code=303)


# ---- my shifts -----------------------------------------------------------------------------


@bp.get("/my-shifts")
@role_required("volunteer")
def my_shifts() -> Any:
    user: User = current_user  # type: ignore[assignment]
    now = utcnow()
    rows = db.session.scalars(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(Assignment.volunteer_id == user.id, Assignment.state != "proposed")
        .options(
            joinedload(Assignment.shift).joinedload(Shift.institution),
            joinedload(Assignment.shift).joinedload(Shift.opportunity),
            joinedload(Assignment.position_skill),
        )
        .order_by(Shift.starts_at, Shift.id)
    ).all()
    upcoming = [a for a in rows if a.shift.ends_at >= now]
    past = [a for a in reversed(rows) if a.shift.ends_at < now][:100]
    ranks = {a.id: waitlist_rank(a) for a in upcoming if a.state == "waitlisted"}
    return render_template(
        "volunteer/my_shifts.html",
        upcoming=upcoming,
        past=past,
        ranks=ranks,
        now=now,
        withdrawable=WITHDRAWABLE,
        state_label=state_label,
    )
