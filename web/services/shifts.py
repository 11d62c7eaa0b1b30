"""Shifts of an opportunity: create, edit and cancel them, weekly series, rosters and contacts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel.dates import format_date, format_time
from blinker import Namespace
from dateutil.rrule import WEEKLY, rrule
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from web.extensions import db
from web.models import (
    GENDER_RULES,
    HOLDING_STATES,
    LANGUAGES,
    TRANSITIONS,
    Assignment,
    CredentialType,
    Institution,
    Opportunity,
    Shift,
    ShiftSeries,
    ShiftSkillRequirement,
    Skill,
    User,
    utcnow,
)
from web.services import places as place_counters
from web.services.audit import record

log = logging.getLogger(__name__)

MAX_NEEDED = 500
MAX_AGE = 120
DESCRIPTION_MAX = 500
SERIES_HARD_MAX_WEEKS = 104  # the CHECK constraint on shift_series.weeks
# Assignments a cancelled shift takes with it: every state that may still move to cancelled.
CANCELLABLE_STATES = frozenset(s for s, targets in TRANSITIONS.items() if "cancelled" in targets)

signals = Namespace()
# Sent once per cancelled shift, inside the cancelling transaction, with the assignments it
# cancelled: ``shift_cancelled.send(shift, assignments=[...], actor=user)``. The SMS outbox
# connects a receiver here so the notices are written in the same transaction.
shift_cancelled = signals.signal("shift-cancelled")
# Sent after a shift's details change, inside the same transaction, with what it was before:
# ``shift_changed.send(shift, before={...}, actor=user)`` (times moved: tell the volunteers).
shift_changed = signals.signal("shift-changed")


class RuleError(Exception):
    """A request breaks a rule: the messages per form field (``None`` for the whole form)."""

    def __init__(self, errors: Sequence[tuple[str | None, Any]], status: int = 400) -> None:
        super().__init__("; ".join(str(message) for _field, message in errors))
        self.errors = [(name, str(message)) for name, message in errors]
        self.status = status


@dataclass(frozen=True)
class ShiftDetails:
    """What a shift asks for, apart from its times: places, rules and descriptions."""

    needed: int
    reserved: Mapping[int, int] = field(default_factory=dict)  # skill id -> places
    gender: str = "any"
    min_age: int = 0
    priority: int = 1
    languages: tuple[str, ...] = ()
    description_ar: str = ""
    description_en: str = ""
    # Credential types a volunteer must hold, verified and unexpired at the shift's start.
    credential_type_ids: tuple[int, ...] = ()

    def reserved_places(self) -> dict[int, int]:
        """The reservations that ask for at least one place (zero rows dropped)."""
        return {skill: places for skill, places in self.reserved.items() if places != 0}


def institution_zone(institution: Institution) -> ZoneInfo:
    """The institution's zone (Africa/Cairo when unset or unknown)."""
    name = institution.timezone or current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("institution %s has unknown zone %r; using Africa/Cairo", institution.id, name)
        return ZoneInfo("Africa/Cairo")


class LocalTimeError(ValueError):
    """A local wall time that does not exist or happens twice on that day (clock change)."""

    def __init__(self, kind: str, day: date, at: time) -> None:
        super().__init__(f"{kind} local time {day} {at}")
        self.kind = kind  # "missing" or "ambiguous"
        self.day = day
        self.at = at

    def message(self, zone: ZoneInfo) -> str:
        day = format_date(self.day, "medium", locale=get_locale() or "ar")
        at = format_time(self.at, "short", locale=get_locale() or "ar")
        if self.kind == "missing":
            return str(
                _l(
                    "%(time)s does not exist on %(day)s in %(zone)s: the clocks move forward "
                    "that night. Choose a time outside the skipped hour.",
                    time=at,
                    day=day,
                    zone=zone.key,
                )
            )
        return str(
            _l(
                "%(time)s happens twice on %(day)s in %(zone)s: the clocks move back that "
                "night. Choose a time outside the repeated hour.",
                time=at,
                day=day,
                zone=zone.key,
            )
        )


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Turn a local wall time into an aware UTC datetime; refuse skipped or repeated times."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        raise LocalTimeError("missing" if back != naive else "ambiguous", day, at)
    return first.astimezone(UTC)


