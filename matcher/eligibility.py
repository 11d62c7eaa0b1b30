"""The matching rules: the single place that says who may fill which place of which shift.

Edge cases (the vectorised candidate generator and the solver follow the same semantics):

- Availability: a shift is covered when one window holds it wholly, ends included: a shift
  ending exactly when a window ends (or starting exactly when it starts) is inside.
- Gender: a shift's ``"any"`` accepts everyone; ``"female"``/``"male"`` require that gender,
  so a volunteer whose gender is unknown (None) fails a gendered shift.
- Age: ``min_age`` 0 accepts everyone (age unknown included); ``min_age > 0`` requires a known
  age >= min_age.
- Credentials: every required name must be held by a credential that does not expire or expires
  strictly after the shift starts (a credential expiring at the very start instant is expired).
- Languages: a shift listing no language accepts everyone; otherwise at least one in common.
- Distance: haversine great-circle distance on a sphere of radius ``EARTH_RADIUS_KM`` between the
  volunteer's home and the institution, <= ``max_travel_km`` (+ ``DISTANCE_EPS_KM`` to absorb
  floating-point noise, so a distance equal to the radius is allowed).
- Skills: a reserved place of skill S needs a holder of S; an open place takes anyone eligible.
- Clash: two shifts clash when they overlap or the gap between them is shorter than
  ``min_rest_minutes``; a gap exactly equal to the minimum rest is allowed, and adjacent shifts
  (one ends when the other starts) do not clash when the minimum rest is 0.
- Caps: hours are (end - start) in hours; a volunteer keeps ``count <= max_shifts`` and a total
  duration of at most ``max_hours`` hours, compared exactly in integer microseconds against the
  decimal value of ``max_hours`` (``hours_cap_us``: 4.1 hours is 14 760 000 000 us, where
  floats give 14 759.999999999998 s; a value a hair below whole microseconds, as minutes / 60
  gives, counts as them); None means no cap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from fractions import Fraction

from matcher.model import Institution, Shift, Volunteer, Window

REASONS = ("availability", "gender", "age", "credentials", "languages", "distance", "skills")
SCHEDULE_REASONS = ("overlap", "rest", "max_shifts", "max_hours")

EARTH_RADIUS_KM = 6371.0
DISTANCE_EPS_KM = 1e-9
US_PER_HOUR = 3_600_000_000
HOURS_CAP_MAX_US = 2**62  # a max_hours above this many microseconds is no cap (held here)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km: 2 R asin(sqrt(a)), R = EARTH_RADIUS_KM."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def covering_window(volunteer: Volunteer, start: datetime, end: datetime) -> Window | None:
    """The first availability window that holds [start, end] wholly (ends included), or None."""
    for window in volunteer.availability:
        if window.start <= start and end <= window.end:
            return window
    return None


def gender_ok(volunteer: Volunteer, shift: Shift) -> bool:
    """Shift gender "any" accepts everyone; otherwise the volunteer's gender must match."""
    return shift.gender == "any" or volunteer.gender == shift.gender


def age_ok(volunteer: Volunteer, shift: Shift) -> bool:
    """min_age 0 accepts everyone; otherwise a known age of at least min_age."""
    if shift.min_age <= 0:
        return True
    return volunteer.age is not None and volunteer.age >= shift.min_age


def credentials_ok(volunteer: Volunteer, shift: Shift) -> bool:
    """Every required credential is held and unexpired at the shift's start."""
    if not shift.required_credentials:
        return True
    valid = {c.name for c in volunteer.credentials if c.expires is None or c.expires > shift.start}
    return shift.required_credentials <= valid


def languages_ok(volunteer: Volunteer, shift: Shift) -> bool:
    """A shift listing languages needs at least one of them spoken by the volunteer."""
    return not shift.languages or not shift.languages.isdisjoint(volunteer.languages)


def distance_km(volunteer: Volunteer, institution: Institution) -> float:
    """Great-circle distance from the volunteer's home to the institution."""
    return haversine_km(volunteer.lat, volunteer.lon, institution.lat, institution.lon)


def distance_ok(volunteer: Volunteer, institution: Institution) -> bool:
    """The institution lies within the volunteer's travel radius."""
    return distance_km(volunteer, institution) <= volunteer.max_travel_km + DISTANCE_EPS_KM


def positions_for(volunteer: Volunteer, shift: Shift) -> tuple[str | None, ...]:
    """Positions the volunteer may fill: held reserved skills (sorted), then None if open places."""
    held = sorted(
        skill
        for skill, count in shift.required_skills.items()
        if count > 0 and skill in volunteer.skills
    )
    positions: list[str | None] = list(held)
    if shift.open_places > 0:
        positions.append(None)
    return tuple(positions)


