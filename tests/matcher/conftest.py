"""Small builders of matcher problems and solutions shared by the matcher tests.

Use them as fixtures (``make_problem``, ``make_volunteer``, ``make_shift``, ``make_institution``,
``make_solution``, ``raw_problem``) or import them: ``from tests.matcher.conftest import
make_problem``. Times are in Cairo's +02:00 offset, day 0 is 2026-12-05 (the horizon is 7 days).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from matcher.model import (
    Assignment,
    Institution,
    Metrics,
    Problem,
    Settings,
    Shift,
    Solution,
    Unfilled,
    Volunteer,
    Window,
)

CAIRO = timezone(timedelta(hours=2))
T0 = datetime(2026, 12, 5, 0, 0, tzinfo=CAIRO)


def at(hour: float = 9, day: int = 0) -> datetime:
    """Day `day` of the horizon at `hour` (fractions are minutes: 9.5 = 09:30)."""
    return T0 + timedelta(days=day, hours=hour)


def window(start_hour: float = 8, end_hour: float = 20, day: int = 0) -> Window:
    return Window(at(start_hour, day), at(end_hour, day))


def make_institution(id: str = "inst-1", **kw: Any) -> Institution:
    return Institution(
        id=id, lat=kw.pop("lat", 30.04), lon=kw.pop("lon", 31.24), kind=kw.pop("kind", None), **kw
    )


def make_volunteer(id: str = "vol-1", **kw: Any) -> Volunteer:
    """A volunteer 1.4 km from inst-1, available 08:00-20:00 on every day of the horizon."""
    defaults: dict[str, Any] = {
        "skills": frozenset(),
        "gender": "female",
        "age": 25,
        "lat": 30.05,
        "lon": 31.23,
        "max_travel_km": 25.0,
        "availability": tuple(window(8, 20, day) for day in range(7)),
    }
    defaults.update(kw)
    return Volunteer(id=id, **defaults)


def make_shift(id: str = "shift-1", **kw: Any) -> Shift:
    """One place at inst-1 on day 0, 09:00-12:00."""
    defaults: dict[str, Any] = {
        "institution_id": "inst-1",
        "start": at(9),
        "end": at(12),
        "needed": 1,
    }
    defaults.update(kw)
    return Shift(id=id, **defaults)


def make_problem(**overrides: Any) -> Problem:
    """One institution, one volunteer, one shift unless overridden (any Problem field)."""
    fields: dict[str, Any] = {
        "horizon": Window(T0, T0 + timedelta(days=7)),
        "institutions": (make_institution(),),
        "volunteers": (make_volunteer(),),
        "shifts": (make_shift(),),
        "locked": (),
        "previous": (),
        "settings": Settings(),
    }
    fields.update(overrides)
    return Problem(**fields)


def make_solution(
    problem: Problem,
    assignments: Iterable[Assignment | tuple[str, str] | tuple[str, str, str | None]] = (),
    *,
    warnings: Iterable[str] = (),
    upper_bound: int | None = None,
    status: str | None = None,
) -> Solution:
    """A solution with unfilled entries and metrics consistent with `assignments`."""
    chosen = [a if isinstance(a, Assignment) else Assignment(*a) for a in assignments]
    filled = Counter((a.shift_id, a.position) for a in chosen)
    unfilled: list[Unfilled] = []
    for shift in problem.shifts:
        positions: list[str | None] = sorted(shift.required_skills)
        if shift.open_places > 0:
            positions.append(None)
        for position in positions:
            capacity = shift.open_places if position is None else shift.required_skills[position]
            missing = capacity - filled[(shift.id, position)]
            if missing > 0:
                unfilled.append(Unfilled(shift.id, position, missing, {"availability": 1}))
    bound = len(chosen) if upper_bound is None else upper_bound
    if status is None:
        status = "EMPTY" if problem.demand == 0 else "FILL_OPTIMAL"
    metrics = Metrics(
        demand=problem.demand,
        filled=len(chosen),
        upper_bound=bound,
        status=status,
        solve_seconds=0.01,
        mean_km=None,
    )
    return Solution(tuple(chosen), tuple(unfilled), metrics, tuple(warnings))


RAW_PROBLEM: dict[str, Any] = {
    "format": "volunteer-matching/v1",
    "horizon": {"start": "2026-12-05T00:00:00+02:00", "end": "2026-12-12T00:00:00+02:00"},
    "institutions": [{"id": "inst-1", "lat": 30.04, "lon": 31.24, "kind": "orphanage_girls"}],
    "volunteers": [
        {
            "id": "vol-1",
            "skills": ["tutoring", "music"],
            "gender": "female",
            "age": 23,
            "lat": 30.05,
            "lon": 31.23,
            "max_travel_km": 15,
            "availability": [
                {"start": "2026-12-05T09:00:00+02:00", "end": "2026-12-05T16:00:00+02:00"}
            ],
            "max_shifts": 2,
            "max_hours": 9,
            "preferences": {"inst-1": 2},
        }
    ],
    "shifts": [
        {
            "id": "shift-1",
            "institution_id": "inst-1",
            "start": "2026-12-05T09:00:00+02:00",
            "end": "2026-12-05T12:00:00+02:00",
            "needed": 3,
            "required_skills": {"tutoring": 1},
            "gender": "any",
            "min_age": 18,
        }
    ],
    "locked": [{"volunteer_id": "vol-1", "shift_id": "shift-1"}],
    "settings": {"min_rest_minutes": 30, "time_limit_s": 30},
}


def raw_problem() -> dict[str, Any]:
    """A fresh deep copy of the example problem of the format description (JSON-shaped)."""
    return copy.deepcopy(RAW_PROBLEM)


# Keep a few names importable for other test modules.
__all__ = [
    "CAIRO",
    "T0",
    "at",
    "make_institution",
    "make_problem",
    "make_shift",
    "make_solution",
    "make_volunteer",
    "raw_problem",
    "window",
]


@pytest.fixture(name="make_problem")
def make_problem_fixture() -> Callable[..., Problem]:
    return make_problem


@pytest.fixture(name="make_volunteer")
def make_volunteer_fixture() -> Callable[..., Volunteer]:
    return make_volunteer


@pytest.fixture(name="make_shift")
def make_shift_fixture() -> Callable[..., Shift]:
    return make_shift


@pytest.fixture(name="make_institution")
def make_institution_fixture() -> Callable[..., Institution]:
    return make_institution


@pytest.fixture(name="make_solution")
def make_solution_fixture() -> Callable[..., Solution]:
    return make_solution


@pytest.fixture(name="raw_problem")
def raw_problem_fixture() -> dict[str, Any]:
    return raw_problem()


def empty_state(problem: Problem) -> tuple[Any, Any, dict[tuple[str, str], int]]:
    """The solver's prepared arrays and an empty roster for `problem`, and every candidate
    pair's index by (volunteer id, shift id): for tests that build a roster by hand."""
    from matcher import candidates as cand
    from matcher import solver as sv

    arr = cand.build_arrays(problem)
    prep = sv._prepare(problem, arr, cand.generate(arr))
    pair_of = {
        (problem.volunteers[int(v)].id, problem.shifts[int(s)].id): p
        for p, (v, s) in enumerate(zip(prep.pv.tolist(), prep.ps.tolist(), strict=True))
    }
    return prep, sv._State(prep), pair_of
