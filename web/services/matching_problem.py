"""Builds a volunteer-matching/v1 problem for a scope and a window from the database."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from web.extensions import db
from web.models import (
    HOLDING_STATES,
    Assignment,
    Institution,
    Shift,
    User,
    VolunteerProfile,
)
from web.services import programme_access
from web.services.availability import profile_zone
from web.services.credentials import credentials_of, matcher_credential_entries, required_codes
from web.services.eligibility import week_bounds

FORMAT = "volunteer-matching/v1"
KM_PER_DEGREE = 111.0
# Volunteers up to this far beyond their own radius still enter the problem: the matcher rules
# them out, but it can then say "2 volunteers within 25 km instead of 15 are free".
EXPLAIN_MARGIN_KM = 50.0


def shift_key(shift_id: int) -> str:
    return f"s{shift_id}"


def volunteer_key(user_id: int) -> str:
    return f"v{user_id}"


def institution_key(institution_id: int) -> str:
    return f"i{institution_id}"


def parse_key(key: str) -> int:
    """The database id inside a problem id such as ``s42``."""
    return int(key[1:])


@dataclass
class BuiltProblem:
    """A v1 problem as a JSON-ready dict, with what went into it."""

    problem: dict[str, Any]
    institution_ids: list[int] = field(default_factory=list)
    shift_ids: list[int] = field(default_factory=list)
    volunteer_ids: list[int] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.shift_ids


def institutions_in_scope(scope_kind: str, scope_ids: Iterable[int]) -> sa.Select[Any]:
    """The active institutions a scope covers: the whole country, governorates or institutions."""
    query = sa.select(Institution).where(Institution.active.is_(True))
    ids = list(scope_ids)
    if scope_kind == "governorates":
        query = query.where(Institution.governorate_id.in_(ids))
    elif scope_kind == "institutions":
        query = query.where(Institution.id.in_(ids))
    elif scope_kind != "national":
        raise ValueError(f"unknown scope kind {scope_kind!r}")
    return query.order_by(Institution.id)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _weekly_caps(
    profile: VolunteerProfile,
    held: list[Assignment],
    shift_ids: set[int],
    weeks: set[tuple[datetime, datetime]],
    zone: ZoneInfo,
) -> tuple[int | None, float | None]:
    """Caps over the horizon that keep every ISO week of the problem within the weekly caps.

    The matcher only knows caps over the whole horizon: a weekly cap times the number of weeks
    would let it put every shift into one week. Instead the new places are held to the least
    room left in any of the ``weeks`` (counting what the volunteer holds that week, except the
    offers inside the problem, which the matcher may move), and the confirmed pairs inside the
    problem are added back so they still fit.
    """
    counted = [a for a in held if not (a.state == "offered" and a.shift_id in shift_ids)]
    locked = [a for a in counted if a.shift_id in shift_ids]
    by_week: dict[tuple[datetime, datetime], list[Assignment]] = defaultdict(list)
    for a in counted:
        by_week[week_bounds(a.shift.starts_at, zone)].append(a)
    max_shifts = max_hours = None
    if profile.max_shifts_per_week is not None:
        room = min(profile.max_shifts_per_week - len(by_week[w]) for w in weeks)
        max_shifts = len(locked) + max(0, room)
    if profile.max_hours_per_week is not None:
        room_hours = min(
            profile.max_hours_per_week - sum(a.shift.duration_hours for a in by_week[w])
            for w in weeks
        )
        max_hours = sum(a.shift.duration_hours for a in locked) + max(0.0, room_hours)
    return max_shifts, max_hours


def _cut(
    windows: list[tuple[datetime, datetime]], busy: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Remove busy intervals from availability windows."""
    result = windows
    for b_start, b_end in busy:
        cut: list[tuple[datetime, datetime]] = []
        for w_start, w_end in result:
            if b_end <= w_start or w_end <= b_start:
                cut.append((w_start, w_end))
                continue
            if w_start < b_start:
                cut.append((w_start, b_start))
            if b_end < w_end:
                cut.append((b_end, w_end))
        result = cut
    return result


