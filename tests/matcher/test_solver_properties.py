"""Property tests of the solver on small random problems, against an exhaustive solver."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.check import check_solution
from matcher.eligibility import caps_reasons, clash, pair_reasons, positions_for
from matcher.model import Problem
from matcher.solver import solve
from tests.matcher.random_problems import random_problem

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fill_vector(problem: Problem, placed: list[tuple[str, str, bool]]) -> tuple[int, ...]:
    """(locked pairs in a place, places by priority from the highest) of a roster."""
    levels = sorted({s.priority for s in problem.shifts}, reverse=True)
    by = {p: 0 for p in levels}
    locked = 0
    for _vid, sid, is_locked in placed:
        by[problem.shift_by_id[sid].priority] += 1
        locked += is_locked
    return (locked, *(by[p] for p in levels))


def brute_force(problem: Problem) -> tuple[tuple[int, ...], int]:
    """Best lexicographic fill vector and the largest number of places of any valid roster.

    Every place choice of every pair is enumerated (locked pairs always present: on a place
    they may fill, on any other place of the shift, or overflowing); a roster is valid when
    places, schedules and caps hold (schedules and caps counting the locked shifts; locked
    pairs themselves are exempt), no shift holds more volunteers than places unless they are
    all locked, and no more locked pairs of a shift take places they may not fill than must
    (min(locked, places) less the most of them on places they may fill).
    """
    rest = problem.settings.min_rest_minutes
    locked = {(p.volunteer_id, p.shift_id) for p in problem.locked}
    capacity = {}
    for sh in problem.shifts:
        for k, c in sh.required_skills.items():
            capacity[(sh.id, k)] = c
        capacity[(sh.id, None)] = sh.open_places
    every = {
        sh.id: [*sorted(sh.required_skills)] + ([None] if sh.open_places > 0 else [])
        for sh in problem.shifts
    }
    options: list[tuple[str, str, bool, list]] = []
    for vol in problem.volunteers:
        for sh in problem.shifts:
            is_locked = (vol.id, sh.id) in locked
            if is_locked:
                options.append((vol.id, sh.id, True, [*every[sh.id], "overflow"]))
            elif not pair_reasons(vol, sh, problem.institution_of(sh)):
                options.append((vol.id, sh.id, False, [*positions_for(vol, sh), "none"]))
    must_off: dict[str, int] = {}
    for sh in problem.shifts:
        mine = [problem.volunteer_by_id[v] for v, s in sorted(locked) if s == sh.id]
        most = 0
        for pick in itertools.product(*([*positions_for(v, sh), "none"] for v in mine)):
            on = Counter(q for q in pick if q != "none")
            if all(n <= capacity[(sh.id, q)] for q, n in on.items()):
                most = max(most, sum(on.values()))
        must_off[sh.id] = min(len(mine), sh.needed) - most
    best_vec: tuple[int, ...] | None = None
    best_total = -1
    for choice in itertools.product(*(o[3] for o in options)):
        used: dict = {}
        ok = True
        placed = []
        taken: dict[str, list] = {}
        on_shift: Counter = Counter()
        free_on: set[str] = set()
        off: Counter = Counter()
        for (vid, sid, is_locked, _), pos in zip(options, choice, strict=True):
            if pos in ("none",):
                continue
            on_shift[sid] += 1
            if not is_locked:
                free_on.add(sid)
            if pos != "overflow":
                used[(sid, pos)] = used.get((sid, pos), 0) + 1
                if used[(sid, pos)] > capacity[(sid, pos)]:
                    ok = False
                    break
                placed.append((vid, sid, is_locked))
                vol = problem.volunteer_by_id[vid]
                off[sid] += is_locked and pos not in positions_for(vol, problem.shift_by_id[sid])
            taken.setdefault(vid, []).append((problem.shift_by_id[sid], is_locked))
        if not ok or any(off[s] > must_off[s] for s in off):
            continue
        if any(on_shift[s] > problem.shift_by_id[s].needed for s in free_on):
            continue
        for vid, items in taken.items():
            free = [s for s, lk in items if not lk]
            if not free:
                continue
            shifts = [s for s, _ in items]
            for a, b in itertools.combinations(items, 2):
                if (a[1] and b[1]) is False and clash(
                    a[0].start, a[0].end, b[0].start, b[0].end, rest
                ):
                    ok = False
            if caps_reasons(problem.volunteer_by_id[vid], shifts):
                ok = False
        if not ok:
            continue
        vec = _fill_vector(problem, placed)
        if best_vec is None or vec > best_vec:
            best_vec = vec
        best_total = max(best_total, len(placed))
    assert best_vec is not None
    return best_vec, best_total


def _solver_vector(problem: Problem, solution) -> tuple[int, ...]:
    locked = {(p.volunteer_id, p.shift_id) for p in problem.locked}
    # locked pairs over capacity are not in a place: count places per (shift, position)
    cap: dict = {}
    placed = []
    for a in solution.assignments:
        sh = problem.shift_by_id[a.shift_id]
        key = (a.shift_id, a.position)
        limit = sh.open_places if a.position is None else sh.required_skills.get(a.position, 0)
        cap[key] = cap.get(key, 0) + 1
        if cap[key] <= limit:
            placed.append((a.volunteer_id, a.shift_id, (a.volunteer_id, a.shift_id) in locked))
    return _fill_vector(problem, placed)


@FAST
@given(seed=st.integers(0, 10**6), locked=st.integers(0, 2))
def test_tiny_instances_match_exhaustive_optimum(seed, locked):
    problem = random_problem(seed, volunteers=4, shifts=3, institutions=2, days=1, locked=locked)
    solution = solve(problem, time_limit=10, threads=1)
    assert check_solution(problem, solution) == []
    best_vec, best_total = brute_force(problem)
    assert _solver_vector(problem, solution) == best_vec
    overflow = len(solution.assignments) - sum(best_vec[1:])
    assert best_total + overflow <= solution.metrics.upper_bound
    assert solution.metrics.filled <= solution.metrics.upper_bound
    # the per-priority bounds hold for the exhaustive optimum too
    bounds = solution.metrics.extra.get("bound_at_or_above_priority", {})
    levels = sorted({s.priority for s in problem.shifts}, reverse=True)
    for i, p in enumerate(levels):
        if str(p) in bounds:
            assert sum(best_vec[1 : 2 + i]) <= bounds[str(p)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_small_instances_valid_deterministic_and_keep_locked(seed):
    problem = random_problem(
        seed, volunteers=12, shifts=8, institutions=3, days=2, locked=3, previous=4
    )
    first = solve(problem, time_limit=10, threads=2, seed=7)
    assert check_solution(problem, first) == []
    assert first.metrics.filled <= first.metrics.upper_bound
    assigned = {(a.volunteer_id, a.shift_id) for a in first.assignments}
    assert {(p.volunteer_id, p.shift_id) for p in problem.locked} <= assigned
    second = solve(problem, time_limit=10, threads=2, seed=7)
    assert first.to_dict()["assignments"] == second.to_dict()["assignments"]
    assert first.to_dict()["unfilled"] == second.to_dict()["unfilled"]
    assert first.metrics.upper_bound == second.metrics.upper_bound
