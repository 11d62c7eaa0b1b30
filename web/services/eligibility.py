"""The volunteer's matchable data: profile updates, the adapter to matcher.model and rule checks.

Every matching rule is decided by ``matcher.eligibility``; this module only turns database rows
into ``matcher.model`` objects, picks which of the volunteer's shifts a rule looks at (weekly
caps count the ISO week, Monday to Sunday in the volunteer's zone, of the shift's start) and
narrows the database search before the exact rules run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from matcher import eligibility as rules
from matcher import model as m
from web.extensions import db
from web.models import (
    HOLDING_STATES,
    Assignment,
    Governorate,
    Institution,
    Opportunity,
    Shift,
    ShiftSkillRequirement,
    Skill,
    User,
    VolunteerProfile,
    utcnow,
)
from web.models.opportunity import opportunity_skill
from web.services import programme_access
from web.services.audit import record
from web.services.availability import profile_zone, windows_for
from web.services.credentials import credentials_for_profile, missing_texts, required_codes

PREFERENCE_WEIGHT = 3  # every preferred institution counts as a strong preference (1..3)
DEFAULT_MIN_REST_MINUTES = 30
DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 92
PAGE_SIZE = 20
MAX_SCAN = 5000  # candidate rows read from the database for one page at most
# States in which the volunteer already has this shift (sign-up is refused, the list hides it).
ACTIVE_STATES = frozenset(HOLDING_STATES | {"waitlisted", "proposed"})

REASON_TEXTS = {
    "availability": _l("You are not available at this time (see your weekly availability)."),
    "gender": _l("This shift is for volunteers of another gender."),
    "age": _l("This shift has a minimum age (add your date of birth if it is missing)."),
    "credentials": _l("This shift needs a credential you do not hold."),
    "languages": _l("This shift needs a language you do not speak."),
    "distance": _l("This institution is farther away than your travel radius."),
    "skills": _l("The places on this shift are reserved for skills you do not have."),
    "overlap": _l("It overlaps another shift of yours."),
    "rest": _l("It leaves too little rest between it and another shift of yours."),
    "max_shifts": _l("It would go over your maximum number of shifts that week."),
    "max_hours": _l("It would go over your maximum hours that week."),
    "profile_incomplete": _l("Add your governorate or home location to your profile first."),
    "not_volunteer": _l("Only volunteers can sign up for shifts."),
    "past": _l("This shift has already started."),
    "cancelled": _l("This shift was cancelled."),
    "not_open": _l("This shift is not open for sign-up."),
    "already": _l("You are already on this shift."),
    "not_signed_up": _l("You are not signed up for this shift."),
    "not_withdrawable": _l("This sign-up can no longer be withdrawn."),
}


def reason_texts(
    codes: Iterable[str],
    *,
    profile: VolunteerProfile | None = None,
    shift: Shift | None = None,
) -> list[str]:
    """The reasons, in the active language, for codes of REASON_TEXTS.

    Given the shift (and the volunteer's profile), a missing credential is named: "This shift
    needs a verified, unexpired First-aid certificate...".
    """
    texts: list[str] = []
    for code in codes:
        if code == "credentials" and shift is not None:
            named = missing_texts(profile, shift)
            if named:
                texts.extend(named)
                continue
        texts.append(str(REASON_TEXTS.get(code, code)))
    return texts


def min_rest_minutes() -> int:
    """The minimum rest between two shifts of a volunteer (config MIN_REST_MINUTES)."""
    return int(current_app.config.get("MIN_REST_MINUTES", DEFAULT_MIN_REST_MINUTES))


# ---- ids and the adapter to matcher.model ----------------------------------------------------


def volunteer_key(user_id: int) -> str:
    return f"v{user_id}"


def shift_key(shift_id: int) -> str:
    return f"s{shift_id}"


def institution_key(institution_id: int) -> str:
    return f"i{institution_id}"


def parse_key(key: str) -> int:
    """The database id inside a matcher id such as ``s42``."""
    return int(key[1:])


def home_point(profile: VolunteerProfile) -> tuple[float, float] | None:
    """The volunteer's home, or the centre of their governorate, or None when neither is known."""
    if profile.home_lat is not None and profile.home_lon is not None:
        return profile.home_lat, profile.home_lon
    if profile.governorate is not None:
        return profile.governorate.lat, profile.governorate.lon
    return None


def institution_model(institution: Institution) -> m.Institution:
    return m.Institution(
        id=institution_key(institution.id),
        lat=institution.lat,
        lon=institution.lon,
        kind=institution.kind,
    )


def shift_model(shift: Shift) -> m.Shift:
    return m.Shift(
        id=shift_key(shift.id),
        institution_id=institution_key(shift.institution_id),
        start=shift.starts_at,
        end=shift.ends_at,
        needed=shift.needed,
        required_skills={r.skill.code: r.places for r in shift.requirements},
        gender=shift.gender,
        min_age=shift.min_age,
        languages=frozenset(shift.languages or ()),
        priority=shift.priority,
        # the shift's own credential types and those of its programme cohort
        required_credentials=frozenset(t.code for t in shift.required_credentials)
        | programme_access.required_for_shift(shift),
    )


def volunteer_model(
    profile: VolunteerProfile,
    start: datetime,
    end: datetime,
    *,
    age_on: date | None = None,
    caps: bool = True,
) -> m.Volunteer | None:
    """The volunteer as the matcher sees them, available between ``start`` and ``end``.

    ``age_on`` is the day the age is taken on (default: the local day of ``start``); ``caps``
    carries the weekly caps as the volunteer's caps. Credentials are those verified and valid
    on the local day of ``start`` (with their expiry, which the rules compare with each shift's
    start). None when no home point is known.
    """
    point = home_point(profile)
    if point is None:
        return None
    zone = profile_zone(profile)
    credentials = credentials_for_profile(profile, start.astimezone(zone).date())
    windows = tuple(m.Window(a, b) for a, b in windows_for(profile, start, end))
    return m.Volunteer(
        id=volunteer_key(profile.user_id),
        skills=frozenset(s.code for s in profile.skills),
        gender=profile.gender,
        age=profile.age_on(age_on or start.astimezone(zone).date()),
        lat=point[0],
        lon=point[1],
        max_travel_km=profile.travel_radius_km,
        availability=windows,
        max_shifts=profile.max_shifts_per_week if caps else None,
        max_hours=profile.max_hours_per_week if caps else None,
        preferences={
            institution_key(i.id): PREFERENCE_WEIGHT for i in profile.preferred_institutions
        },
        languages=frozenset(profile.languages or ()),
        credentials=credentials + programme_access.credentials_of(profile.user_id),
    )


# ---- rule checks --------------------------------------------------------------------------------


def week_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The ISO week (Monday 00:00 to the next Monday 00:00, local) holding ``moment``, in UTC."""
    local = moment.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def holding_shifts(
    user_id: int, start: datetime, end: datetime, *, exclude_shift_id: int | None = None
) -> list[Shift]:
    """The open shifts between ``start`` and ``end`` on which the volunteer holds a place."""
    query = (
        sa.select(Shift)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .where(
            Assignment.volunteer_id == user_id,
            Assignment.state.in_(sorted(HOLDING_STATES)),
            Shift.status == "open",
            Shift.ends_at > start,
            Shift.starts_at < end,
        )
        .order_by(Shift.starts_at, Shift.id)
    )
    if exclude_shift_id is not None:
        query = query.where(Shift.id != exclude_shift_id)
    return list(db.session.scalars(query))


def schedule_check(
    volunteer: m.Volunteer,
    shift: m.Shift,
    taken: Sequence[m.Shift],
    zone: ZoneInfo,
    rest_minutes: int,
) -> tuple[str, ...]:
    """Clash with any taken shift, and the weekly caps over the taken shifts of the same week."""
    week_start, week_end = week_bounds(shift.start, zone)
    same_week = [t for t in taken if week_start <= t.start < week_end]
    other = [t for t in taken if not week_start <= t.start < week_end]
    found = set(rules.schedule_reasons(volunteer, shift, same_week, rest_minutes))
    if other:
        uncapped = dataclasses.replace(volunteer, max_shifts=None, max_hours=None)
        found.update(rules.schedule_reasons(uncapped, shift, other, rest_minutes))
    return tuple(r for r in rules.SCHEDULE_REASONS if r in found)


@dataclass(frozen=True)
class Verdict:
    """What the rules say about one volunteer and one shift."""

    reasons: tuple[str, ...]
    positions: tuple[str | None, ...] = ()
    distance_km: float | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons


def check_pair(
    profile: VolunteerProfile,
    shift: Shift,
    *,
    taken: Sequence[Shift] | None = None,
    rest_minutes: int | None = None,
) -> Verdict:
    """Every matching rule for the volunteer taking a place of ``shift`` (reasons empty = ok).

    ``taken`` are the shifts the volunteer already holds (queried when not given).
    """
    rest = min_rest_minutes() if rest_minutes is None else rest_minutes
    margin = timedelta(days=1)
    zone = profile_zone(profile)
    volunteer = volunteer_model(
        profile,
        shift.starts_at - margin,
        shift.ends_at + margin,
        age_on=shift.starts_at.astimezone(zone).date(),
    )
    if volunteer is None:
        return Verdict(("profile_incomplete",))
    if taken is None:
        week_start, week_end = week_bounds(shift.starts_at, zone)
        rest_delta = timedelta(minutes=rest)
        taken = holding_shifts(
            profile.user_id,
            min(week_start, shift.starts_at - rest_delta),
            max(week_end, shift.ends_at + rest_delta),
            exclude_shift_id=shift.id,
        )
    return _verdict(
        volunteer, shift, [shift_model(t) for t in taken if t.id != shift.id], zone, rest
    )


def _verdict(
    volunteer: m.Volunteer,
    shift: Shift,
    taken: Sequence[m.Shift],
    zone: ZoneInfo,
    rest: int,
) -> Verdict:
    return verdict_for(
        volunteer, shift_model(shift), institution_model(shift.institution), taken, zone, rest
    )


def verdict_for(
    volunteer: m.Volunteer,
    shift: m.Shift,
    institution: m.Institution,
    taken: Sequence[m.Shift],
    zone: ZoneInfo,
    rest: int,
) -> Verdict:
    """Every rule for matcher objects: the static pair rules, then clash and weekly caps."""
    reasons = rules.pair_reasons(volunteer, shift, institution)
    reasons += schedule_check(volunteer, shift, taken, zone, rest)
    return Verdict(
        reasons=reasons,
        positions=rules.positions_for(volunteer, shift),
        distance_km=rules.distance_km(volunteer, institution),
    )


def free_for(shift: Shift, positions: Iterable[str | None]) -> int:
    """Free places of ``shift`` among the positions a volunteer may fill."""
    free = 0
    by_code = {r.skill.code: r for r in shift.requirements}
    for position in positions:
        if position is None:
            free += max(0, shift.open_places - shift.open_taken)
        elif position in by_code:
            free += max(0, by_code[position].places - by_code[position].taken)
    return free


# ---- "shifts I can do" -----------------------------------------------------------------------


@dataclass
class ShiftFilters:
    """Filters of the list of shifts a volunteer can do (already validated)."""

    governorate_id: int | None = None
    kind: str | None = None
    skill_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1


@dataclass(frozen=True)
class ShiftOption:
    """One shift the volunteer may sign up for, with how far it is and what is free for them."""

    shift: Shift
    distance_km: float
    free: int
    positions: tuple[str | None, ...]

    @property
    def waitlist(self) -> bool:
        return self.free <= 0


@dataclass
class ShiftPage:
    """A page of eligible shifts; ``incomplete`` when the profile lacks a home point."""

    items: list[ShiftOption] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    incomplete: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """Latitude and longitude bounds holding every point within ``radius_km`` (with a margin)."""
    km_per_degree = rules.EARTH_RADIUS_KM * math.pi / 180.0
    dlat = radius_km / km_per_degree * 1.01 + 1e-6
    lat_lo, lat_hi = lat - dlat, lat + dlat
    widest = max(abs(lat_lo), abs(lat_hi))
    if widest >= 89.0:
        return max(-90.0, lat_lo), min(90.0, lat_hi), -180.0, 180.0
    dlon = dlat / math.cos(math.radians(widest))
    lon_lo, lon_hi = lon - dlon, lon + dlon
    if lon_lo < -180.0 or lon_hi > 180.0:
        lon_lo, lon_hi = -180.0, 180.0
    return lat_lo, lat_hi, lon_lo, lon_hi


def date_range(
    profile: VolunteerProfile, filters: ShiftFilters, now: datetime
) -> tuple[datetime, datetime]:
    """The UTC range the list covers: local days date_from..date_to (default four weeks)."""
    zone = profile_zone(profile)
    first = filters.date_from or now.astimezone(zone).date()
    last = filters.date_to or first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    last = min(last, first + timedelta(days=MAX_RANGE_DAYS - 1))
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return max(start, now), end


CANDIDATE_COLUMNS = (
    Shift.id,
    Shift.institution_id,
    Shift.starts_at,
    Shift.ends_at,
    Shift.needed,
    Shift.open_places,
    Shift.open_taken,
    Shift.gender,
    Shift.min_age,
    Shift.languages,
    Shift.priority,
    Institution.lat,
    Institution.lon,
    Institution.kind,
    Opportunity.cohort_id,
)


def candidate_query(
    profile: VolunteerProfile, filters: ShiftFilters, start: datetime, end: datetime
) -> sa.Select[Any]:
    """Open, future shifts of open opportunities within the range and the radius's bounding box.

    Plain columns, not ORM objects: the rules run on light rows, and only the shifts of the page
    are then loaded as objects.
    """
    point = home_point(profile)
    assert point is not None
    lat_lo, lat_hi, lon_lo, lon_hi = bounding_box(point[0], point[1], profile.travel_radius_km)
    mine = sa.exists().where(
        Assignment.shift_id == Shift.id,
        Assignment.volunteer_id == profile.user_id,
        Assignment.state.in_(sorted(ACTIVE_STATES)),
    )
    query = (
        sa.select(*CANDIDATE_COLUMNS)
        .join(Institution, Institution.id == Shift.institution_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .where(
            Shift.status == "open",
            Shift.starts_at >= start,
            Shift.starts_at < end,
            Opportunity.status == "open",
            Institution.active.is_(True),
            Institution.lat.between(lat_lo, lat_hi),
            Institution.lon.between(lon_lo, lon_hi),
            ~mine,
        )
        .order_by(Shift.starts_at, Shift.id)
    )
    if filters.governorate_id is not None:
        query = query.where(Institution.governorate_id == filters.governorate_id)
    if filters.kind:
        query = query.where(Institution.kind == filters.kind)
    if filters.skill_id is not None:
        reserved = sa.exists().where(
            ShiftSkillRequirement.shift_id == Shift.id,
            ShiftSkillRequirement.skill_id == filters.skill_id,
        )
        listed = sa.exists().where(
            opportunity_skill.c.opportunity_id == Shift.opportunity_id,
            opportunity_skill.c.skill_id == filters.skill_id,
        )
        query = query.where(sa.or_(reserved, listed))
    return query


def shifts_i_can_do(
    user: User,
    filters: ShiftFilters,
    *,
    now: datetime | None = None,
    per_page: int = PAGE_SIZE,
) -> ShiftPage:
    """The page of shifts the volunteer may sign up for: SQL narrows, matcher rules decide."""
    now = now or utcnow()
    page = ShiftPage(page=max(1, filters.page))
    profile = user.profile
    if profile is None or home_point(profile) is None:
        page.incomplete = True
        return page
    start, end = date_range(profile, filters, now)
    if end <= start:
        return page
    rest = min_rest_minutes()
    rest_delta = timedelta(minutes=rest)
    zone = profile_zone(profile)
    margin = timedelta(days=8)
    volunteer = volunteer_model(
        profile,
        start - timedelta(days=1),
        end + timedelta(days=2),
        age_on=start.astimezone(zone).date(),
    )
    assert volunteer is not None
    taken = [shift_model(s) for s in holding_shifts(profile.user_id, start - margin, end + margin)]
    age_changes = profile.age_on(start.astimezone(zone).date()) != profile.age_on(
        end.astimezone(zone).date()
    )
    query = candidate_query(profile, filters, start, end)
    skip = (page.page - 1) * per_page
    batch = 500
    scanned = 0
    chosen: list[tuple[int, Verdict, int]] = []
    institutions: dict[int, m.Institution] = {}
    while scanned < MAX_SCAN and not page.has_next:
        rows = db.session.execute(query.limit(batch).offset(scanned)).all()
        scanned += len(rows)
        requirements = _requirements_of([row.id for row in rows])
        cohort_rules = programme_access.required_for_cohorts(row.cohort_id for row in rows)
        needs = required_codes([row.id for row in rows])
        for row in rows:
            # Most candidates fail on availability: ask that rule first, before building models.
            if rules.covering_window(volunteer, row.starts_at, row.ends_at) is None:
                continue
            reserved = requirements.get(row.id, {})
            mshift = m.Shift(
                id=shift_key(row.id),
                institution_id=institution_key(row.institution_id),
                start=row.starts_at,
                end=row.ends_at,
                needed=row.needed,
                required_skills={code: places for code, (places, _) in reserved.items()},
                gender=row.gender,
                min_age=row.min_age,
                languages=frozenset(row.languages or ()),
                priority=row.priority,
                required_credentials=needs.get(row.id, frozenset())
                | cohort_rules.get(row.cohort_id, frozenset()),
            )
            minst = institutions.get(row.institution_id)
            if minst is None:
                minst = m.Institution(
                    id=institution_key(row.institution_id), lat=row.lat, lon=row.lon, kind=row.kind
                )
                institutions[row.institution_id] = minst
            who = volunteer
            if age_changes:
                who = dataclasses.replace(
                    volunteer, age=profile.age_on(row.starts_at.astimezone(zone).date())
                )
            low = row.starts_at - rest_delta - timedelta(days=7)
            high = row.ends_at + rest_delta + timedelta(days=7)
            near = [t for t in taken if t.end > low and t.start < high]
            verdict = verdict_for(who, mshift, minst, near, zone, rest)
            if not verdict.ok:
                continue
            if skip:
                skip -= 1
                continue
            if len(chosen) == per_page:
                page.has_next = True
                break
            free = sum(
                max(0, row.open_places - row.open_taken)
                if position is None
                else max(0, reserved[position][0] - reserved[position][1])
                for position in verdict.positions
            )
            chosen.append((row.id, verdict, free))
        if len(rows) < batch:
            break
    page.items = _options(chosen)
    return page


def _requirements_of(shift_ids: list[int]) -> dict[int, dict[str, tuple[int, int]]]:
    """Reserved places per shift: skill code -> (places, taken)."""
    found: dict[int, dict[str, tuple[int, int]]] = {}
    if not shift_ids:
        return found
    rows = db.session.execute(
        sa.select(
            ShiftSkillRequirement.shift_id,
            Skill.code,
            ShiftSkillRequirement.places,
            ShiftSkillRequirement.taken,
        )
        .join(Skill, Skill.id == ShiftSkillRequirement.skill_id)
        .where(ShiftSkillRequirement.shift_id.in_(shift_ids))
    )
    for shift_id, code, places, taken in rows:
        found.setdefault(shift_id, {})[code] = (places, taken)
    return found


def _options(chosen: list[tuple[int, Verdict, int]]) -> list[ShiftOption]:
    """The chosen shifts as objects (institution, opportunity, requirements loaded), in order."""
    if not chosen:
        return []
    shifts = db.session.scalars(
        sa.select(Shift)
        .where(Shift.id.in_([shift_id for shift_id, _, _ in chosen]))
        .options(
            joinedload(Shift.institution),
            joinedload(Shift.opportunity),
            selectinload(Shift.requirements).joinedload(ShiftSkillRequirement.skill),
        )
    ).unique()
    by_id = {shift.id: shift for shift in shifts}
    return [
        ShiftOption(
            shift=by_id[shift_id],
            distance_km=verdict.distance_km or 0.0,
            free=free,
            positions=verdict.positions,
        )
        for shift_id, verdict, free in chosen
        if shift_id in by_id
    ]


# ---- the profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileInput:
    """A validated profile form."""

    gender: str | None
    date_of_birth: date | None
    governorate_id: int | None
    home_lat: float | None
    home_lon: float | None
    travel_radius_km: float
    skill_ids: tuple[int, ...]
    languages: tuple[str, ...]
    max_shifts_per_week: int | None
    max_hours_per_week: float | None
    preferred_institution_ids: tuple[int, ...]
    sms_consent: bool


class ProfileError(ValueError):
    """The profile refers to something that does not exist (``code`` names the field)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def get_or_create_profile(user: User) -> VolunteerProfile:
    """The volunteer's profile, added to the session (not committed) when they have none yet."""
    if user.profile is None:
        tz = current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo")
        user.profile = VolunteerProfile(timezone=tz, languages=["ar"], travel_radius_km=15.0)
        db.session.add(user.profile)
    return user.profile


def update_profile(
    actor: User, user: User, data: ProfileInput, *, commit: bool = True
) -> VolunteerProfile:
    """Write the profile in one transaction, with an audit event listing what changed."""
    governorate = None
    if data.governorate_id is not None:
        governorate = db.session.get(Governorate, data.governorate_id)
        if governorate is None:
            raise ProfileError("governorate")
    skills = list(
        db.session.scalars(
            sa.select(Skill).where(Skill.id.in_(data.skill_ids), Skill.active.is_(True))
        )
    )
    if len(skills) != len(set(data.skill_ids)):
        raise ProfileError("skills")
    institutions = list(
        db.session.scalars(
            sa.select(Institution).where(
                Institution.id.in_(data.preferred_institution_ids), Institution.active.is_(True)
            )
        )
    )
    if len(institutions) != len(set(data.preferred_institution_ids)):
        raise ProfileError("preferred_institutions")
    profile = get_or_create_profile(user)
    before = _snapshot(profile)
    profile.gender = data.gender
    profile.date_of_birth = data.date_of_birth
    profile.governorate = governorate
    profile.home_lat = data.home_lat
    profile.home_lon = data.home_lon
    profile.travel_radius_km = data.travel_radius_km
    profile.skills = sorted(skills, key=lambda s: s.id)
    profile.languages = list(data.languages)
    profile.max_shifts_per_week = data.max_shifts_per_week
    profile.max_hours_per_week = data.max_hours_per_week
    profile.preferred_institutions = sorted(institutions, key=lambda i: i.id)
    # A STOP by text (sms_opted_out_at) is only undone by START, as the SMS provider requires.
    profile.sms_consent = data.sms_consent
    db.session.flush()
    after = _snapshot(profile)
    changed = sorted(key for key in after if after[key] != before.get(key))
    record(actor, "profile.updated", "volunteer_profile", profile.id, changed=changed)
    if commit:
        db.session.commit()
    return profile


def _snapshot(profile: VolunteerProfile) -> dict[str, object]:
    return {
        "gender": profile.gender,
        "date_of_birth": profile.date_of_birth,
        "governorate": profile.governorate_id
        if profile.governorate is None
        else profile.governorate.id,
        "home": (profile.home_lat, profile.home_lon),
        "travel_radius_km": profile.travel_radius_km,
        "skills": sorted(s.id for s in profile.skills),
        "languages": list(profile.languages or []),
        "max_shifts_per_week": profile.max_shifts_per_week,
        "max_hours_per_week": profile.max_hours_per_week,
        "preferred_institutions": sorted(i.id for i in profile.preferred_institutions),
        "sms_consent": profile.sms_consent,
    }
