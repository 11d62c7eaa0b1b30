"""Coordinator pages of matching runs (start, watch, review, edit, publish) and admin schedules."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.explain import parse_suggestion
from web.authz import role_required
from web.extensions import db
from web.forms.fields import options, parse_int_arg
from web.forms.matching import EditRunForm, ScheduleForm, StartRunForm
from web.labels import REASON_LABELS, RUN_STATUS_LABELS
from web.models import RUN_STATUSES, Governorate, Institution, MatchingRun, MatchingSchedule, User
from web.services import runs as service
from web.services import schedules as schedule_service
from web.services.matching_problem import parse_key

bp = Blueprint("matching", __name__, url_prefix="/coordinate/runs")

PAGE_SIZE = 25


def _scope_choices(form: Any, user: User) -> None:
    allowed = user.governorate_ids()
    governorates = sa.select(Governorate).order_by(Governorate.id)
    institutions = sa.select(Institution).where(Institution.active.is_(True))
    if allowed is not None:
        governorates = governorates.where(Governorate.id.in_(allowed))
        institutions = institutions.where(Institution.governorate_id.in_(allowed))
    form.governorates.choices = options((g.id, g.name) for g in db.session.scalars(governorates))
    form.institutions.choices = options(
        (i.id, i.name) for i in db.session.scalars(institutions.order_by(Institution.id))
    )


def _run_or_404(run_id: int) -> MatchingRun:
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        abort(404)
    if not service.scope_allowed(current_user, run.scope_kind, run.scope_ids):
        abort(403)
    return run


@bp.get("")
@role_required("coordinator", "admin")
def history() -> str:
    """Run history, newest first, filtered by status and trigger."""
    status = request.args.get("status") or None
    trigger = request.args.get("trigger") or None
    if status not in (None, *RUN_STATUSES) or trigger not in (None, *service.TRIGGERS):
        flash(_("Unknown filter; showing all runs."), "warning")
        status = trigger = None
    page = max(1, parse_int_arg(request.args.get("page")) or 1)
    runs = [
        run
        for run in db.session.scalars(service.runs_query(status, trigger))
        if service.scope_allowed(current_user, run.scope_kind, run.scope_ids)
    ]
    shown = runs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "matching/history.html",
        runs=shown,
        page=page,
        has_next=len(runs) > page * PAGE_SIZE,
        status=status,
        trigger=trigger,
        statuses=RUN_STATUSES,
        triggers=service.TRIGGERS,
        describe_scope=service.describe_scope,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("coordinator", "admin")
def new() -> Any:
    """Start a run: scope, window and time limit; the worker solves it."""
    form = StartRunForm()
    _scope_choices(form, current_user)
    if current_user.governorate_ids() is not None and request.method == "GET":
        form.scope_kind.data = "governorates"
    if form.validate_on_submit():
        start, end = service.default_window(form.window_days.data)
        try:
            run = service.start_run(
                current_user,
                form.scope_kind.data,
                form.scope_ids(),
                start,
                end,
                time_limit_s=form.time_limit.data,
            )
        except service.RunError as exc:
            form.form_errors.append(str(exc.message))
            return render_template("matching/new.html", form=form), exc.status
        flash(_("The run is queued. This page shows its progress."), "success")
        return redirect(url_for("matching.detail", run_id=run.id))
    status = 400 if form.errors else 200
    return render_template("matching/new.html", form=form), status


@bp.get("/<int:run_id>")
@role_required("coordinator", "admin")
def detail(run_id: int) -> str:
    """Progress while the run works; then fill beside the bound, shifts, unfilled and the diff."""
    run = _run_or_404(run_id)
    context: dict[str, Any] = {"run": run, "summary": service.summary_lines(run)}
    if run.status in ("proposed", "published", "discarded") and run.solution is not None:
        rows = service.shift_table(run)
        short = [r["shift"].id for r in rows if r["filled"] < r["shift"].needed]
        context.update(
            rows=rows,
            candidates=service.candidates_by_shift(run, short) if run.status == "proposed" else {},
            diff=service.diff_run(run) if run.status == "proposed" else None,
            names=service.volunteer_names(run),
            edit_form=EditRunForm(version=run.version),
            warnings=run.solution.get("warnings", []),
        )
    return render_template("matching/detail.html", **context)


def _service_call(run_id: int, call: Any, success: str) -> Response:
    try:
        call()
    except service.RunError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("matching.detail", run_id=run_id), code=303)
    flash(success, "success")
    return redirect(url_for("matching.detail", run_id=run_id), code=303)


@bp.post("/<int:run_id>/edit")
@role_required("coordinator", "admin")
def edit(run_id: int) -> Response:
    """Pin, remove, restore, add or swap one pair; checked against the matching rules."""
    _run_or_404(run_id)
    form = EditRunForm()
    volunteer_id, other_id = form.people() if form.validate_on_submit() else (None, None)
    if volunteer_id is None or (form.action.data == "swap" and other_id is None):
        flash(_("This change could not be understood."), "error")
        return redirect(url_for("matching.detail", run_id=run_id), code=303)
    return _service_call(
        run_id,
        lambda: service.edit_run(
            run_id, current_user, form.action.data, form.shift_id.data, volunteer_id, other_id
        ),
        _("The proposal was changed."),
    )


@bp.post("/<int:run_id>/publish")
@role_required("coordinator", "admin")
def publish(run_id: int) -> Response:
    """Publish the proposal: offers go out, removed offers are withdrawn, in one transaction."""
    _run_or_404(run_id)
    return _service_call(
        run_id, lambda: service.publish_run(run_id, current_user), _("The roster is published.")
    )


@bp.post("/<int:run_id>/discard")
@role_required("coordinator", "admin")
def discard(run_id: int) -> Response:
    _run_or_404(run_id)
    return _service_call(
        run_id, lambda: service.discard_run(run_id, current_user), _("The run was discarded.")
    )


@bp.route("/schedules", methods=["GET", "POST"])
@role_required("admin")
def schedules() -> Any:
    """Admins keep the nightly runs: scope, local time, window, limit, auto-publish."""
    schedule_id = parse_int_arg(request.args.get("id"))
    schedule = db.session.get(MatchingSchedule, schedule_id) if schedule_id else None
    if schedule_id and schedule is None:
        abort(404)
    form = ScheduleForm(obj=schedule)
    if schedule is not None and request.method == "GET":
        form.time_limit.data = schedule.time_limit_s
        form.governorates.data = schedule.scope_ids if schedule.scope_kind == "governorates" else []
        form.institutions.data = schedule.scope_ids if schedule.scope_kind == "institutions" else []
    _scope_choices(form, current_user)
    status = 200
    if form.validate_on_submit():
        try:
            schedule_service.save_schedule(
                current_user,
                schedule,
                form.scope_kind.data,
                form.scope_ids(),
                name=form.name.data,
                hour=form.hour.data,
                minute=form.minute.data,
                window_days=form.window_days.data,
                time_limit_s=form.time_limit.data,
                auto_publish=form.auto_publish.data,
                enabled=form.enabled.data,
            )
        except service.RunError as exc:
            form.form_errors.append(str(exc.message))
            status = exc.status
        else:
            flash(_("The schedule is saved. The worker applies it within a minute."), "success")
            return redirect(url_for("matching.schedules"))
    elif form.errors:
        status = 400
    return render_template(
        "matching/schedules.html",
        form=form,
        schedule=schedule,
        schedules=schedule_service.all_schedules(),
        describe_scope=service.describe_scope,
    ), status


@bp.post("/schedules/<int:schedule_id>/delete")
@role_required("admin")
def schedule_delete(schedule_id: int) -> Response:
    schedule = db.session.get(MatchingSchedule, schedule_id)
    if schedule is None:
        abort(404)
    schedule_service.delete_schedule(current_user, schedule)
    flash(_("The schedule was deleted."), "success")
    return redirect(url_for("matching.schedules"))


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "run_status_label": run_status_label,
        "run_trigger_label": run_trigger_label,
        "reason_label": reason_label,
        "skill_label": skill_label,
        "suggestion_text": suggestion_text,
        "warning_parts": warning_parts,
    }


def run_status_label(status: str) -> str:
    return str(RUN_STATUS_LABELS.get(status, status))


def run_trigger_label(trigger: str) -> str:
    return {
        "manual": _("Started by hand"),
        "nightly": _("Nightly"),
        "replacement": _("Replacement"),
    }.get(trigger, trigger)


def reason_label(reason: str) -> str:
    """Why candidates were ruled out, in the user's language (the matcher's reason codes)."""
    return str(REASON_LABELS.get(reason, reason))


_LOCKED_WARNING = re.compile(r"^locked pair (?P<vol>v\d+) on (?P<shift>s\d+)(?P<rest>.*); kept$")
_WARNING_RULES = (
    (" breaks a rule (", ")", ", "),
    (": locked shifts exceed the volunteer's ", "", " and "),
)


def warning_parts(text: str) -> dict[str, Any] | None:
    """A matcher warning about a confirmed (locked) pair as volunteer, shift and translated rules.

    The matcher writes them in English with problem ids (``locked pair v18 on s19: locked shifts
    exceed the volunteer's max_shifts; kept``); None when the text has another form.
    """
    match = _LOCKED_WARNING.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    rest = match["rest"]
    codes: list[str] | None = None
    if rest.startswith(" clashes with another locked shift"):
        codes = ["overlap"]
    for head, tail, separator in _WARNING_RULES:
        if rest.startswith(head) and rest.endswith(tail):
            codes = rest[len(head) : len(rest) - len(tail)].split(separator)
    if not codes:
        return None
    return {
        "volunteer_id": parse_key(match["vol"]),
        "shift_id": parse_key(match["shift"]),
        "reasons": [reason_label(code.strip()) for code in codes],
    }


def skill_label(code: str) -> str:
    from web.models import Skill

    skill = db.session.scalar(sa.select(Skill).where(Skill.code == code))
    return skill.name if skill is not None else code


def suggestion_text(suggestion: Any) -> str:
    """One relaxation that would fill a place, in the user's language.

    The matcher stores suggestions as ``"relax=<what>;value=<v>;count=<n>: <English text>"``
    strings; they are parsed here so the page never shows the raw English line.
    """
    if isinstance(suggestion, str) and suggestion.startswith("relax="):
        suggestion = parse_suggestion(suggestion)
    if not isinstance(suggestion, dict):
        return str(suggestion)
    relax, count, value = (
        suggestion.get("relax"),
        suggestion.get("count", 0),
        suggestion.get("value"),
    )
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if relax == "distance":
        return ngettext(
            "%(num)s volunteer within %(km)s km (instead of their own limit) is free.",
            "%(num)s volunteers within %(km)s km (instead of their own limit) are free.",
            count,
            km=value,
        )
    if relax in reason_codes():
        return ngettext(
            "%(num)s more volunteer would qualify if this rule were relaxed: %(rule)s.",
            "%(num)s more volunteers would qualify if this rule were relaxed: %(rule)s.",
            count,
            rule=reason_label(relax),
        )
    return str(suggestion.get("text", ""))


def reason_codes() -> tuple[str, ...]:
    return (
        "availability",
        "gender",
        "age",
        "credentials",
        "languages",
        "skills",
        "caps",
        "max_shifts",
        "max_hours",
        "rest",
        "overlap",
        "schedule",
        "taken_elsewhere",
    )
