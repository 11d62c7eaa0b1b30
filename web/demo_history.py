"""Demo history for the dashboards: past weeks of shifts, attendance, hours and matching runs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from web.extensions import db
from web.models import (
    Assignment,
    AttendanceRecord,
    Governorate,
    HoursEntry,
    Institution,
    MatchingRun,
    Opportunity,
    Shift,
    User,
    VolunteerProfile,
)

WEEKS = 10  # past weeks of history: enough for the dashboard's default range and retention
SEED_OFFSET = 7  # its own random stream: the rest of the demo data does not change


@dataclass(frozen=True)
class _Template:
    """What a past shift copies from an opportunity's first upcoming shift."""

    opportunity_id: int
    institution_id: int
    governorate_id: int
    manager_id: int | None
    lat: float
    lon: float
    start: datetime  # the upcoming shift's start, local
    hours: float
    needed: int
    gender: str
    min_age: int


def build(now: datetime, zone_name: str, seed: int) -> None:
    """Add WEEKS past weeks: one shift per opportunity and week, volunteers who came, a few
    no-shows and unmarked confirmations, their hours in the ledger, and weekly matching runs.

    Fill and attendance improve over the weeks so the charts have a trend; the same volunteers
    come back often enough for the retention table to mean something.
    """
    rng = random.Random(seed + SEED_OFFSET)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    templates = _templates(zone)
    volunteers = _volunteers()
    regulars = {v[0] for v in volunteers if rng.random() < 0.5}
    # Each volunteer's weeks with us: some join late, some stop, so retention is not 100 %.
    first_week = {v[0]: rng.choice((WEEKS, WEEKS, rng.randint(1, WEEKS))) for v in volunteers}
    last_week = {v[0]: rng.choice((1, 1, 1, rng.randint(1, WEEKS))) for v in volunteers}
    # What the attendance demo already put in the past: keep clear of its days.
    taken_days, busy = _existing(zone, this_monday)
    week_needed: dict[int, int] = {}
    week_filled: dict[int, int] = {}
    cairo_needed: dict[int, int] = {}
    cairo_filled: dict[int, int] = {}
    cairo = db.session.scalar(sa.select(Governorate.id).where(Governorate.code == "EG-C"))
    for back in range(WEEKS, 0, -1):
        monday = this_monday - timedelta(weeks=back)
        here = {
            v[0]
            for v in volunteers
            if last_week[v[0]] <= back <= first_week[v[0]]
            and rng.random() < (0.85 if v[0] in regulars else 0.45)
        }
        fill_target = min(0.95, 0.5 + 0.045 * (WEEKS - back) + rng.uniform(-0.08, 0.08))
        no_show_rate = max(0.03, 0.18 - 0.012 * (WEEKS - back))
        for template in templates:
            day = monday + timedelta(days=template.start.weekday())
            if (template.opportunity_id, day) in taken_days:
                continue
            start = datetime.combine(day, template.start.time(), tzinfo=zone)
            shift = Shift(
                opportunity_id=template.opportunity_id,
                institution_id=template.institution_id,
                starts_at=start,
                ends_at=start + timedelta(hours=template.hours),
                needed=template.needed,
                open_places=template.needed,
                open_taken=0,
                gender=template.gender,
                min_age=template.min_age,
                priority=1,
                languages=[],
                status="open",
                created_at=start - timedelta(days=10),
            )
            db.session.add(shift)
            db.session.flush()
            near = [
                v
                for v in volunteers
                if abs(v[1] - template.lat) <= 0.3
                and abs(v[2] - template.lon) <= 0.3
                and template.gender in ("any", v[3])
                and _old_enough(v[4], day, template.min_age)
                and (v[0], day) not in busy
                and v[0] in here
            ]
            rng.shuffle(near)
            near.sort(key=lambda v: v[0] not in regulars)
            wanted = min(len(near), round(template.needed * fill_target))
            held = 0
            for volunteer in near[:wanted]:
                roll = rng.random()
                state = "no_show" if roll < no_show_rate else "attended"
                if state == "attended" and roll > 0.97:
                    state = "confirmed"  # nobody marked it: counts as active, has no hours
                _add(shift, template, volunteer[0], state, rng)
                busy.add((volunteer[0], day))
                held += state != "no_show"
            shift.open_taken = held
            week_needed[back] = week_needed.get(back, 0) + template.needed
            week_filled[back] = week_filled.get(back, 0) + wanted
            if template.governorate_id == cairo:
                cairo_needed[back] = cairo_needed.get(back, 0) + template.needed
                cairo_filled[back] = cairo_filled.get(back, 0) + wanted
        monday_night = datetime.combine(monday, datetime.min.time(), tzinfo=zone)
        _run(monday_night, "national", [], week_needed[back], week_filled[back], rng)
        if cairo is not None and cairo_needed.get(back):
            _run(
                monday_night + timedelta(hours=1),
                "governorates",
                [cairo],
                cairo_needed[back],
                cairo_filled[back],
                rng,
            )
    db.session.flush()


