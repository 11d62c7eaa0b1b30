"""Reasons and suggestions for places left open."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from matcher import candidates as cand
from matcher import explain
from matcher.candidates import haversine_np
from matcher.eligibility import (
    REASONS,
    distance_km,
    pair_reasons,
    positions_for,
    schedule_reasons,
)
from matcher.explain import parse_suggestion
from matcher.model import (
    Assignment,
    Credential,
    Institution,
    Problem,
    Settings,
    Shift,
    Volunteer,
    Window,
)
from matcher.solver import solve
from tests.matcher.conftest import (
    T0,
    at,
    make_institution,
    make_problem,
    make_shift,
    make_volunteer,
    window,
)
from tests.matcher.random_problems import CREDS, LANGS, SKILLS, random_problem


def _schedule_label(why) -> str:
    """The explanation's reason for an eligible volunteer kept off by their roster."""
    if "overlap" in why:
        return "taken_elsewhere"
    if "rest" in why:
        return "schedule"
    return "caps" if why else "available"


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
                expected[_schedule_label(why)] += 1
        assert dict(u.reasons) == dict(expected)
        assert sum(u.reasons.values()) == len(problem.volunteers)
        for text in u.suggestions:
            parsed = parse_suggestion(text)
            assert parsed["count"] >= 1 and parsed["text"]


def test_parallel_explanations_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.generate import generate
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


# ---------------------------------------------------------------- reference classification
#
# A per-volunteer scalar version of explain_unfilled built on matcher.eligibility only: the
# faster code (availability per distinct window, rules checked on survivors only, the chord
# test and grid boxes for distance, cached clashes) must give exactly the same entries.


def _reference_km(vol, inst) -> float:
    # the vectorised formula, as explain and candidate generation use it
    return float(
        haversine_np(
            np.array([vol.lat]), np.array([vol.lon]), np.array([inst.lat]), np.array([inst.lon])
        )[0]
    )


def reference_unfilled(problem, assignments) -> list[tuple]:
    """(shift id, position, missing, reasons in order, suggestions as (relax, value, count))."""
    rest = problem.settings.min_rest_minutes
    filled: Counter = Counter((a.shift_id, a.position) for a in assignments)
    on_shift: dict[str, set[str]] = {}
    taken: dict[str, list] = {}
    for a in assignments:
        on_shift.setdefault(a.shift_id, set()).add(a.volunteer_id)
        taken.setdefault(a.volunteer_id, []).append(problem.shift_by_id[a.shift_id])
    rule_order = ("availability", "gender", "age", "credentials", "languages", "distance")
    out = []
    for shift in problem.shifts:
        inst = problem.institution_of(shift)
        places = [(k, c) for k, c in sorted(shift.required_skills.items()) if c > 0]
        if shift.open_places > 0:
            places.append((None, shift.open_places))
        static: list[list[str]] = []
        label: list[str] = []
        for vol in problem.volunteers:
            static.append([r for r in pair_reasons(vol, shift, inst) if r != "skills"])
            if vol.id in on_shift.get(shift.id, ()):
                label.append("assigned_here")
                continue
            label.append(_schedule_label(schedule_reasons(vol, shift, taken.get(vol.id, []), rest)))
        for position, capacity in places:
            missing = capacity - filled[(shift.id, position)]
            if missing <= 0:
                continue
            reasons: Counter = Counter()
            only: dict[str, list[int]] = {r: [] for r in rule_order}
            lacking_free = capped = 0
            for i, vol in enumerate(problem.volunteers):
                holds = position is None or position in vol.skills
                free = label[i] == "available"
                if static[i]:
                    reasons[static[i][0]] += 1
                    if len(static[i]) == 1 and holds and free:
                        only[static[i][0]].append(i)
                elif not holds:
                    reasons["skills"] += 1
                    lacking_free += free
                else:
                    reasons[label[i]] += 1
                    capped += label[i] == "caps"
            found = []
            for code, rule in enumerate(rule_order):
                vols = only[rule]
                if not vols:
                    continue
                if rule == "distance":
                    km = sorted((_reference_km(problem.volunteers[i], inst), i) for i in vols)
                    chosen = km[:missing]
                    radius = math.ceil(max(k for k, _ in chosen) * 10.0) / 10.0
                    found.append((-len(chosen), code, ("distance", radius, len(chosen))))
                elif rule == "age":
                    ages = sorted(
                        (problem.volunteers[i].age for i in vols if problem.volunteers[i].age),
                        reverse=True,
                    )[:missing]
                    if ages:
                        found.append((-len(ages), code, ("age", min(ages), len(ages))))
                else:
                    value = {"gender": "any", "credentials": "none"}.get(rule, "any")
                    n = min(len(vols), missing)
                    found.append((-n, code, (rule, value, n)))
            if position is not None and lacking_free:
                n = min(lacking_free, missing)
                found.append((-n, 6, ("skills", position, n)))
            if capped:
                n = min(capped, missing)
                found.append((-n, 7, ("caps", "raise", n)))
            found.sort()
            order = (*REASONS, *explain.SCHEDULE_ORDER)
            out.append(
                (
                    shift.id,
                    position,
                    missing,
                    [(r, reasons[r]) for r in order if reasons[r]],
                    [f for _, _, f in found[: explain.MAX_SUGGESTIONS]],
                )
            )
    return out


