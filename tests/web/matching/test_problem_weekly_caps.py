"""Weekly caps in a matching run: no ISO week gets more than the volunteer's own limit."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from web.extensions import db
from web.models import Assignment, RunProposal
from web.services import runs
from web.services.matching_problem import build_problem

CAIRO = ZoneInfo("Africa/Cairo")


def next_monday() -> datetime:
    today = datetime.now(CAIRO).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(0), tzinfo=CAIRO).astimezone(UTC)


def four_shifts_in_one_week(factory):
    opportunity = factory.opportunity()
    start = next_monday() + timedelta(days=1, hours=8)  # Tuesday 10:00 in Cairo
    return [factory.shift(opportunity, start=start + timedelta(days=i), needed=1) for i in range(4)]


def test_a_two_week_window_does_not_double_the_cap_of_one_week(app, factory):
    shifts = four_shifts_in_one_week(factory)
    volunteer = factory.volunteer(max_shifts=2, max_hours=7)
    window = next_monday()
    problem = build_problem("national", [], window, window + timedelta(days=14)).problem
    entry = next(v for v in problem["volunteers"] if v["id"] == f"v{volunteer.id}")
    assert entry["max_shifts"] == 2  # was 4: two weeks times two
    assert entry["max_hours"] == 7
    # a confirmed place inside the problem stays, and uses the week's room
    db.session.add(Assignment(shift=shifts[0], volunteer_id=volunteer.id, state="confirmed"))
    db.session.commit()
    problem = build_problem("national", [], window, window + timedelta(days=14)).problem
    entry = next(v for v in problem["volunteers"] if v["id"] == f"v{volunteer.id}")
    assert entry["max_shifts"] == 2 and entry["max_hours"] == 7
    assert {"volunteer_id": f"v{volunteer.id}", "shift_id": f"s{shifts[0].id}"} in problem["locked"]


def test_a_run_proposes_no_more_than_the_weekly_cap_in_one_week(app, factory):
    four_shifts_in_one_week(factory)
    volunteer = factory.volunteer(max_shifts=2)
    coordinator = factory.user("coordinator", national_scope=True)
    window = next_monday()
    run = runs.start_run(coordinator, "national", [], window, window + timedelta(days=14))
    runs.execute_run(runs.claim_next_run("test"))
    proposed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RunProposal)
        .where(RunProposal.run_id == run.id, RunProposal.volunteer_id == volunteer.id)
    )
    assert proposed == 2