def utc_to_local(moment: datetime, institution: Institution) -> datetime:
    """An aware datetime in the institution's zone."""
    return moment.astimezone(institution_zone(institution))


# --- validation ---------------------------------------------------------------------------


def _check_details(details: ShiftDetails) -> list[tuple[str | None, Any]]:
    errors: list[tuple[str | None, Any]] = []
    if not 1 <= details.needed <= MAX_NEEDED:
        errors.append(
            ("needed", _l("Places needed must be between 1 and %(max)s.", max=MAX_NEEDED))
        )
    reserved = details.reserved_places()
    for skill_id, places in reserved.items():
        if places < 0:
            errors.append((f"reserved_{skill_id}", _l("Reserved places cannot be negative.")))
    if reserved:
        known = set(
            db.session.execute(
                sa.select(Skill.id).where(Skill.id.in_(list(reserved)), Skill.active.is_(True))
            ).scalars()
        )
        for skill_id in reserved:
            if skill_id not in known:
                errors.append((None, _l("Choose skills from the list.")))
                break
    total = sum(p for p in reserved.values() if p > 0)
    if details.needed >= 1 and total > details.needed:
        errors.append(
            (
                "needed",
                _l(
                    "Places reserved for skills (%(reserved)s) are more than the places needed "
                    "(%(needed)s).",
                    reserved=total,
                    needed=details.needed,
                ),
            )
        )
    if details.gender not in GENDER_RULES:
        errors.append(("gender", _l("Choose who may take this shift from the list.")))
    if not 0 <= details.min_age <= MAX_AGE:
        errors.append(("min_age", _l("Minimum age must be between 0 and %(max)s.", max=MAX_AGE)))
    if not 1 <= details.priority <= 5:
        errors.append(("priority", _l("Priority must be between 1 and 5.")))
    if any(language not in LANGUAGES for language in details.languages):
        errors.append(("languages", _l("Choose languages from the list.")))
    if details.credential_type_ids:
        ids = set(details.credential_type_ids)
        known = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CredentialType)
            .where(CredentialType.id.in_(ids), CredentialType.active.is_(True))
        )
        if known != len(ids):
            errors.append(("required_credentials", _l("Choose credentials from the list.")))
    for name in ("description_ar", "description_en"):
        if len(getattr(details, name)) > DESCRIPTION_MAX:
            errors.append((name, _l("Keep this under %(max)s characters.", max=DESCRIPTION_MAX)))
    return errors


def _check_times(
    institution: Institution,
    day: date,
    start: time,
    end: time,
    now: datetime,
    day_field: str = "day",
) -> tuple[list[tuple[str | None, Any]], datetime | None, datetime | None]:
    """Errors for one occurrence's times, and its UTC start and end when they are valid."""
    errors: list[tuple[str | None, Any]] = []
    if end <= start:
        errors.append(("end_time", _l("The shift must end after it starts (on the same day).")))
        return errors, None, None
    zone = institution_zone(institution)
    try:
        starts_at = local_to_utc(day, start, zone)
    except LocalTimeError as problem:
        errors.append(("start_time", problem.message(zone)))
        starts_at = None
    try:
        ends_at = local_to_utc(day, end, zone)
    except LocalTimeError as problem:
        errors.append(("end_time", problem.message(zone)))
        ends_at = None
    if starts_at is not None and starts_at <= now:
        errors.append((day_field, _l("This shift would start in the past. Choose a later time.")))
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.append(("end_time", _l("The shift must end after it starts (on the same day).")))
    return errors, starts_at, ends_at


