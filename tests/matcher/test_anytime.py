"""Tests of the quick roster, the simple bound and the race with the flows under a short limit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import _anytime, solver
from matcher.check import check_solution
from matcher.model import Pair, Settings
from matcher.solver import solve
from tests.matcher.conftest import (
    at,
    empty_state,
    make_institution,
    make_problem,
    make_shift,
    make_volunteer,
)
from tests.matcher.random_problems import random_problem
from tests.matcher.test_solver_properties import brute_force

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def force_quick(mp: pytest.MonkeyPatch) -> None:
    """Every solve takes the quick roster: the flows are predicted late, fork is unavailable."""
    mp.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    mp.setattr(_anytime, "can_fork", lambda: False)


@pytest.fixture
def quick_only(monkeypatch):
    """`force_quick` for one test; the progress lines of its solves."""
    force_quick(monkeypatch)
    lines: list[str] = []
    return lines


def quick_solve(problem, lines, **kw):
    solution = solve(problem, time_limit=10, threads=1, progress=lines.append, **kw)
    assert any(line.startswith("quick roster:") for line in lines), lines
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled <= solution.metrics.upper_bound
    return solution


def placed(solution):
    return {(a.volunteer_id, a.shift_id, a.position) for a in solution.assignments}


# ---------------------------------------------------------------------- the quick roster


@FAST
@given(seed=st.integers(0, 10**6), locked=st.integers(0, 2))
def test_quick_rosters_are_valid_and_their_bound_holds_for_the_optimum(seed, locked):
    problem = random_problem(seed, volunteers=4, shifts=3, institutions=2, days=1, locked=locked)
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        force_quick(mp)
        solution = quick_solve(problem, lines)
    best_vec, best_total = brute_force(problem)
    # locked pairs beyond their shift's places overflow (the quick roster places the rest)
    locked_per_shift = Counter(p.shift_id for p in set(problem.locked))
    overflow = sum(
        max(0, n - problem.shift_by_id[sid].needed) for sid, n in locked_per_shift.items()
    )
    assert best_total + overflow <= solution.metrics.upper_bound
    assert {(p.volunteer_id, p.shift_id) for p in problem.locked} <= {
        (a.volunteer_id, a.shift_id) for a in solution.assignments
    }
    bounds = solution.metrics.extra["bound_at_or_above_priority"]
    levels = sorted({s.priority for s in problem.shifts}, reverse=True)
    for i, p in enumerate(levels):
        assert sum(best_vec[1 : 2 + i]) <= bounds[str(p)]
    assert solution.metrics.status in {"FEASIBLE", "FILL_OPTIMAL", "EMPTY"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_quick_rosters_are_valid_deterministic_and_keep_locked_on_bigger_problems(seed):
    problem = random_problem(
        seed, volunteers=14, shifts=10, institutions=3, days=2, locked=3, previous=4
    )
    with pytest.MonkeyPatch.context() as mp:
        force_quick(mp)
        first = quick_solve(problem, [])
        second = quick_solve(problem, [])
    assert {(p.volunteer_id, p.shift_id) for p in problem.locked} <= {
        (a.volunteer_id, a.shift_id) for a in first.assignments
    }
    assert first.to_dict()["assignments"] == second.to_dict()["assignments"]
    assert first.to_dict()["unfilled"] == second.to_dict()["unfilled"]
    assert first.metrics.upper_bound == second.metrics.upper_bound


def test_the_quick_roster_takes_the_cheapest_volunteer_who_fits(quick_only):
    near = make_volunteer("near")
    far = make_volunteer("far", lat=30.08)
    problem = make_problem(volunteers=(far, near), shifts=(make_shift(needed=1),))
    solution = quick_solve(problem, quick_only)
    assert placed(solution) == {("near", "shift-1", None)}
    assert solution.metrics.status == "FILL_OPTIMAL"
    assert solution.metrics.upper_bound == 1


def test_the_quick_roster_keeps_clashes_caps_and_rest(quick_only):
    # one volunteer, three shifts: two overlap, the third starts 20 minutes after the first
    # ends (the rest is 30), so one shift only; a second volunteer capped at one shift
    a = make_volunteer("a")
    b = make_volunteer("b", max_shifts=1)
    shifts = (
        make_shift("s1", start=at(9), end=at(11)),
        make_shift("s2", start=at(10), end=at(12)),
        make_shift("s3", start=at(11 + 20 / 60), end=at(13)),
    )
    problem = make_problem(volunteers=(a, b), shifts=shifts, settings=Settings(min_rest_minutes=30))
    solution = quick_solve(problem, quick_only)
    assert Counter(vol for vol, _shift, _pos in placed(solution)) == {"a": 1, "b": 1}


def test_the_quick_roster_keeps_the_hour_cap(quick_only):
    # three 3-hour shifts on three days, 7 hours left: two of them
    vol = make_volunteer("v", max_hours=7)
    shifts = tuple(make_shift(f"s{d}", start=at(9, d), end=at(12, d)) for d in range(3))
    solution = quick_solve(make_problem(volunteers=(vol,), shifts=shifts), quick_only)
    assert solution.metrics.filled == 2


def test_the_quick_roster_fills_scarce_places_first():
    # the tutor is the only one who may take the tutoring place and the cheapest for the
    # open one: the reserved place (fewer takers) is filled first, so both are filled
    tutor = make_volunteer("tutor", skills={"tutoring"})
    other = make_volunteer("other", lat=30.07)
    shift = make_shift(needed=2, required_skills={"tutoring": 1})
    problem = make_problem(volunteers=(tutor, other), shifts=(shift,))
    prep, _state, pair_of = empty_state(problem)
    quick = solver._State.from_greedy(prep)
    got = {pair: prep.positions.skill[q] for pair, q in quick.pair_pos.items()}
    assert got == {pair_of["tutor", "shift-1"]: "tutoring", pair_of["other", "shift-1"]: None}


def test_the_quick_roster_fills_higher_priority_first(quick_only):
    # one volunteer, two clashing shifts: the priority-3 one wins although it is farther
    vol = make_volunteer("v")
    shifts = (
        make_shift("low", priority=1),
        make_shift("high", priority=3, institution_id="inst-2"),
    )
    institutions = (make_institution(), make_institution("inst-2", lon=31.30))
    problem = make_problem(volunteers=(vol,), shifts=shifts, institutions=institutions)
    solution = quick_solve(problem, quick_only)
    assert {a.shift_id for a in solution.assignments} == {"high"}


def test_the_quick_roster_places_a_locked_pairs_budget_where_others_cannot_fill(quick_only):
    # two locked non-holders, places: open 1, music 1, tutoring 1, and one free musician:
    # the second locked pair takes the tutoring place, the musician the music place
    vols = (make_volunteer("a"), make_volunteer("b"), make_volunteer("m", skills={"music"}))
    shift = make_shift(needed=3, required_skills={"music": 1, "tutoring": 1})
    problem = make_problem(
        volunteers=vols, shifts=(shift,), locked=(Pair("a", "shift-1"), Pair("b", "shift-1"))
    )
    solution = quick_solve(problem, quick_only)
    assert ("m", "shift-1", "music") in placed(solution)
    assert {p[2] for p in placed(solution) if p[0] in "ab"} == {None, "tutoring"}
    assert solution.metrics.filled == solution.metrics.upper_bound == 3


def test_a_locked_holder_of_two_skills_leaves_the_place_others_can_fill(quick_only):
    # locked L holds music and tutoring, free M music only; the shift reserves one of each:
    # L takes tutoring, M music
    lead = make_volunteer("L", skills={"music", "tutoring"})
    musician = make_volunteer("M", skills={"music"})
    shift = make_shift(needed=2, required_skills={"music": 1, "tutoring": 1})
    problem = make_problem(
        volunteers=(lead, musician), shifts=(shift,), locked=(Pair("L", "shift-1"),)
    )
    solution = quick_solve(problem, quick_only)
    assert placed(solution) == {("L", "shift-1", "tutoring"), ("M", "shift-1", "music")}
    assert solution.metrics.status == "FILL_OPTIMAL"


def test_locked_pairs_beyond_the_places_overflow_in_the_quick_roster(quick_only):
    vols = tuple(make_volunteer(f"v{i}") for i in range(3))
    locked = tuple(Pair(f"v{i}", "shift-1") for i in range(3))
    problem = make_problem(volunteers=vols, locked=locked, shifts=(make_shift(needed=2),))
    solution = quick_solve(problem, quick_only)
    assert len(solution.assignments) == 3
    assert solution.metrics.upper_bound >= 3
    assert solution.warnings


def test_chains_refill_what_the_greedy_missed(quick_only):
    # s1 and s2 at the same time; a may take either and is the cheapest for s1, b only s1
    # (inst-2 is beyond b's radius), x only s2 but x also is the only musician for s3, 15
    # minutes after s2 (the rest is 30). The greedy: s3 <- x (fewest takers), s1 <- a
    # (cheapest), s2 left; a chain moves a to s2 and b into s1
    a = make_volunteer("a")
    b = make_volunteer("b", lon=31.20, max_travel_km=5)
    x = make_volunteer("x", lat=30.04, lon=31.29, max_travel_km=3, skills={"music"})
    institutions = (make_institution(), make_institution("inst-2", lon=31.30))
    shifts = (
        make_shift("s1"),
        make_shift("s2", institution_id="inst-2"),
        make_shift(
            "s3", institution_id="inst-2", start=at(12.25), end=at(14), required_skills={"music": 1}
        ),
    )
    problem = make_problem(
        volunteers=(a, b, x),
        shifts=shifts,
        institutions=institutions,
        settings=Settings(min_rest_minutes=30),
    )
    prep, _state, _pair_of = empty_state(problem)
    assert len(solver._State.from_greedy(prep).pair_pos) == 2
    solution = quick_solve(problem, quick_only)
    assert placed(solution) == {
        ("a", "s2", None),
        ("b", "s1", None),
        ("x", "s3", "music"),
    }
    assert solution.metrics.status == "FILL_OPTIMAL"


# ---------------------------------------------------------------------- the simple bound


def test_simple_bound_counts_places_takers_and_volunteers():
    # shift 0: reserved position (2 places, 1 taker) and open (3 places, 5 takers), 4 distinct
    # takers in all; shift 1: open (2 places, no taker)
    capacity = np.array([2, 3, 2])
    position_shift = np.array([0, 0, 1])
    arc_pos = np.array([0, 1, 1, 1, 1, 1])

    def bound(takers, volunteers):
        return _anytime.simple_bound(
            capacity, position_shift, arc_pos, np.array(takers), volunteers
        )

    per_shift, total = bound([4, 0], 99)
    assert per_shift.tolist() == [4, 0]  # the distinct takers
    assert total == 4
    assert bound([9, 0], 99)[0].tolist() == [4, 0]  # reserved 2 (1 taker) + open 3 (5)
    assert bound([9, 0], 3)[1] == 3  # the volunteers' most


def test_greedy_on_no_arcs_is_empty():
    empty = np.zeros(0, dtype=np.int64)
    assert _anytime.greedy(
        empty, empty, empty, empty, empty, empty, empty,
        np.array([-1]), np.array([-1]), np.array([1]), np.array([1]),
    ) == ([], [])  # fmt: skip


# ---------------------------------------------------------------------- forked work


def _forty_two(report) -> int:
    report("half way")
    return 42


def test_run_forked_returns_the_result_and_the_reports():
    with _anytime.run_forked(_forty_two) as pending:
        assert pending.result(30) == 42
        assert pending.ready()
        assert pending.reports == ["half way"]


def test_run_forked_gives_up_at_the_timeout_and_stops_the_process():
    def slow(report) -> int:
        report(1)
        time.sleep(60)
        return 1

    began = time.perf_counter()
    with _anytime.run_forked(slow) as pending:
        assert pending.result(0.5) is None
        assert not pending.ready()
        assert pending.reports == [1]  # what came before the timeout is kept
        process = pending._process
    assert time.perf_counter() - began < 30
    assert not process.is_alive()


def test_run_forked_stops_the_process_when_the_caller_ignores_sigterm():
    # a host with its own SIGTERM handling (graceful shutdown) must not keep it alive
    def slow(_report) -> int:
        time.sleep(60)
        return 1

    before = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        began = time.perf_counter()
        with _anytime.run_forked(slow) as pending:
            assert pending.result(0.3) is None
            process = pending._process
        assert time.perf_counter() - began < 10
        assert not process.is_alive()
    finally:
        signal.signal(signal.SIGTERM, before)


def test_run_forked_says_why_when_no_process_can_start(monkeypatch):
    def refused(_self):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refused)
    with _anytime.run_forked(_forty_two) as pending:
        assert pending.result(0.1) is None
        assert not pending.ready()
        assert "Cannot allocate memory" in pending.error


def test_run_forked_raises_the_calls_error():
    def broken(_report) -> int:
        raise ValueError("no flow")

    with _anytime.run_forked(broken) as pending, pytest.raises(ValueError, match="no flow"):
        pending.result(30)


def test_run_forked_says_when_the_process_died():
    def dies(_report) -> int:
        os._exit(3)

    with _anytime.run_forked(dies) as pending, pytest.raises(RuntimeError, match="exit code"):
        pending.result(30)


# ---------------------------------------------------------------------- the race


def _medium_problem():
    return random_problem(3, volunteers=30, shifts=20, institutions=4, days=3, locked=2)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_flow_that_ends_in_time_gives_the_same_solution_as_without_the_race(monkeypatch, threads):
    problem = _medium_problem()
    plain = solve(problem, time_limit=10, threads=threads)
    monkeypatch.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    lines: list[str] = []
    raced = solve(problem, time_limit=10, threads=threads, progress=lines.append)
    assert not any(line.startswith("quick roster:") for line in lines)
    assert raced.to_dict()["assignments"] == plain.to_dict()["assignments"]
    assert raced.metrics.upper_bound == plain.metrics.upper_bound


@pytest.mark.parametrize("threads", [1, 2])
def test_a_flow_that_does_not_end_in_time_leaves_the_quick_roster(monkeypatch, threads):
    problem = _medium_problem()

    def stuck(*_args, **_kwargs):
        time.sleep(60)

    monkeypatch.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    monkeypatch.setattr(solver, "_solve_flow", stuck)  # the forked process inherits it
    lines: list[str] = []
    began = time.perf_counter()
    solution = solve(problem, time_limit=2, threads=threads, progress=lines.append)
    assert time.perf_counter() - began < 30
    assert any(line.startswith("quick roster:") for line in lines), lines
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled > 0
    assert solution.metrics.filled <= solution.metrics.upper_bound


def test_the_max_flows_bound_is_kept_when_only_the_min_cost_flow_is_late(monkeypatch):
    # two volunteers, three shifts at the same time (priorities 1, 1, 2): the simple bound
    # counts 3 places, the max flows 2 (1 at priority 2)
    vols = (make_volunteer("a"), make_volunteer("b"))
    shifts = tuple(make_shift(f"s{i}", priority=1 + (i == 2)) for i in range(3))
    problem = make_problem(volunteers=vols, shifts=shifts)
    plain = solve(problem, time_limit=10, threads=1)
    assert plain.metrics.upper_bound == 2
    real = solver._solve_flow

    def late_after_the_max_flows(prep, *args, on_rank=None, **kwargs):
        def stuck(rank):
            on_rank(rank)
            time.sleep(60)

        return real(prep, *args, on_rank=stuck, **kwargs)

    monkeypatch.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    monkeypatch.setattr(solver, "_solve_flow", late_after_the_max_flows)
    lines: list[str] = []
    solution = solve(problem, time_limit=2, threads=2, progress=lines.append)
    assert any("(its max flows did)" in line for line in lines), lines
    assert check_solution(problem, solution) == []
    assert solution.metrics.upper_bound == 2
    assert solution.metrics.extra["bound_at_or_above_priority"] == {"1": 2, "2": 1}


def _raced_in_a_pool_worker(limit: float) -> str:
    solver.RACE_FLOW_PER_PREP = 1e12  # (the worker's own copy of the module)
    lines: list[str] = []
    solution = solve(_medium_problem(), time_limit=limit, threads=1, progress=lines.append)
    return f"{solution.metrics.filled} {lines[1]}"


def test_a_daemonic_process_solves_without_forking():
    # a multiprocessing.Pool worker may not have children: the quick roster alone
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply(_raced_in_a_pool_worker, (10,))
    assert "quick roster:" in got and "no time or no fork" in got, got


def test_a_refused_fork_leaves_the_quick_roster(monkeypatch):
    def refused(_self):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refused)
    problem = _medium_problem()
    for threads in (1, 2):
        lines: list[str] = []
        solution = solve(problem, time_limit=10, threads=threads, progress=lines.append)
        assert any("no process for the flow relaxation (" in line for line in lines), lines
        assert any("Resource temporarily unavailable" in line for line in lines)
        assert check_solution(problem, solution) == []
        assert "flow_bound" not in solution.metrics.extra


def test_a_spent_limit_takes_the_quick_roster_without_forking(monkeypatch):
    problem = _medium_problem()

    def no_fork(_call):
        raise AssertionError("forked although the flows could not be used")

    monkeypatch.setattr(_anytime, "run_forked", no_fork)
    lines: list[str] = []
    solution = solve(problem, time_limit=1e-6, threads=2, progress=lines.append)
    assert any(line.startswith("quick roster:") for line in lines)
    assert check_solution(problem, solution) == []


def test_the_quick_roster_replaces_the_flows_when_it_fills_more(monkeypatch):
    problem = _medium_problem()
    monkeypatch.setattr(solver, "RACE_FLOW_PER_PREP", 1e12)
    with monkeypatch.context() as mp:
        force_quick(mp)
        alone = solve(problem, time_limit=10, threads=1)
    monkeypatch.setattr(solver, "_better", lambda _prep, _a, _b: True)
    lines: list[str] = []
    solution = solve(problem, time_limit=10, threads=1, progress=lines.append)
    assert any(line.startswith("flow relaxation:") for line in lines), lines
    assert any(line.startswith("the quick roster is better:") for line in lines), lines
    assert check_solution(problem, solution) == []
    assert solution.to_dict()["assignments"] == alone.to_dict()["assignments"]
    # the flow's bound, and its secondary costs are not proven optimal
    assert solution.metrics.extra["flow_bound"] >= solution.metrics.upper_bound
    assert solution.metrics.status in {"FILL_OPTIMAL", "FEASIBLE"}


def test_better_compares_places_by_level_from_the_highest():
    # two shifts, priority 1 (two places) and 2 (one place), three volunteers
    vols = tuple(make_volunteer(v) for v in "abc")
    shifts = (
        make_shift("low", needed=2, priority=1),
        make_shift("high", needed=1, priority=2, start=at(9, 1), end=at(12, 1)),
    )
    problem = make_problem(volunteers=vols, shifts=shifts)
    prep, _state, pair_of = empty_state(problem)

    def roster(*pairs):
        st = solver._State(prep)
        for vol, shift in pairs:
            p = pair_of[vol, shift]
            st._add(p, int(prep.positions.open_of_shift[prep.ps[p]]))
        return st

    two_low = roster(("a", "low"), ("b", "low"))
    one_high = roster(("a", "high"))
    one_high_one_low = roster(("a", "high"), ("b", "low"))
    assert solver._better(prep, one_high, two_low)
    assert not solver._better(prep, two_low, one_high)
    assert solver._better(prep, one_high_one_low, one_high)
    # equal fill: the roster already there stays
    assert not solver._better(prep, roster(("c", "high")), one_high)


@pytest.mark.skipif(not _anytime.can_fork(), reason="fork is POSIX")
def test_race_runs_in_a_forked_process():
    with _anytime.run_forked(lambda _report: os.getpid()) as pending:
        assert pending.result(30) != os.getpid()


def test_a_stopped_chains_pass_resumes_where_it_stopped():
    vols = tuple(make_volunteer(v) for v in "abc")
    shifts = tuple(make_shift(f"s{d}", start=at(9, d), end=at(12, d)) for d in range(3))
    problem = make_problem(volunteers=vols, shifts=shifts)
    prep, state, _pair_of = empty_state(problem)
    calls = iter(range(100))
    # stop once the first position is done: the pass records the positions it left
    assert state.augment(prep, every_free=True, stop=lambda: next(calls) >= 1) == 1
    assert state.unfinished is not None and len(state.unfinished) == 3
    state.unfinished = state.unfinished[2:]  # as if it had stopped before the last one
    assert state.augment(prep, every_free=True, resume=True) == 1  # the last one only
    assert state.unfinished is None
    assert state.pos_fill.tolist() == [1, 0, 1]
    # a pass that ran to its end leaves nothing to resume: a new pass over every free place
    assert state.augment(prep, every_free=True, resume=True) == 1
    assert state.pos_fill.tolist() == [1, 1, 1]