def position_ok(volunteer: Volunteer, shift: Shift, position: str | None) -> bool:
    """The volunteer may fill `position` (a reserved skill or None for an open place)."""
    return position in positions_for(volunteer, shift)


def pair_reasons(volunteer: Volunteer, shift: Shift, institution: Institution) -> tuple[str, ...]:
    """Every static rule the pair breaks, in REASONS order; empty means eligible."""
    reasons: list[str] = []
    if covering_window(volunteer, shift.start, shift.end) is None:
        reasons.append("availability")
    if not gender_ok(volunteer, shift):
        reasons.append("gender")
    if not age_ok(volunteer, shift):
        reasons.append("age")
    if not credentials_ok(volunteer, shift):
        reasons.append("credentials")
    if not languages_ok(volunteer, shift):
        reasons.append("languages")
    if not distance_ok(volunteer, institution):
        reasons.append("distance")
    if not positions_for(volunteer, shift):
        reasons.append("skills")
    return tuple(reasons)


def is_eligible(volunteer: Volunteer, shift: Shift, institution: Institution) -> bool:
    """The pair keeps every static rule (some place of the shift is open to the volunteer)."""
    return not pair_reasons(volunteer, shift, institution)


def gap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    """Time between two intervals; negative when they overlap, zero when adjacent."""
    return max(b_start - a_end, a_start - b_end)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """The two intervals share some time (touching ends do not overlap)."""
    return a_start < b_end and b_start < a_end


def clash(
    a_start: datetime,
    a_end: datetime,
    b_start: datetime,
    b_end: datetime,
    min_rest_minutes: int,
) -> bool:
    """The two shifts overlap, or the gap between them is shorter than the minimum rest."""
    if overlaps(a_start, a_end, b_start, b_end):
        return True
    return gap(a_start, a_end, b_start, b_end) < timedelta(minutes=min_rest_minutes)


def caps_reasons(volunteer: Volunteer, shifts: Iterable[Shift]) -> tuple[str, ...]:
    """Which caps ("max_shifts", "max_hours") the volunteer's `shifts` together exceed."""
    shifts = list(shifts)
    reasons: list[str] = []
    if volunteer.max_shifts is not None and len(shifts) > volunteer.max_shifts:
        reasons.append("max_shifts")
    if volunteer.max_hours is not None:
        total = sum((s.end - s.start for s in shifts), timedelta())
        if total > timedelta(microseconds=hours_cap_us(volunteer.max_hours)):
            reasons.append("max_hours")
    return tuple(reasons)


def hours_cap_us(max_hours: float) -> int:
    """The most microseconds of shifts ``max_hours`` allows.

    The decimal the number is written as (``str``, the shortest form that reads back as the
    same float) times an hour, rounded down to whole microseconds, so three 20-minute shifts
    fill ``max_hours: 1`` and one microsecond more breaks it; except that a product within a
    thousandth of a microsecond of a whole number is that number: hours written as minutes /
    60 (2.283333333333333 for 137 minutes, 8 219.999999999998 s exactly) allow their minutes,
    as a comparison of hours in floating point does. Caps above ``HOURS_CAP_MAX_US`` (2**62
    us, about 146 000 years: no cap at all) are held there, so they fit in 64-bit integers
    and a ``timedelta`` (``max_hours: 3e9`` crashed the solver).
    """
    exact = Fraction(str(max_hours)) * US_PER_HOUR
    nearest = round(exact)
    if abs(exact - nearest) <= Fraction(1, 1000):
        return min(max(nearest, 0), HOURS_CAP_MAX_US)
    return min(max(math.floor(exact), 0), HOURS_CAP_MAX_US)


def within_caps(volunteer: Volunteer, taken: Iterable[Shift], extra: Shift | None = None) -> bool:
    """The shifts `taken` (plus `extra`) keep the volunteer's max_shifts and max_hours."""
    shifts = list(taken)
    if extra is not None:
        shifts.append(extra)
    return not caps_reasons(volunteer, shifts)


def schedule_reasons(
    volunteer: Volunteer, shift: Shift, taken: Iterable[Shift], min_rest_minutes: int
) -> tuple[str, ...]:
    """Why adding `shift` to `taken` breaks rules 6-7, in SCHEDULE_REASONS order."""
    taken = list(taken)
    reasons: list[str] = []
    rest = timedelta(minutes=min_rest_minutes)
    if any(overlaps(shift.start, shift.end, t.start, t.end) for t in taken):
        reasons.append("overlap")
    if any(
        not overlaps(shift.start, shift.end, t.start, t.end)
        and gap(shift.start, shift.end, t.start, t.end) < rest
        for t in taken
    ):
        reasons.append("rest")
    reasons.extend(caps_reasons(volunteer, [*taken, shift]))
    return tuple(reasons)
