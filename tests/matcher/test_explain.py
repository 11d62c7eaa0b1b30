"""Reasons and suggestions for places left open."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from matcher.eligibility import pair_reasons, positions_for, schedule_reasons
from matcher.explain import parse_suggestion
from matcher.model import Settings
from matcher.solver import solve
from tests.matcher.conftest import at, make_problem, make_shift, make_volunteer, window
from tests.matcher.random_problems import random_problem


def unfilled_of(solution, shift_id, position=None):
    (u,) = [u for u in solution.unfilled if u.shift_id == shift_id and u.position == position]
    return u


def test_each_volunteer_counted_once_under_first_reason():
    vols = (
        make_volunteer("away", availability=(window(14, 18),)),
        make_volunteer("male", gender="male", lat=40.0),  # gender comes before distance
        make_volunteer("far", lat=31.0),
        make_volunteer("busy", max_travel_km=30),
        make_volunteer("capped", max_shifts=1),
        make_volunteer("tired"),
    )
    shifts = (
        make_shift("target", needed=3, gender="female", start=at(9), end=at(12)),
        make_shift("urgent", start=at(10), end=at(13), priority=5),
        make_shift("day-1", start=at(9, 1), end=at(12, 1), priority=5),
        make_shift("late", start=at(12.25), end=at(15), priority=5),
    )
    problem = make_problem(volunteers=vols, shifts=shifts, settings=Settings(min_rest_minutes=30))
    solution = solve(problem, threads=1)
    u = unfilled_of(solution, "target")
    total = sum(u.reasons.values())
    assert total == len(vols)
    assert u.reasons["availability"] == 1
    assert u.reasons["gender"] == 1
    assert u.reasons["distance"] == 1
    # the three eligible volunteers are all used: none is left "available"
    blocked = u.reasons.get("taken_elsewhere", 0) + u.reasons.get("schedule", 0)
    blocked += u.reasons.get("caps", 0) + u.reasons.get("assigned_here", 0)
    assert blocked == 3 and "available" not in u.reasons


def test_skills_reason_and_suggestion_for_reserved_place():
    vols = (make_volunteer("plain"),)
    shift = make_shift(needed=1, required_skills={"first_aid": 1})
    solution = solve(make_problem(volunteers=vols, shifts=(shift,)), threads=1)
    u = unfilled_of(solution, "shift-1", "first_aid")
    assert dict(u.reasons) == {"skills": 1}
    assert parse_suggestion(u.suggestions[0])["relax"] == "skills"


def test_distance_suggestion_names_the_radius():
    vols = (
        make_volunteer("a", lat=30.15, lon=31.24, max_travel_km=5),
        make_volunteer("b", lat=30.25, lon=31.24, max_travel_km=5),
    )
    solution = solve(make_problem(volunteers=vols, shifts=(make_shift(needed=2),)), threads=1)
    u = unfilled_of(solution, "shift-1")
    assert dict(u.reasons) == {"distance": 2}
    s = parse_suggestion(u.suggestions[0])
    assert s["relax"] == "distance" and s["count"] == 2
    assert 23 < float(s["value"]) < 24  # 0.21 deg of latitude is about 23.4 km
    json.dumps(solution.to_dict())


def test_age_and_gender_suggestions():
    vols = (
        make_volunteer("young", age=17),
        make_volunteer("man", gender="male"),
    )
    shift = make_shift(needed=2, min_age=18, gender="female")
    solution = solve(make_problem(volunteers=vols, shifts=(shift,)), threads=1)
    u = unfilled_of(solution, "shift-1")
    kinds = {parse_suggestion(s)["relax"]: parse_suggestion(s) for s in u.suggestions}
    assert kinds["age"]["value"] == 17 and kinds["age"]["count"] == 1
    assert kinds["gender"]["count"] == 1


def test_assigned_here_for_second_position_of_same_shift():
    vol = make_volunteer(skills=frozenset({"music"}))
    shift = make_shift(needed=2, required_skills={"music": 1})
    solution = solve(make_problem(volunteers=(vol,), shifts=(shift,)), threads=1)
    u = unfilled_of(solution, "shift-1", None)
    assert dict(u.reasons) == {"assigned_here": 1}


@pytest.mark.parametrize("seed", range(12))
def test_reason_counts_match_scalar_rules(seed):
    problem = random_problem(seed, volunteers=15, shifts=8, institutions=3, days=2)
    solution = solve(problem, threads=1, time_limit=5)
    taken_by: dict[str, set[str]] = {}
    shifts_of: dict[str, list[str]] = {}
    for a in solution.assignments:
        taken_by.setdefault(a.shift_id, set()).add(a.volunteer_id)
        shifts_of.setdefault(a.volunteer_id, []).append(a.shift_id)
    for u in solution.unfilled:
        shift = problem.shift_by_id[u.shift_id]
        inst = problem.institution_of(shift)
        expected: Counter[str] = Counter()
        for vol in problem.volunteers:
            reasons = [r for r in pair_reasons(vol, shift, inst) if r != "skills"]
            if reasons:
                expected[reasons[0]] += 1
            elif u.position is not None and u.position not in positions_for(vol, shift):
                expected["skills"] += 1
            elif vol.id in taken_by.get(shift.id, ()):
                expected["assigned_here"] += 1
            else:
                mine = [problem.shift_by_id[s] for s in shifts_of.get(vol.id, [])]
                why = schedule_reasons(vol, shift, mine, problem.settings.min_rest_minutes)
                label = (
                    "taken_elsewhere"
                    if "overlap" in why
                    else "schedule"
                    if "rest" in why
                    else "caps"
                    if why
                    else "available"
                )
                expected[label] += 1
        assert dict(u.reasons) == dict(expected)
        assert sum(u.reasons.values()) == len(problem.volunteers)
        for text in u.suggestions:
            parsed = parse_suggestion(text)
            assert parsed["count"] >= 1 and parsed["text"]


def test_parallel_explanations_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.generate import generate
    from matcher import candidates as cand
    from matcher import explain
    from matcher.problem_io import load_problem

    problem = load_problem(generate(volunteers=300, shifts=120, seed=4))
    solution = solve(problem, threads=1, time_limit=20)
    arr = cand.build_arrays(problem)
    candidates = cand.generate(arr)
    monkeypatch.setattr(explain, "PARALLEL_MIN_SHORT", 2)
    serial = explain.explain_unfilled(problem, arr, candidates, solution.assignments)
    assert len(serial) >= 4
    assert serial == list(solution.unfilled)
    for workers in (2, 3):
        assert (
            explain.explain_unfilled(problem, arr, candidates, solution.assignments, workers)
            == serial
        )