def as_tuples(unfilled) -> list[tuple]:
    out = []
    for u in unfilled:
        parsed = [parse_suggestion(s) for s in u.suggestions]
        out.append(
            (
                u.shift_id,
                u.position,
                u.missing,
                list(u.reasons.items()),
                [(p["relax"], p["value"], p["count"]) for p in parsed],
            )
        )
    return out


def explain_problem(
    seed: int,
    *,
    volunteers: int = 120,
    shifts: int = 30,
    institutions: int = 6,
    spread_deg: float = 1.0,
    repeated_windows: bool = True,
    centre: tuple[float, float] = (30.0, 31.2),
    assigned: int = 60,
    odd: bool = False,
) -> tuple[Problem, list[Assignment]]:
    """A random problem with volunteers spread over `spread_deg` degrees (small radii, so that
    many break distance only), shift times from three daily blocks or at any half hour, and
    random assignments (some ineligible, like locked pairs, some beyond a position's places)."""
    rng = random.Random(seed)
    lat0, lon0 = centre

    def point(spread: float) -> tuple[float, float]:
        lat = min(89.999, max(-89.999, lat0 + rng.uniform(-spread, spread)))
        lon = lon0 + rng.uniform(-spread, spread)
        lon = (lon + 180.0) % 360.0 - 180.0
        return lat, lon

    insts = [Institution(f"inst-{i}", *point(spread_deg / 2)) for i in range(institutions)]
    blocks = ((9, 12), (13, 17), (18, 21))
    shift_list = []
    for i in range(shifts):
        day = rng.randrange(3)
        if repeated_windows:
            a, b = rng.choice(blocks)
        else:
            a = rng.randrange(16, 40) / 2
            b = a + rng.choice([1, 2, 3, 4, 6])
        needed = rng.randint(1, 4)
        reserved: dict[str, int] = {}
        if rng.random() < 0.5:
            reserved[rng.choice(SKILLS)] = rng.randint(1, needed)
        shift_list.append(
            Shift(
                id=f"shift-{i}",
                institution_id=rng.choice(insts).id,
                start=at(a, day),
                end=at(b, day),
                needed=needed,
                required_skills=reserved,
                gender=rng.choice(["any", "any", "female", "male"]),
                min_age=rng.choice([0, 0, 18, 21]),
                required_credentials=(
                    frozenset(rng.sample(CREDS, rng.randint(1, 2)))
                    if rng.random() < 0.2
                    else frozenset()
                ),
                languages=frozenset(rng.sample(LANGS, 1)) if rng.random() < 0.2 else frozenset(),
            )
        )
    vols = []
    for i in range(volunteers):
        if i % 7 == 3 and vols:  # same home as another volunteer: distance ties
            lat, lon = vols[-1].lat, vols[-1].lon
        else:
            lat, lon = point(spread_deg)
        windows = []
        for _ in range(rng.randint(0, 4)):
            day = rng.randrange(3)
            if rng.random() < 0.5:
                a, b = rng.choice(((8, 12), (9, 17), (13, 21), (7, 22)))
            else:
                a = rng.randrange(14, 40) / 2
                b = a + rng.randint(1, 12) / 2
            windows.append(window(a, b, day))
        radius = rng.choice([2.0, 5.0, 10.0, 30.0, 80.0])
        if odd and i % 5 == 1:  # off the map, or no travel limit: no shortcut applies
            lat, lon, radius = rng.choice(
                [(lat, lon, math.inf), (lat, lon + 360.0, radius), (95.0, lon, radius)]
            )
        elif i % 11 == 5:  # exactly at the radius of an institution: the scalar recheck
            probe = Volunteer(f"p-{i}", frozenset(), None, None, lat, lon, 0.0, ())
            radius = distance_km(probe, rng.choice(insts))
        vols.append(
            Volunteer(
                id=f"vol-{i}",
                skills=frozenset(rng.sample(SKILLS, rng.randint(0, 2))),
                gender=rng.choice(["female", "male", None]),
                age=rng.choice([None, 16, 18, 19, 25, 40]),
                lat=lat,
                lon=lon,
                max_travel_km=radius,
                availability=tuple(windows),
                max_shifts=rng.choice([None, 1, 2]),
                max_hours=rng.choice([None, 3.0, 4.0, 8.0]),
                credentials=tuple(
                    Credential(
                        name=rng.choice(CREDS),
                        expires=rng.choice([None, at(12, 0), at(13, 1), at(9, 2)]),
                    )
                    for _ in range(rng.randint(0, 2))
                ),
                languages=frozenset(rng.sample(LANGS, rng.randint(0, 2))),
            )
        )
    problem = Problem(
        horizon=Window(T0, T0 + timedelta(days=7)),
        institutions=tuple(insts),
        volunteers=tuple(vols),
        shifts=tuple(shift_list),
        settings=Settings(min_rest_minutes=rng.choice([0, 30, 60])),
    )
    assignments: list[Assignment] = []
    seen: set[tuple[str, str]] = set()
    for _ in range(assigned if vols else 0):
        shift = rng.choice(shift_list)
        positions = [k for k, c in shift.required_skills.items() if c > 0]
        if shift.open_places > 0:
            positions.append(None)
        vol = rng.choice(vols)
        if (vol.id, shift.id) not in seen:
            seen.add((vol.id, shift.id))
            assignments.append(Assignment(vol.id, shift.id, rng.choice(positions)))
    return problem, assignments