def build_problem(
    scope_kind: str,
    scope_ids: Iterable[int],
    window_start: datetime,
    window_end: datetime,
    *,
    time_limit_s: float | None = None,
    seed: int = 0,
    only_shift_ids: Iterable[int] | None = None,
) -> BuiltProblem:
    """Gather institutions, open shifts, volunteers and current assignments into a v1 problem.

    Confirmed assignments (self sign-ups included) become ``locked`` pairs; offered ones from the
    last published roster become ``previous``. A volunteer's commitments outside the problem are
    cut out of their availability, and their weekly caps hold in every week (see _weekly_caps).
    With MATCHER_WEIGH_NO_SHOWS on, each volunteer's share of missed shifts goes in as
    ``no_show_rate`` (the matcher weighs it with ``settings.weights.reliability``).
    """
    from web.services.availability import windows_for

    min_rest = int(current_app.config.get("MIN_REST_MINUTES", 30))
    rest = timedelta(minutes=min_rest)
    institutions = db.session.scalars(institutions_in_scope(scope_kind, scope_ids)).all()
    by_institution = {i.id: i for i in institutions}
    shift_query = (
        sa.select(Shift)
        .where(
            Shift.institution_id.in_(list(by_institution)),
            Shift.status == "open",
            Shift.starts_at >= max(window_start, datetime.now(window_start.tzinfo)),
            Shift.starts_at < window_end,
        )
        .order_by(Shift.starts_at, Shift.id)
    )
    if only_shift_ids is not None:
        shift_query = shift_query.where(Shift.id.in_(list(only_shift_ids)))
    shifts = db.session.scalars(shift_query).all() if by_institution else []
    built = BuiltProblem(problem={})
    horizon_end = max([window_end, *(s.ends_at for s in shifts)])
    problem: dict[str, Any] = {
        "format": FORMAT,
        "horizon": {"start": _iso(window_start), "end": _iso(horizon_end)},
        "institutions": [],
        "volunteers": [],
        "shifts": [],
        "locked": [],
        "previous": [],
        "settings": {"min_rest_minutes": min_rest, "seed": seed},
    }
    if time_limit_s is not None:
        problem["settings"]["time_limit_s"] = float(time_limit_s)
    built.problem = problem
    if not shifts:
        return built

    used_institutions = sorted({s.institution_id for s in shifts})
    for iid in used_institutions:
        inst = by_institution[iid]
        problem["institutions"].append(
            {"id": institution_key(iid), "lat": inst.lat, "lon": inst.lon, "kind": inst.kind}
        )
    built.institution_ids = used_institutions
    shift_ids = {s.id for s in shifts}
    programme_rules = programme_access.required_for_shifts(shift_ids)
    needs = required_codes(shift_ids)
    for s in shifts:
        entry: dict[str, Any] = {
            "id": shift_key(s.id),
            "institution_id": institution_key(s.institution_id),
            "start": _iso(s.starts_at),
            "end": _iso(s.ends_at),
            "needed": s.needed,
            "required_skills": {r.skill.code: r.places for r in s.requirements},
            "gender": s.gender,
            "min_age": s.min_age,
            "priority": s.priority,
        }
        if s.languages:
            entry["languages"] = list(s.languages)
        required = needs.get(s.id, frozenset()) | programme_rules.get(s.id, frozenset())
        if required:
            entry["required_credentials"] = sorted(required)
        problem["shifts"].append(entry)
    built.shift_ids = [s.id for s in shifts]

    # Volunteers who could reach one of these institutions: a bounding box, then exact rules.
    max_radius = db.session.scalar(sa.select(sa.func.max(VolunteerProfile.travel_radius_km))) or 0
    lats = [by_institution[i].lat for i in used_institutions]
    lons = [by_institution[i].lon for i in used_institutions]
    reach = max_radius + EXPLAIN_MARGIN_KM
    dlat = reach / KM_PER_DEGREE
    dlon = reach / (KM_PER_DEGREE * max(0.2, math.cos(math.radians(max(map(abs, lats))))))
    profiles = db.session.scalars(
        sa.select(VolunteerProfile)
        .join(User, User.id == VolunteerProfile.user_id)
        .where(
            User.active.is_(True),
            User.role == "volunteer",
            VolunteerProfile.home_lat.is_not(None),
            VolunteerProfile.home_lon.is_not(None),
            VolunteerProfile.home_lat.between(min(lats) - dlat, max(lats) + dlat),
            VolunteerProfile.home_lon.between(min(lons) - dlon, max(lons) + dlon),
        )
        .order_by(VolunteerProfile.user_id)
    ).all()
    if only_shift_ids is not None:
        # A replacement never goes back to someone who already gave this shift up.
        gave_up = set(
            db.session.scalars(
                sa.select(Assignment.volunteer_id).where(
                    Assignment.shift_id.in_(list(only_shift_ids)),
                    Assignment.state.in_(("declined", "cancelled", "expired", "no_show")),
                )
            )
        )
        profiles = [p for p in profiles if p.user_id not in gave_up]
    user_ids = [p.user_id for p in profiles]
    cohort_credentials = programme_access.held_by_users(user_ids)
    no_show_rates: dict[int, float] = {}
    if current_app.config.get("MATCHER_WEIGH_NO_SHOWS"):
        from web.services.attendance import no_show_rates as rates_of

        no_show_rates = rates_of(user_ids)
    holdings: dict[int, list[Assignment]] = defaultdict(list)
    if user_ids:
        rows = db.session.scalars(
            sa.select(Assignment)
            .join(Shift, Shift.id == Assignment.shift_id)
            .where(
                Assignment.volunteer_id.in_(user_ids),
                Assignment.state.in_(sorted(HOLDING_STATES)),
                Shift.status == "open",
                # whole weeks (a day of slack for zones): the weekly caps count them all
                Shift.ends_at > window_start - timedelta(days=8),
                Shift.starts_at < horizon_end + timedelta(days=8),
            )
            .order_by(Assignment.id)
        ).all()
        for a in rows:
            holdings[a.volunteer_id].append(a)

    # Credentials verified and valid when the window opens; each carries its expiry, which the
    # matcher compares with every shift's start.
    held = credentials_of(user_ids, window_start.date())
    for profile in profiles:
        outside = [a for a in holdings[profile.user_id] if a.shift_id not in shift_ids]
        inside = [a for a in holdings[profile.user_id] if a.shift_id in shift_ids]
        windows = windows_for(profile, window_start, horizon_end)
        windows = _cut(
            windows, [(a.shift.starts_at - rest, a.shift.ends_at + rest) for a in outside]
        )
        if not windows and not inside:
            continue
        entry = {
            "id": volunteer_key(profile.user_id),
            "skills": sorted(s.code for s in profile.skills),
            "gender": profile.gender,
            "age": profile.age_on(window_start.date()),
            "lat": profile.home_lat,
            "lon": profile.home_lon,
            "max_travel_km": profile.travel_radius_km,
            "availability": [{"start": _iso(a), "end": _iso(b)} for a, b in windows],
            "preferences": {
                institution_key(i.id): 2
                for i in profile.preferred_institutions
                if i.id in by_institution
            },
        }
        zone = profile_zone(profile)
        max_shifts, max_hours = _weekly_caps(
            profile,
            holdings[profile.user_id],
            shift_ids,
            {week_bounds(s.starts_at, zone) for s in shifts},
            zone,
        )
        if max_shifts is not None:
            entry["max_shifts"] = max_shifts
        if max_hours is not None:
            entry["max_hours"] = max_hours
        if profile.languages:
            entry["languages"] = list(profile.languages)
        # Verified credentials with their expiry, and the cohorts that accepted the volunteer.
        credentials = matcher_credential_entries(held.get(profile.user_id, []), zone)
        if profile.user_id in cohort_credentials:
            credentials += programme_access.credential_entries(cohort_credentials[profile.user_id])
        if credentials:
            entry["credentials"] = credentials
        if no_show_rates.get(profile.user_id):
            entry["no_show_rate"] = round(no_show_rates[profile.user_id], 4)
        if entry["gender"] is None:
            del entry["gender"]
        if entry["age"] is None:
            del entry["age"]
        problem["volunteers"].append(entry)
        built.volunteer_ids.append(profile.user_id)
        for a in inside:
            pair = {
                "volunteer_id": volunteer_key(a.volunteer_id),
                "shift_id": shift_key(a.shift_id),
            }
            problem["locked" if a.state != "offered" else "previous"].append(pair)
    return built