def _require_open_opportunity(opportunity: Opportunity) -> None:
    if opportunity.status == "closed":
        raise RuleError(
            [(None, _l("This opportunity is closed. Reopen it before adding shifts."))], 409
        )


def _apply_details(shift: Shift, details: ShiftDetails) -> None:
    shift.needed = details.needed
    shift.gender = details.gender
    shift.min_age = details.min_age
    shift.priority = details.priority
    shift.languages = list(dict.fromkeys(details.languages))
    shift.description_ar = details.description_ar
    shift.description_en = details.description_en
    wanted = sorted(set(details.credential_type_ids))
    # No autoflush: the caller may not have set the place counters yet (a shift with fewer
    # places and the old open_places would break the CHECK constraint if flushed now).
    with db.session.no_autoflush:
        if [t.id for t in shift.required_credentials] != wanted:
            shift.required_credentials = [db.session.get(CredentialType, i) for i in wanted]


def _new_shift(
    opportunity: Opportunity,
    starts_at: datetime,
    ends_at: datetime,
    details: ShiftDetails,
    series: ShiftSeries | None = None,
) -> Shift:
    reserved = details.reserved_places()
    shift = Shift(
        opportunity=opportunity,
        institution_id=opportunity.institution_id,
        series=series,
        starts_at=starts_at,
        ends_at=ends_at,
        open_places=details.needed - sum(reserved.values()),
        open_taken=0,
        status="open",
    )
    _apply_details(shift, details)
    for skill_id, places in sorted(reserved.items()):
        shift.requirements.append(ShiftSkillRequirement(skill_id=skill_id, places=places, taken=0))
    return shift


def _details_for_audit(details: ShiftDetails) -> dict[str, Any]:
    return {
        "needed": details.needed,
        "reserved": {str(k): v for k, v in sorted(details.reserved_places().items())},
        "gender": details.gender,
        "min_age": details.min_age,
        "priority": details.priority,
        "languages": list(details.languages),
        "credentials": sorted(set(details.credential_type_ids)),
    }


# --- single shifts ------------------------------------------------------------------------


def create_shift(
    actor: User,
    opportunity: Opportunity,
    day: date,
    start: time,
    end: time,
    details: ShiftDetails,
    now: datetime | None = None,
    *,
    commit: bool = True,
) -> Shift:
    """Create one shift of an opportunity from local times in the institution's zone.

    ``commit=False`` leaves the transaction open (an import writes many rows in one).
    """
    now = now or utcnow()
    _require_open_opportunity(opportunity)
    errors = _check_details(details)
    time_errors, starts_at, ends_at = _check_times(opportunity.institution, day, start, end, now)
    errors += time_errors
    if errors:
        raise RuleError(errors)
    assert starts_at is not None and ends_at is not None
    shift = _new_shift(opportunity, starts_at, ends_at, details)
    db.session.add(shift)
    db.session.flush()
    record(
        actor,
        "shift.create",
        "shift",
        shift.id,
        opportunity_id=opportunity.id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
        **_details_for_audit(details),
    )
    if commit:
        db.session.commit()
    return shift