def _existing(zone: ZoneInfo, before: date) -> tuple[set[tuple[int, date]], set[tuple[int, date]]]:
    """Past shifts already there: their (opportunity, day) pairs and (volunteer, day) pairs."""
    limit = datetime.combine(before, datetime.min.time(), tzinfo=zone)
    rows = db.session.execute(
        sa.select(Shift.opportunity_id, Shift.starts_at, Assignment.volunteer_id)
        .outerjoin(Assignment, Assignment.shift_id == Shift.id)
        .where(Shift.starts_at < limit)
    ).all()
    days = {(row[0], row[1].astimezone(zone).date()) for row in rows}
    busy = {(row[2], row[1].astimezone(zone).date()) for row in rows if row[2] is not None}
    return days, busy


def _old_enough(born: date | None, day: date, min_age: int) -> bool:
    if not min_age:
        return True
    if born is None:
        return False
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return age >= min_age


def _templates(zone: ZoneInfo) -> list[_Template]:
    """One template per open opportunity: its first upcoming shift (the demo has one each)."""
    rows = db.session.execute(
        sa.select(Shift, Institution)
        .join(Institution, Institution.id == Shift.institution_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .where(Opportunity.status == "open", Shift.status == "open")
        .order_by(Shift.opportunity_id, Shift.starts_at, Shift.id)
    ).all()
    templates: dict[int, _Template] = {}
    for shift, institution in rows:
        if shift.opportunity_id in templates:
            continue
        templates[shift.opportunity_id] = _Template(
            opportunity_id=shift.opportunity_id,
            institution_id=institution.id,
            governorate_id=institution.governorate_id,
            manager_id=institution.managers[0].id if institution.managers else None,
            lat=institution.lat,
            lon=institution.lon,
            start=shift.starts_at.astimezone(zone),
            hours=(shift.ends_at - shift.starts_at).total_seconds() / 3600,
            needed=shift.needed,
            gender=shift.gender,
            min_age=shift.min_age,
        )
    return list(templates.values())


def _volunteers() -> list[tuple[int, float, float, str, date | None]]:
    """(user id, home latitude, home longitude, gender, birth date) of every demo volunteer."""
    rows = db.session.execute(
        sa.select(
            User.id,
            VolunteerProfile.home_lat,
            VolunteerProfile.home_lon,
            VolunteerProfile.gender,
            VolunteerProfile.date_of_birth,
        )
        .join(VolunteerProfile, VolunteerProfile.user_id == User.id)
        .where(User.role == "volunteer")
        .order_by(User.id)
    ).all()
    return [(row[0], row[1] or 0.0, row[2] or 0.0, row[3], row[4]) for row in rows]


def _add(
    shift: Shift, template: _Template, volunteer_id: int, state: str, rng: random.Random
) -> None:
    """One assignment; an attended one also gets its check-in record and ledger line."""
    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=volunteer_id,
        source=rng.choice(("self", "self", "matcher")),
        state=state,
        created_at=shift.starts_at - timedelta(days=rng.randint(2, 9)),
        state_changed_at=shift.ends_at,
    )
    db.session.add(assignment)
    if state != "attended":
        return
    db.session.flush()
    late = timedelta(minutes=rng.choice((0, 0, 5, 10, 20)))
    db.session.add(
        AttendanceRecord(
            assignment_id=assignment.id,
            checked_in_at=shift.starts_at + late,
            check_in_source=rng.choice(("manager", "qr")),
            checked_in_by_id=template.manager_id,
            checked_out_at=shift.ends_at,
            check_out_source="manager",
            checked_out_by_id=template.manager_id,
        )
    )
    minutes = int((shift.ends_at - shift.starts_at - late).total_seconds() // 60)
    db.session.add(
        HoursEntry(
            volunteer_id=volunteer_id,
            shift_id=shift.id,
            minutes=minutes,
            source="manager",
            recorded_by_id=template.manager_id,
            recorded_at=shift.ends_at,
            note="",
        )
    )


def _run(
    at: datetime, kind: str, ids: list[int], demand: int, filled: int, rng: random.Random
) -> None:
    """A published nightly run of the past with its fill and a bound a little above it."""
    bound = min(demand, filled + rng.randint(0, 3))
    db.session.add(
        MatchingRun(
            trigger="nightly",
            status="published",
            scope_kind=kind,
            scope_ids=ids,
            window_start=at,
            window_end=at + timedelta(days=7),
            time_limit_s=60.0,
            created_at=at - timedelta(hours=1),
            started_at=at - timedelta(hours=1),
            finished_at=at - timedelta(minutes=50),
            published_at=at,
            metrics={
                "demand": demand,
                "filled": filled,
                "upper_bound": bound,
                "status": "OPTIMAL" if bound == filled else "FEASIBLE",
            },
        )
    )
