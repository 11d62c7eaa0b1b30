"""The matching problem carries each volunteer's no-show rate when MATCHER_WEIGH_NO_SHOWS is on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.attendance.conftest import seat
from web.models import utcnow
from web.services import attendance
from web.services.matching_problem import build_problem


@pytest.fixture
def history(home, factory):
    """Volunteer 0 missed one shift of two, volunteer 1 missed none; both live as near."""
    v0, v1, _v2 = home.volunteers
    older = factory.shift(home.opportunity, start=home.past_shift.starts_at - timedelta(days=7))
    attendance.record_whole_shift(home.manager, seat(home.past_shift, v0))
    attendance.mark_absent(home.manager, seat(older, v0))
    attendance.record_whole_shift(home.manager, seat(older, v1))
    return v0, v1


def volunteers_of(problem):
    return {v["id"]: v for v in problem["volunteers"]}


def test_off_by_default_the_problem_has_no_rates(app, home, history):
    assert app.config["MATCHER_WEIGH_NO_SHOWS"] is False
    now = utcnow()
    problem = build_problem("national", [], now, now + timedelta(days=7)).problem
    assert all("no_show_rate" not in v for v in problem["volunteers"])


def test_when_on_the_rates_go_into_the_problem(app, home, history, monkeypatch):
    v0, v1 = history
    monkeypatch.setitem(app.config, "MATCHER_WEIGH_NO_SHOWS", True)
    now = utcnow()
    problem = build_problem("national", [], now, now + timedelta(days=7)).problem
    by_id = volunteers_of(problem)
    assert by_id[f"v{v0.id}"]["no_show_rate"] == 0.5
    assert "no_show_rate" not in by_id[f"v{v1.id}"]  # never missed: the default 0


def test_the_matcher_then_prefers_the_volunteer_who_turns_up(app, home, history, monkeypatch):
    import matcher

    v0, v1 = history
    monkeypatch.setitem(app.config, "MATCHER_WEIGH_NO_SHOWS", True)
    now = utcnow()
    future = home.future_shift
    future.needed = future.open_places = 1
    from web.extensions import db

    db.session.commit()
    problem = build_problem(
        "institutions",
        [home.institution.id],
        now,
        now + timedelta(days=7),
        only_shift_ids=[future.id],
        time_limit_s=5,
    ).problem
    # The third volunteer (no history) stays out: the choice is between v0 and v1 only.
    problem["volunteers"] = [
        v for v in problem["volunteers"] if v["id"] in (f"v{v0.id}", f"v{v1.id}")
    ]
    # v0 lives at the door, v1 2 km away: without the rate the matcher picks v0; with it,
    # v0's 0.5 no-show rate costs 10 * 0.5 = 5 km-equivalents, more than v1's 2 km.
    for volunteer in problem["volunteers"]:
        near = volunteer["id"] == f"v{v0.id}"
        volunteer["lat"] = home.institution.lat + (0 if near else 0.018)
        volunteer["lon"] = home.institution.lon
    result = matcher.solve(matcher.load_problem(problem)).to_dict()
    chosen = {a["volunteer_id"] for a in result["assignments"]}
    assert chosen == {f"v{v1.id}"}
    for volunteer in problem["volunteers"]:
        volunteer.pop("no_show_rate", None)
    result = matcher.solve(matcher.load_problem(problem)).to_dict()
    assert {a["volunteer_id"] for a in result["assignments"]} == {f"v{v0.id}"}