def run_explain(problem: Problem, assignments: list[Assignment], workers: int = 1):
    arr = cand.build_arrays(problem)
    return explain.explain_unfilled(problem, arr, cand.generate(arr), assignments, workers)


@pytest.mark.parametrize(
    ("seed", "options"),
    [
        (0, {}),
        (1, {"repeated_windows": False}),
        (2, {"spread_deg": 0.2, "volunteers": 200}),
        (3, {"spread_deg": 6.0, "institutions": 10}),
        (4, {"repeated_windows": False, "assigned": 150}),
        (5, {"spread_deg": 3.0, "centre": (89.5, 179.5)}),  # pole and antimeridian
        (6, {"spread_deg": 40.0, "volunteers": 80}),
        (7, {"volunteers": 0}),
        (8, {"assigned": 0, "spread_deg": 0.5}),
        (9, {"repeated_windows": False, "centre": (-33.9, -179.8)}),
        (10, {"odd": True, "spread_deg": 2.0}),
    ],
)
def test_explanations_match_scalar_reference(seed, options):
    problem, assignments = explain_problem(seed, **options)
    got = run_explain(problem, assignments)
    assert as_tuples(got) == reference_unfilled(problem, assignments)
    assert len(got) >= (1 if problem.volunteers or problem.shifts else 0)