def lock_shift(shift_id: int) -> Shift:
    """Load a shift and its skill reservations with fresh counters, locked until commit.

    PostgreSQL locks the rows (``FOR UPDATE``); SQLite has no row locks, so a no-op write
    first takes the database's single write lock, and no sign-up can commit in between.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        table = Shift.__table__
        db.session.execute(
            sa.update(table).where(table.c.id == shift_id).values(status=table.c.status)
        )
    shift = db.session.execute(
        sa.select(Shift)
        .where(Shift.id == shift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    db.session.execute(
        sa.select(ShiftSkillRequirement)
        .where(ShiftSkillRequirement.shift_id == shift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars().all()
    return shift


def _require_changeable(shift: Shift, now: datetime) -> None:
    if shift.status == "cancelled":
        raise RuleError([(None, _l("This shift is cancelled and can no longer be changed."))], 409)
    if shift.starts_at <= now:
        raise RuleError(
            [(None, _l("This shift has already started and can no longer be changed."))], 409
        )


def _lock_changeable(shift_id: int, now: datetime) -> Shift:
    """Lock a shift that may still change; on refusal the lock is released at once."""
    shift = lock_shift(shift_id)
    try:
        _require_changeable(shift, now)
    except RuleError:
        db.session.rollback()
        raise
    return shift


def update_shift(
    actor: User,
    shift: Shift,
    day: date,
    start: time,
    end: time,
    details: ShiftDetails,
    now: datetime | None = None,
) -> Shift:
    """Change a future shift; places never drop below those already taken."""
    now = now or utcnow()
    shift = _lock_changeable(shift.id, now)
    errors = _check_details(details)
    time_errors, starts_at, ends_at = _check_times(shift.institution, day, start, end, now)
    errors += time_errors
    reserved = details.reserved_places()
    for requirement in shift.requirements:
        wanted = reserved.get(requirement.skill_id, 0)
        if wanted < requirement.taken:
            errors.append(
                (
                    f"reserved_{requirement.skill_id}",
                    ngettext(
                        "%(num)s volunteer already holds a place reserved for this skill; "
                        "keep at least %(num)s.",
                        "%(num)s volunteers already hold places reserved for this skill; "
                        "keep at least %(num)s.",
                        requirement.taken,
                    ),
                )
            )
    open_places = details.needed - sum(p for p in reserved.values() if p > 0)
    if details.needed < shift.taken:
        errors.append(
            (
                "needed",
                ngettext(
                    "%(num)s place is already taken; places needed cannot be fewer.",
                    "%(num)s places are already taken; places needed cannot be fewer.",
                    shift.taken,
                ),
            )
        )
    elif 0 <= open_places < shift.open_taken:
        errors.append(
            (
                "needed",
                ngettext(
                    "%(num)s volunteer holds a place open to everyone; leave at least "
                    "%(num)s place unreserved.",
                    "%(num)s volunteers hold places open to everyone; leave at least "
                    "%(num)s places unreserved.",
                    shift.open_taken,
                ),
            )
        )
    if errors:
        db.session.rollback()
        raise RuleError(errors)
    assert starts_at is not None and ends_at is not None
    before = {
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "needed": shift.needed,
        "reserved": {str(r.skill_id): r.places for r in shift.requirements},
    }
    by_skill = {r.skill_id: r for r in shift.requirements}
    for skill_id, requirement in by_skill.items():
        if skill_id in reserved:
            requirement.places = reserved[skill_id]
        else:
            shift.requirements.remove(requirement)  # taken is 0 here (checked above)
    for skill_id, places in sorted(reserved.items()):
        if skill_id not in by_skill:
            shift.requirements.append(
                ShiftSkillRequirement(skill_id=skill_id, places=places, taken=0)
            )
    shift.starts_at = starts_at
    shift.ends_at = ends_at
    _apply_details(shift, details)
    shift.open_places = open_places
    record(
        actor,
        "shift.update",
        "shift",
        shift.id,
        before=before,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
        **_details_for_audit(details),
    )
    shift_changed.send(shift, before=before, actor=actor)
    db.session.commit()
    return shift


def _release_place(shift: Shift, assignment: Assignment) -> None:
    """Give back the place an assignment held, on the counter it was taken from."""
    if assignment.state in HOLDING_STATES:
        place_counters.release(assignment)
        db.session.expire(shift, ["open_taken"])
        for requirement in shift.requirements:
            db.session.expire(requirement, ["taken"])


def cancel_locked(
    actor: User, shift: Shift, now: datetime, reason: str, action: str = "shift.cancel"
) -> list[Assignment]:
    """Cancel a shift locked by ``lock_shift`` and its assignments; the caller commits."""
    assignments = list(
        db.session.execute(
            sa.select(Assignment)
            .where(
                Assignment.shift_id == shift.id,
                Assignment.state.in_(sorted(CANCELLABLE_STATES)),
            )
            .order_by(Assignment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalars()
    )
    for assignment in assignments:
        _release_place(shift, assignment)
        assignment.state = "cancelled"
        assignment.waitlist_position = None
        assignment.state_changed_at = now
    shift.status = "cancelled"
    shift.cancelled_at = now
    record(
        actor,
        action,
        "shift",
        shift.id,
        reason=reason,
        assignments_cancelled=[a.id for a in assignments],
    )
    shift_cancelled.send(shift, assignments=assignments, actor=actor)
    return assignments


def cancel_shift(
    actor: User, shift: Shift, reason: str = "", now: datetime | None = None
) -> list[Assignment]:
    """Cancel a future shift and every assignment on it; places are released."""
    now = now or utcnow()
    shift = _lock_changeable(shift.id, now)
    assignments = cancel_locked(actor, shift, now, reason)
    db.session.commit()
    return assignments


# --- weekly series --------------------------------------------------------------------------


def series_max_weeks() -> int:
    """The longest series a manager may create (config SERIES_MAX_WEEKS, at most 104)."""
    configured = int(current_app.config.get("SERIES_MAX_WEEKS", 26))
    return max(1, min(configured, SERIES_HARD_MAX_WEEKS))


def series_days(first_day: date, weeks: int) -> list[date]:
    """The dates of a weekly series: the weekday of ``first_day``, ``weeks`` times."""
    start = datetime.combine(first_day, time())
    return [moment.date() for moment in rrule(WEEKLY, dtstart=start, count=weeks)]


def create_series(
    actor: User,
    opportunity: Opportunity,
    first_day: date,
    start: time,
    end: time,
    weeks: int,
    excluded: Iterable[date],
    details: ShiftDetails,
    now: datetime | None = None,
) -> ShiftSeries:
    """Create a weekly series and one shift per week at the same local time (DST-correct)."""
    now = now or utcnow()
    _require_open_opportunity(opportunity)
    errors = _check_details(details)
    max_weeks = series_max_weeks()
    excluded_days = sorted(set(excluded))
    if not 1 <= weeks <= max_weeks:
        errors.append(
            ("weeks", _l("Number of weeks must be between 1 and %(max)s.", max=max_weeks))
        )
        raise RuleError(errors)
    days = series_days(first_day, weeks)
    outside = [d for d in excluded_days if d not in days]
    if outside:
        errors.append(
            (
                "excluded_days",
                _l(
                    "%(day)s is not one of the dates of this series.",
                    day=format_date(outside[0], "medium", locale=get_locale() or "ar"),
                ),
            )
        )
    occurrences = [d for d in days if d not in set(excluded_days)]
    if not occurrences:
        errors.append(("excluded_days", _l("Every date of the series is excluded.")))
    if end <= start:
        errors.append(("end_time", _l("The shift must end after it starts (on the same day).")))
    if errors:
        raise RuleError(errors)
    times: list[tuple[datetime, datetime]] = []
    for index, day in enumerate(occurrences):
        time_errors, starts_at, ends_at = _check_times(
            opportunity.institution, day, start, end, now, day_field="first_day"
        )
        if index > 0:  # only the earliest date can be in the past
            time_errors = [e for e in time_errors if e[0] != "first_day"]
        if time_errors:
            errors += time_errors
            break
        assert starts_at is not None and ends_at is not None
        times.append((starts_at, ends_at))
    if errors:
        raise RuleError(errors)
    series = ShiftSeries(
        opportunity=opportunity,
        first_day=first_day,
        weeks=weeks,
        start_time=start,
        end_time=end,
        excluded_days=[d.isoformat() for d in excluded_days],
    )
    db.session.add(series)
    for starts_at, ends_at in times:
        db.session.add(_new_shift(opportunity, starts_at, ends_at, details, series=series))
    db.session.flush()
    record(
        actor,
        "series.create",
        "shift_series",
        series.id,
        opportunity_id=opportunity.id,
        first_day=first_day.isoformat(),
        weeks=weeks,
        start_time=start.isoformat(),
        end_time=end.isoformat(),
        excluded_days=series.excluded_days,
        shifts=[s.id for s in series.shifts],
        **_details_for_audit(details),
    )
    db.session.commit()
    return series


def cancel_occurrence(
    actor: User, shift: Shift, reason: str = "", now: datetime | None = None
) -> list[Assignment]:
    """Cancel one shift of a series and record its date among the series' exceptions."""
    now = now or utcnow()
    shift = _lock_changeable(shift.id, now)
    series = shift.series
    if series is not None:
        local_day = utc_to_local(shift.starts_at, shift.institution).date().isoformat()
        series.excluded_days = sorted({*series.excluded_days, local_day})
    assignments = cancel_locked(actor, shift, now, reason, action="series.cancel_occurrence")
    db.session.commit()
    return assignments


def cancel_rest_of_series(
    actor: User, shift: Shift, reason: str = "", now: datetime | None = None
) -> list[Shift]:
    """Cancel this occurrence and every later open one of its series."""
    now = now or utcnow()
    if shift.series_id is None:
        cancel_shift(actor, shift, reason, now)
        return [shift]
    shift = _lock_changeable(shift.id, now)
    later_ids = (
        db.session.execute(
            sa.select(Shift.id)
            .where(
                Shift.series_id == shift.series_id,
                Shift.status == "open",
                Shift.starts_at >= shift.starts_at,
                Shift.starts_at > now,
            )
            .order_by(Shift.id)  # id order, as every multi-shift transaction locks
        )
        .scalars()
        .all()
    )
    cancelled = []
    for shift_id in later_ids:
        target = lock_shift(shift_id)
        cancel_locked(actor, target, now, reason, action="series.cancel_rest")
        cancelled.append(target)
    db.session.commit()
    return cancelled


# --- reading ------------------------------------------------------------------------------


def upcoming_shifts(
    institution_ids: Sequence[int], now: datetime | None = None, limit: int | None = None
) -> list[Shift]:
    """Open shifts of these institutions that have not started, soonest first."""
    now = now or utcnow()
    if not institution_ids:
        return []
    query = (
        sa.select(Shift)
        .where(
            Shift.institution_id.in_(list(institution_ids)),
            Shift.status == "open",
            Shift.starts_at > now,
        )
        .order_by(Shift.starts_at, Shift.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


ROSTER_ORDER = ("confirmed", "offered", "attended", "no_show", "waitlisted", "proposed")


def roster(shift: Shift) -> list[Assignment]:
    """Everyone on a shift: holders first, then the waitlist in order, then the rest."""
    assignments = list(
        db.session.execute(
            sa.select(Assignment)
            .where(Assignment.shift_id == shift.id)
            .options(joinedload(Assignment.volunteer))
        ).scalars()
    )

    def key(a: Assignment) -> tuple[int, int, int]:
        rank = ROSTER_ORDER.index(a.state) if a.state in ROSTER_ORDER else len(ROSTER_ORDER)
        return rank, a.waitlist_position or 0, a.id

    return sorted(assignments, key=key)


def confirmed_contacts(
    institution: Institution, now: datetime | None = None
) -> list[tuple[Shift, User]]:
    """Confirmed volunteers of the institution's upcoming shifts, by shift then name."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Shift, User)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .join(User, User.id == Assignment.volunteer_id)
        .where(
            Shift.institution_id == institution.id,
            Shift.status == "open",
            Shift.starts_at > now,
            Assignment.state == "confirmed",
        )
        .order_by(Shift.starts_at, Shift.id, User.full_name, User.id)
    ).all()
    return [(row[0], row[1]) for row in rows]