def test_parallel_matches_scalar_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(explain, "PARALLEL_MIN_SHORT", 2)
    problem, assignments = explain_problem(11, volunteers=150, shifts=40, spread_deg=2.0)
    want = reference_unfilled(problem, assignments)
    assert as_tuples(run_explain(problem, assignments, workers=2)) == want


def test_small_caches_and_boxes_give_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evicted caches, one-cell boxes and a coarse first chord batch change nothing."""
    problem, assignments = explain_problem(12, volunteers=150, spread_deg=2.0)
    want = reference_unfilled(problem, assignments)
    monkeypatch.setattr(explain, "CACHE_MASK_BYTES", 1)
    monkeypatch.setattr(explain, "CACHE_INDICES", 1)
    monkeypatch.setattr(explain, "NEAREST_CELLS", 1)
    monkeypatch.setattr(explain, "NEAREST_FIRST", 1)
    assert as_tuples(run_explain(problem, assignments)) == want
    monkeypatch.setattr(explain, "NEAREST_BOX_SHARE", 0.0)  # never trust a box
    assert as_tuples(run_explain(problem, assignments)) == want


@pytest.mark.parametrize("seed", range(3))
def test_solver_explanations_match_scalar_reference(seed):
    problem, _ = explain_problem(20 + seed, volunteers=60, shifts=20, spread_deg=0.6)
    solution = solve(problem, threads=1, time_limit=5)
    assert solution.unfilled
    assert as_tuples(solution.unfilled) == reference_unfilled(problem, solution.assignments)


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        ((0.45, 0.45), (0.0, 0.6)),  # in a corner of the box / just beyond its east edge
        ((0.4, -2.0), (0.0, 0.6)),  # by its north edge / beyond the (shorter) east edge
    ],
)
def test_nearest_beyond_radius_outside_the_first_grid_box(inside, outside):
    """A free volunteer inside the first grid box is farther than one just outside it: the
    box alone must not decide the distance suggestion. Offsets are in cells beyond the
    first box's half width (north, east); a cell of longitude is shorter than one of
    latitude."""
    g, cells = explain.GRID_DEG, explain.NEAREST_CELLS
    row, col = 600, 4224  # the institution in the middle of this cell
    lat, lon = (row + 0.5) * g, (col + 0.5) * g - 180.0

    def home(north: float, east: float) -> tuple[float, float]:
        dy = (cells + north) * g if north else 0.0
        return lat + dy, lon + (cells + east) * g

    vols = tuple(
        make_volunteer(f"vol-{i}", lat=p[0], lon=p[1], max_travel_km=1.0)
        for i, p in enumerate((home(*inside), home(*outside)))
    )
    assert distance_km(vols[1], make_institution(lat=lat, lon=lon)) < distance_km(
        vols[0], make_institution(lat=lat, lon=lon)
    )
    problem = make_problem(
        institutions=(make_institution(lat=lat, lon=lon),), volunteers=vols, shifts=(make_shift(),)
    )
    (u,) = run_explain(problem, [])
    nearest = min(distance_km(v, problem.institutions[0]) for v in vols)
    assert parse_suggestion(u.suggestions[0]) == {
        "relax": "distance",
        "value": math.ceil(nearest * 10) / 10,
        "count": 1,
        "text": parse_suggestion(u.suggestions[0])["text"],
    }
    assert as_tuples([u]) == reference_unfilled(problem, [])
