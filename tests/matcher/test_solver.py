"""Unit tests of the solver, one mechanism at a time, plus a medium generated instance."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from pathlib import Path

import pytest

from matcher.check import check_solution
from matcher.model import Pair, Problem, Settings, Weights
from matcher.problem_io import load_problem
from matcher.solver import solve
from tests.matcher.conftest import (
    at,
    empty_state,
    make_institution,
    make_problem,
    make_shift,
    make_volunteer,
    window,
)


def run(problem, **kw):
    solution = solve(problem, time_limit=kw.pop("time_limit", 10), threads=1, **kw)
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled <= solution.metrics.upper_bound
    return solution


def pairs(solution):
    return {(a.volunteer_id, a.shift_id, a.position) for a in solution.assignments}


def test_empty_problem():
    solution = run(make_problem(shifts=()))
    assert solution.metrics.status == "EMPTY"
    assert solution.assignments == () and solution.metrics.demand == 0


def test_one_volunteer_one_shift_is_optimal():
    solution = run(make_problem())
    assert pairs(solution) == {("vol-1", "shift-1", None)}
    m = solution.metrics
    assert (m.filled, m.upper_bound, m.status) == (1, 1, "OPTIMAL")
    assert m.mean_km == pytest.approx(1.4, abs=0.1)


def test_nobody_eligible_leaves_place_unfilled_with_reasons():
    shift = make_shift(gender="male")
    solution = run(make_problem(shifts=(shift,)))
    assert solution.assignments == ()
    assert solution.metrics.upper_bound == 0 and solution.metrics.status == "OPTIMAL"
    (u,) = solution.unfilled
    assert (u.shift_id, u.position, u.missing) == ("shift-1", None, 1)
    assert dict(u.reasons) == {"gender": 1}


def test_reserved_place_goes_to_holder_and_other_takes_open_place():
    tutor = make_volunteer("tutor", skills=frozenset({"tutoring"}))
    other = make_volunteer("other")
    shift = make_shift(needed=2, required_skills={"tutoring": 1})
    solution = run(make_problem(volunteers=(tutor, other), shifts=(shift,)))
    assert pairs(solution) == {("tutor", "shift-1", "tutoring"), ("other", "shift-1", None)}


def test_reserved_only_shift_refuses_non_holder():
    other = make_volunteer("other")
    shift = make_shift(needed=1, required_skills={"tutoring": 1})
    solution = run(make_problem(volunteers=(other,), shifts=(shift,)))
    assert solution.assignments == ()
    assert dict(solution.unfilled[0].reasons) == {"skills": 1}


def test_overlapping_shifts_take_one_volunteer_once():
    shifts = (
        make_shift("a", start=at(9), end=at(12)),
        make_shift("b", start=at(11), end=at(14)),
    )
    solution = run(make_problem(shifts=shifts))
    assert solution.metrics.filled == 1 and solution.metrics.upper_bound == 1
    (u,) = solution.unfilled
    assert dict(u.reasons) == {"taken_elsewhere": 1}


@pytest.mark.parametrize(("rest", "expected"), [(30, 2), (31, 1), (0, 2)])
def test_rest_gap(rest, expected):
    shifts = (
        make_shift("a", start=at(9), end=at(12)),
        make_shift("b", start=at(12.5), end=at(15)),
    )
    problem = make_problem(shifts=shifts, settings=Settings(min_rest_minutes=rest))
    solution = run(problem)
    assert solution.metrics.filled == expected
    assert solution.metrics.upper_bound == expected


@pytest.mark.parametrize(
    ("max_shifts", "max_hours", "expected"), [(1, None, 1), (None, 5.0, 1), (None, 6.0, 2)]
)
def test_caps(max_shifts, max_hours, expected):
    vol = make_volunteer(max_shifts=max_shifts, max_hours=max_hours)
    shifts = (
        make_shift("a", start=at(9), end=at(12)),
        make_shift("b", start=at(9), end=at(12), institution_id="inst-1"),
        make_shift("c", start=at(9, day=1), end=at(12, day=1)),
    )
    solution = run(make_problem(volunteers=(vol,), shifts=shifts))
    assert solution.metrics.filled == expected == solution.metrics.upper_bound


def test_chain_of_clashes_needs_more_than_the_flow():
    # a-b and b-c clash, a and c do not: the flow block allows any two, the roster a + c
    vol = make_volunteer(max_travel_km=50)
    shifts = (
        make_shift("a", start=at(9), end=at(12)),
        make_shift("b", start=at(11), end=at(14), priority=1),
        make_shift("c", start=at(13), end=at(16)),
    )
    solution = run(make_problem(volunteers=(vol,), shifts=shifts))
    assert {a.shift_id for a in solution.assignments} == {"a", "c"}
    assert solution.metrics.status in ("OPTIMAL", "FILL_OPTIMAL")


def test_hour_cap_tighter_than_the_flow_is_solved_exactly():
    vol = make_volunteer(max_hours=6.0)
    other = make_volunteer("other", availability=(window(8, 20),))
    shifts = (
        make_shift("long-1", start=at(9, 1), end=at(13, 1)),
        make_shift("long-2", start=at(9, 2), end=at(13, 2)),
        make_shift("short-1", start=at(9), end=at(12)),
        make_shift("short-2", start=at(13), end=at(16)),
    )
    solution = run(make_problem(volunteers=(vol, other), shifts=shifts))
    # vol fits 4 + (nothing) or 3 + 3: two places from vol, one from other on day 0
    assert solution.metrics.filled == 3 == solution.metrics.upper_bound


def _priority_costs_a_place() -> Problem:
    """One volunteer: `urgent` (priority 5) clashes with `b` and `c` (priority 1), which could
    both be filled: the lexicographic fill holds one place of a bound of two, for good."""
    return make_problem(
        shifts=(
            make_shift("urgent", start=at(10), end=at(15), priority=5),
            make_shift("b", start=at(9), end=at(12), priority=1),
            make_shift("c", start=at(13), end=at(16), priority=1),
        )
    )


def test_higher_priority_first_even_at_the_cost_of_places():
    solution = run(_priority_costs_a_place())
    assert [a.shift_id for a in solution.assignments] == ["urgent"]
    assert solution.metrics.upper_bound == 2
    assert solution.metrics.status == "FEASIBLE"
    assert dict(solution.metrics.filled_by_priority) == {5: 1}


def test_locked_pair_breaking_a_rule_is_kept_with_warning():
    far = make_volunteer("far", lat=31.5, lon=31.2, max_travel_km=5)
    near = make_volunteer("near")
    problem = make_problem(volunteers=(far, near), locked=(Pair("far", "shift-1"),))
    solution = run(problem)
    assert pairs(solution) == {("far", "shift-1", None)}
    assert any("far" in w and "shift-1" in w and "distance" in w for w in solution.warnings)


def test_locked_pairs_beyond_places_are_kept_and_warned():
    vols = tuple(make_volunteer(f"v{i}") for i in range(3))
    locked = tuple(Pair(f"v{i}", "shift-1") for i in range(3))
    problem = make_problem(volunteers=vols, locked=locked, shifts=(make_shift(needed=2),))
    solution = run(problem)
    assert len(solution.assignments) == 3
    assert solution.metrics.upper_bound >= 3
    assert solution.warnings


def test_locked_pairs_without_the_skill_take_the_reserved_place_before_a_free_holder():
    # two locked volunteers without the skill, one open and one reserved place: the second
    # locked pair takes the reserved place (warned), the free holder stays out, so the shift
    # holds its two places and no more
    vols = (make_volunteer("a"), make_volunteer("b"), make_volunteer("t", skills={"tutoring"}))
    shift = make_shift(needed=2, required_skills={"tutoring": 1})
    problem = make_problem(
        volunteers=vols, shifts=(shift,), locked=(Pair("a", "shift-1"), Pair("b", "shift-1"))
    )
    solution = run(problem)
    place = {a.volunteer_id: a.position for a in solution.assignments}
    assert sorted(place) == ["a", "b"] and sorted(place.values(), key=str) == [None, "tutoring"]
    assert solution.metrics.filled == solution.metrics.upper_bound == 2
    holder = next(v for v, pos in place.items() if pos == "tutoring")
    assert [w for w in solution.warnings if "'tutoring' place without that skill" in w] == [
        f"locked pair {holder} on shift-1 fills a 'tutoring' place without that skill: the "
        "shift's other places are held by locked volunteers; kept"
    ]


def test_a_locked_pair_takes_a_reserved_place_without_the_skill_only_when_it_must():
    # the open place is free for the locked volunteer: the reserved place stays for a holder,
    # even when none exists and a free non-holder could then take the open place
    vols = (make_volunteer("a"), make_volunteer("u"))
    shift = make_shift(needed=2, required_skills={"tutoring": 1})
    problem = make_problem(volunteers=vols, shifts=(shift,), locked=(Pair("a", "shift-1"),))
    solution = run(problem)
    assert pairs(solution) == {("a", "shift-1", None)}
    assert solution.metrics.upper_bound == 1 and not solution.warnings
    assert [(u.position, u.missing) for u in solution.unfilled] == [("tutoring", 1)]


def test_the_reserved_place_a_locked_pair_must_take_leaves_the_other_for_its_holder():
    # two locked non-holders, places: open 1, music 1, tutoring 1, and one free musician:
    # the second locked pair takes the tutoring place, the musician the music place
    vols = (make_volunteer("a"), make_volunteer("b"), make_volunteer("m", skills={"music"}))
    shift = make_shift(needed=3, required_skills={"music": 1, "tutoring": 1})
    problem = make_problem(
        volunteers=vols, shifts=(shift,), locked=(Pair("a", "shift-1"), Pair("b", "shift-1"))
    )
    for seed in (0, 1):
        solution = run(problem, seed=seed)
        assert ("m", "shift-1", "music") in pairs(solution)
        assert {p[2] for p in pairs(solution) if p[0] in "ab"} == {None, "tutoring"}
        assert solution.metrics.filled == solution.metrics.upper_bound == 3
        assert check_solution(problem, solution) == []


def test_locked_pairs_beyond_the_places_are_warned_beside_a_locked_holder():
    # budget 0: the holder takes the reserved place, one non-holder the open one, the other
    # overflows onto it (both warned); the check accepts three locked pairs on two places
    vols = (make_volunteer("a", skills={"t"}), make_volunteer("b"), make_volunteer("c"))
    shift = make_shift(needed=2, required_skills={"t": 1})
    locked = tuple(Pair(v, "shift-1") for v in "abc")
    solution = run(make_problem(volunteers=vols, shifts=(shift,), locked=locked))
    assert ("a", "shift-1", "t") in pairs(solution) and len(solution.assignments) == 3
    assert {a.position for a in solution.assignments if a.volunteer_id != "a"} == {None}


def test_a_locked_pair_that_may_fill_no_place_overflows_onto_a_place_of_its_shift():
    # one reserved place, taken by the locked holder: the other locked pair may fill no place
    # of the shift, so it overflows onto the reserved one (never "the shift has no place")
    vols = (make_volunteer("a", skills={"t"}), make_volunteer("b"))
    shift = make_shift(needed=1, required_skills={"t": 1})
    locked = (Pair("a", "shift-1"), Pair("b", "shift-1"))
    solution = run(make_problem(volunteers=vols, shifts=(shift,), locked=locked))
    assert pairs(solution) == {("a", "shift-1", "t"), ("b", "shift-1", "t")}
    assert not any("no place" in w for w in solution.warnings)


def test_locked_non_holders_fill_a_shift_without_open_places_before_a_free_holder():
    vols = (make_volunteer("b"), make_volunteer("c"), make_volunteer("h", skills={"t"}))
    shift = make_shift(needed=2, required_skills={"t": 2})
    locked = (Pair("b", "shift-1"), Pair("c", "shift-1"))
    solution = run(make_problem(volunteers=vols, shifts=(shift,), locked=locked))
    assert pairs(solution) == {("b", "shift-1", "t"), ("c", "shift-1", "t")}
    assert solution.metrics.filled == solution.metrics.upper_bound == 2


def test_locked_holders_of_several_skills_are_matched_before_any_place_without_the_skill():
    # x holds both skills, y only "a": x takes "b", y "a", z (no skill) overflows; nobody is
    # put on a place without its skill
    vols = (
        make_volunteer("x", skills={"a", "b"}),
        make_volunteer("y", skills={"a"}),
        make_volunteer("z"),
    )
    shift = make_shift(needed=2, required_skills={"a": 1, "b": 1})
    locked = tuple(Pair(v, "shift-1") for v in "xyz")
    solution = run(make_problem(volunteers=vols, shifts=(shift,), locked=locked))
    assert {("x", "shift-1", "b"), ("y", "shift-1", "a")} <= pairs(solution)
    assert not any("without that skill" in w for w in solution.warnings)
    assert any("z" in w and "shift-1" in w for w in solution.warnings)


def test_locked_shift_counts_toward_caps_and_blocks_clashes():
    vol = make_volunteer(max_shifts=2)
    shifts = (
        make_shift("locked", start=at(9), end=at(12)),
        make_shift("clash", start=at(11), end=at(13)),
        make_shift("d1", start=at(9, 1), end=at(12, 1)),
        make_shift("d2", start=at(9, 2), end=at(12, 2)),
    )
    problem = make_problem(volunteers=(vol,), shifts=shifts, locked=(Pair("vol-1", "locked"),))
    solution = run(problem)
    got = {a.shift_id for a in solution.assignments}
    assert "locked" in got and "clash" not in got and len(got) == 2


def test_locked_holder_takes_the_position_that_leaves_room():
    both = make_volunteer("both", skills=frozenset({"a", "b"}))
    only_a = make_volunteer("only-a", skills=frozenset({"a"}))
    shift = make_shift(needed=2, required_skills={"a": 1, "b": 1})
    problem = make_problem(
        volunteers=(both, only_a), shifts=(shift,), locked=(Pair("both", "shift-1"),)
    )
    solution = run(problem)
    assert pairs(solution) == {("both", "shift-1", "b"), ("only-a", "shift-1", "a")}


def test_previous_assignment_is_kept_between_equal_volunteers():
    vols = (make_volunteer("v1"), make_volunteer("v2"))
    for keep in ("v1", "v2"):
        problem = make_problem(volunteers=vols, previous=(Pair(keep, "shift-1"),))
        assert {a.volunteer_id for a in run(problem).assignments} == {keep}


def test_preference_and_travel():
    inst1 = make_institution("inst-1", lat=30.04, lon=31.24)
    inst2 = make_institution("inst-2", lat=30.06, lon=31.22)
    vol = make_volunteer(preferences={"inst-2": 3})
    shifts = (
        make_shift("at-1", institution_id="inst-1"),
        make_shift("at-2", institution_id="inst-2"),
    )
    problem = make_problem(institutions=(inst1, inst2), volunteers=(vol,), shifts=shifts)
    assert [a.shift_id for a in run(problem).assignments] == ["at-2"]
    near = make_volunteer("near", lat=30.041, lon=31.241)
    far = make_volunteer("far", lat=30.1, lon=31.3)
    problem = make_problem(volunteers=(far, near))
    assert [a.volunteer_id for a in run(problem).assignments] == ["near"]


def test_reliability_prefers_the_volunteer_who_turns_up():
    vols = (make_volunteer("flaky", no_show_rate=0.5), make_volunteer("steady", no_show_rate=0.1))
    problem = make_problem(volunteers=vols)
    assert [a.volunteer_id for a in run(problem).assignments] == ["steady"]
    # the weight scales the cost: at 0 only travel decides (flaky lives nearer)
    vols = (
        make_volunteer("flaky", no_show_rate=0.9, lat=30.041, lon=31.241),
        make_volunteer("steady", lat=30.08, lon=31.28),
    )
    weighted = make_problem(volunteers=vols)
    assert [a.volunteer_id for a in run(weighted).assignments] == ["steady"]
    unweighted = make_problem(volunteers=vols, settings=Settings(weights=Weights(reliability=0)))
    assert [a.volunteer_id for a in run(unweighted).assignments] == ["flaky"]


def test_reliability_never_costs_a_place():
    vols = (make_volunteer("flaky", no_show_rate=1.0), make_volunteer("steady"))
    problem = make_problem(
        volunteers=vols,
        shifts=(make_shift(needed=2),),
        settings=Settings(weights=Weights(reliability=1000)),
    )
    solution = run(problem)
    assert {a.volunteer_id for a in solution.assignments} == {"flaky", "steady"}
    assert solution.metrics.status == "OPTIMAL"


def test_fairness_spreads_shifts():
    vols = (make_volunteer("v1"), make_volunteer("v2"))
    shifts = (
        make_shift("d0", start=at(9), end=at(12)),
        make_shift("d1", start=at(9, 1), end=at(12, 1)),
    )
    problem = make_problem(
        volunteers=vols,
        shifts=shifts,
        settings=Settings(weights=Weights(fairness=5.0, travel=0.0)),
    )
    solution = run(problem)
    assert {a.volunteer_id for a in solution.assignments} == {"v1", "v2"}


def test_same_institution_across_the_week():
    inst1 = make_institution("inst-1", lat=30.04, lon=31.24)
    inst2 = make_institution("inst-2", lat=30.04, lon=31.24)
    vols = (make_volunteer("v1"), make_volunteer("v2"))
    shifts = (
        make_shift("i1-d0", institution_id="inst-1", start=at(9), end=at(12)),
        make_shift("i2-d0", institution_id="inst-2", start=at(9), end=at(12)),
        make_shift("i1-d1", institution_id="inst-1", start=at(9, 1), end=at(12, 1)),
        make_shift("i2-d1", institution_id="inst-2", start=at(9, 1), end=at(12, 1)),
    )
    problem = make_problem(
        institutions=(inst1, inst2),
        volunteers=vols,
        shifts=shifts,
        settings=Settings(weights=Weights(same_institution=10.0, fairness=0.0)),
    )
    solution = run(problem)
    by_vol: dict[str, set[str]] = {}
    for a in solution.assignments:
        by_vol.setdefault(a.volunteer_id, set()).add(a.shift_id[:2])
    assert all(len(insts) == 1 for insts in by_vol.values())
    assert solution.metrics.status == "OPTIMAL"


def test_progress_messages_and_seed_determinism():
    messages: list[str] = []
    problem = make_problem()
    solve(problem, progress=messages.append, seed=3, threads=1)
    assert any(m.startswith("candidates") for m in messages)
    assert any(m.startswith("done") for m in messages)


def test_medium_generated_instance_is_valid_and_deterministic():
    from benchmarks.generate import generate

    problem = load_problem(generate(volunteers=600, shifts=180, seed=5))
    solution = solve(problem, time_limit=30, threads=2)
    assert solution.metrics.extra["candidate_pairs"] > 1000
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled <= solution.metrics.upper_bound
    assert solution.metrics.filled >= 0.97 * solution.metrics.upper_bound
    again = solve(problem, time_limit=30, threads=2)
    assert again.to_dict()["assignments"] == solution.to_dict()["assignments"]


def test_priority_phases_one_by_one_when_weights_would_overflow(monkeypatch):
    from matcher import _cpsat

    monkeypatch.setattr(_cpsat, "MAX_COMBINED_WEIGHT", 1)
    shifts = (
        make_shift("urgent", start=at(10), end=at(15), priority=5),
        make_shift("b", start=at(9), end=at(12), priority=1),
        make_shift("c", start=at(13), end=at(16), priority=3),
    )
    solution = run(make_problem(shifts=shifts))
    assert [a.shift_id for a in solution.assignments] == ["urgent"]
    assert solution.metrics.upper_bound == 2


def test_neighbourhood_search_on_a_large_component_is_valid_and_deterministic(monkeypatch):
    from benchmarks.generate import generate
    from matcher import solver

    # without the Lagrangian steps (they win these places first), the neighbourhood search
    # has places to refill
    monkeypatch.setattr(solver._State, "lagrangian_search", lambda *_a, **_k: (0, 0))
    problem = load_problem(generate(volunteers=2000, shifts=600, seed=5))
    messages: list[str] = []
    first = solve(problem, time_limit=120, threads=2, progress=messages.append)
    assert first.metrics.extra["candidate_pairs"] > 20000
    assert any(m.startswith("neighbourhood search") for m in messages)
    assert check_solution(problem, first) == []
    assert 0.99 * first.metrics.upper_bound <= first.metrics.filled <= first.metrics.upper_bound
    assert first.metrics.upper_bound <= first.metrics.extra["flow_bound"]
    second = solve(problem, time_limit=120, threads=2)
    assert second.to_dict()["assignments"] == first.to_dict()["assignments"]


def test_secondary_costs_of_a_fill_proven_component_by_cp_sat_alone(monkeypatch):
    import matcher.solver as solver_module

    # only the secondary-only phase may run CP-SAT here
    monkeypatch.setattr(solver_module, "CPSAT_MAX_PAIRS", 0)
    monkeypatch.setattr(solver_module, "CPSAT_SECONDARY_MAX_PAIRS", 0)
    far = make_institution("inst-1", lat=30.04, lon=31.24)
    near = make_institution("inst-2", lat=30.05, lon=31.23)
    shifts = (
        make_shift("a", start=at(9), end=at(12)),
        make_shift("b", institution_id="inst-2", start=at(11), end=at(14)),
        make_shift("c", start=at(13), end=at(16)),
    )
    # the relaxation takes b (nearest) and c, which clash: the repair breaks the roster, the
    # chains restore two places (a and c), and only CP-SAT proves the cost optimal
    problem = make_problem(
        institutions=(far, near), volunteers=(make_volunteer("v1"),), shifts=shifts
    )
    messages: list[str] = []
    solution = solve(problem, threads=1, progress=messages.append)
    assert any(m.startswith("repair:") for m in messages)
    assert any(m.startswith("cp-sat secondary costs: 1 components") for m in messages)
    assert {a.shift_id for a in solution.assignments} == {"a", "c"}
    assert solution.metrics.status == "OPTIMAL"
    assert check_solution(problem, solution) == []


def test_fill_searches_run_again_once_later_steps_moved_places(monkeypatch):
    """Seed 9 ends one place short of its bound after the closure search won a place and the
    secondary costs moved volunteers: the neighbourhood search runs again on the new roster,
    and stops after a pass that wins nothing (not SEARCH_PASSES times)."""
    import matcher.solver as solver_module
    from benchmarks.generate import generate
    from benchmarks.run import TRAVEL_ONLY_WEIGHTS

    doc = generate(volunteers=600, shifts=180, seed=9)
    doc.setdefault("settings", {})["weights"] = dict(TRAVEL_ONLY_WEIGHTS)
    problem = load_problem(doc)
    real = solver_module._State.neighbourhood_search
    calls: list[int] = []

    def counted(self, *args, **kwargs):
        calls.append(self.moves)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(solver_module._State, "neighbourhood_search", counted)
    messages: list[str] = []
    solution = solve(problem, time_limit=60, seed=0, threads=2, progress=messages.append)
    assert solver_module.SEARCH_PASSES > 1
    assert len(calls) == 2 and calls[1] > calls[0]
    assert any(m.startswith("fill searches again: 0 more places") for m in messages)
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled < solution.metrics.upper_bound

    # with nothing moved after the first search, it does not run again
    monkeypatch.setattr(solver_module._State, "closure_search", lambda *a, **k: 0)
    monkeypatch.setattr(
        solver_module.secondary_search,
        "improve_secondary",
        lambda *a, **k: solver_module.secondary_search.SearchResult(),
    )
    monkeypatch.setattr(solver_module, "CPSAT_SECONDARY_ONLY_MAX_VARS", 0)
    calls.clear()
    messages.clear()
    solution = solve(problem, time_limit=60, seed=0, threads=2, progress=messages.append)
    assert len(calls) == 1
    assert not any("again" in m for m in messages)
    assert check_solution(problem, solution) == []


def test_exchanges_and_chains_take_turns_while_both_find_something(monkeypatch):
    """A roster short of its bound for good (the priority order costs a place) gets rounds of
    exchanges and chains: EXCHANGE_ROUNDS while the exchanges improve and the chains then win
    places, one when either finds nothing, none when fill reaches the bound. (The fake
    exchange gives up a place the chains refill, so both find something every round.)"""
    import matcher.solver as solver_module

    problem = _priority_costs_a_place()
    seeds: list[int] = []
    improved = [1]
    give_up = [True]

    def fake(state, *args, **kwargs):
        seeds.append(kwargs["seed"])
        if give_up[0] and state.pair_pos:
            state._remove(min(state.pair_pos))
        return solver_module.secondary_search.SearchResult(regions=1, improved=improved[0])

    monkeypatch.setattr(solver_module.secondary_search, "improve_secondary", fake)

    def rounds_of(seed: int = 4) -> list[str]:
        messages: list[str] = []
        solution = solve(problem, time_limit=30, seed=seed, threads=1, progress=messages.append)
        assert check_solution(problem, solution) == []
        assert [a.shift_id for a in solution.assignments] == ["urgent"]
        return [m for m in messages if m.startswith("exchanges and chains:")]

    rounds = rounds_of()
    assert len(rounds) == solver_module.EXCHANGE_ROUNDS > 1
    assert all("1 more places" in m for m in rounds)
    assert seeds[-len(rounds) :] == [4 + r for r in range(1, len(rounds) + 1)]
    seeds.clear()
    rounds_of(2**31 - 2)
    assert seeds[-len(rounds) :][:2] == [2**31 - 1, 0]  # CP-SAT's seeds are 32-bit

    improved[0] = 0
    assert len(rounds_of()) == 1
    improved[0], give_up[0] = 1, False
    assert len(rounds_of()) == 1

    messages: list[str] = []
    solve(make_problem(), time_limit=30, seed=4, threads=1, progress=messages.append)
    assert not any(m.startswith("exchanges and chains:") for m in messages)


def test_exchange_rounds_keep_the_seed_within_cp_sat_range():
    """The rounds offset the seed; at the largest seed the format allows, CP-SAT still gets a
    32-bit one."""
    problem = _priority_costs_a_place()
    messages: list[str] = []
    solution = solve(problem, time_limit=30, seed=2**31 - 1, threads=1, progress=messages.append)
    assert any(m.startswith("exchanges and chains:") for m in messages)
    assert check_solution(problem, solution) == []


def test_whole_components_above_the_size_get_the_lagrangian_step_only_with_time_for_it(
    monkeypatch,
):
    import matcher.solver as solver_module
    from benchmarks.generate import generate
    from benchmarks.run import TRAVEL_ONLY_WEIGHTS

    doc = generate(volunteers=600, shifts=180, seed=9)
    doc.setdefault("settings", {})["weights"] = dict(TRAVEL_ONLY_WEIGHTS)
    problem = load_problem(doc)
    monkeypatch.setattr(solver_module, "LAGRANGIAN_COMPONENT_MAX_PAIRS", 10)
    seen: dict[float, list[str]] = {}
    for per_pair in (1.0, 1e-9):  # about 5 000 pairs: hours, or nothing, of estimated time
        monkeypatch.setattr(solver_module, "LAGRANGIAN_S_PER_PAIR", per_pair)
        seen[per_pair] = []
        solution = solve(problem, time_limit=60, seed=0, threads=2, progress=seen[per_pair].append)
        assert check_solution(problem, solution) == []
    assert not any("whole components" in m for m in seen[1.0])
    assert any("lagrangian bound on 1 whole components" in m for m in seen[1e-9])


def test_slack_region_step_has_until_the_late_deadline(monkeypatch):
    """The first Lagrangian step (slack region) stops by the late deadline (CP-SAT's share of
    the limit), not the neighbourhood searches' earlier one: on a slow or busy machine the
    flow phase can end after that share (100 000 x 30 000 with another process running: at
    42 s of 60), and this step wins the most places and bound."""
    import time

    import matcher.solver as solver_module
    from benchmarks.generate import generate

    problem = load_problem(generate(volunteers=600, shifts=180, seed=9))
    real = solver_module._State.lagrangian_search
    deadlines: list[float] = []

    def spied(self, *args, **kwargs):
        if kwargs.get("region") is None:
            deadlines.append(kwargs["deadline"])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(solver_module._State, "lagrangian_search", spied)
    messages: list[str] = []
    started = time.perf_counter()
    solution = solve(
        problem, time_limit=60, seed=0, threads=2, started_at=started, progress=messages.append
    )
    assert check_solution(problem, solution) == []
    # the first call is the slack region's step (before the neighbourhood search)
    assert any(m.startswith("lagrangian bound:") for m in messages), messages
    assert deadlines[0] - started == pytest.approx(60 * solver_module.CPSAT_WALL_SHARE, abs=1e-6)
    assert solver_module.LNS_WALL_SHARE < solver_module.CPSAT_WALL_SHARE


def test_repair_keeps_the_place_fewest_others_could_take():
    """One volunteer holds two clashing places of equal priority: `crowded` (next door, two
    neighbours may take it too) and `scarce` (farther away, nobody else reaches it). The
    repair keeps `scarce`, though `crowded` is cheaper, and a neighbour refills `crowded`."""

    near = make_institution("near", lat=30.04, lon=31.24)
    far = make_institution("far", lat=30.10, lon=31.23)
    shifts = (
        make_shift("crowded", institution_id="near", start=at(9), end=at(12)),
        make_shift("scarce", institution_id="far", start=at(11), end=at(14)),
    )
    vols = (
        make_volunteer("v", max_travel_km=50.0),
        make_volunteer("n1", lat=30.04, lon=31.24, max_travel_km=2.0),
        make_volunteer("n2", lat=30.04, lon=31.24, max_travel_km=2.0),
    )
    problem = make_problem(institutions=(near, far), volunteers=vols, shifts=shifts)
    prep, state, pair_of = empty_state(problem)
    open_of = prep.positions.open_of_shift
    for sid in ("crowded", "scarce"):
        p = pair_of["v", sid]
        state._add(p, int(open_of[prep.ps[p]]))
    assert prep.pcost[pair_of["v", "crowded"]] < prep.pcost[pair_of["v", "scarce"]]
    state.flow_fill = state.pos_fill.copy()
    assert state.repair(prep) == [int(prep.pv[pair_of["v", "scarce"]])]
    assert set(state.pair_pos) == {pair_of["v", "scarce"]}
    assert state.augment(prep) == 1
    assert set(state.pair_pos) == {pair_of["v", "scarce"], pair_of["n1", "crowded"]}


def _hours_heavy_states(seeds: range):
    """Per seed: prepared arrays, an empty roster and the candidate pairs by volunteer of a
    day where hour caps and clashes bind (`test_colgen._hours_heavy`)."""
    from tests.matcher.test_colgen import _hours_heavy

    for seed in seeds:
        prep, state, _ = empty_state(_hours_heavy(seed))
        by_vol: dict[int, list[int]] = {}
        for p, v in enumerate(prep.pv.tolist()):
            by_vol.setdefault(v, []).append(p)
        yield seed, prep, state, by_vol


def test_repair_subset_is_the_first_best_of_every_bitmask():
    """The repair's depth-first search over feasible subsets picks what trying every bitmask
    in order picks: the greatest value, the lowest mask among equals (the empty set first)."""
    checked = 0
    for seed, _prep, state, by_vol in _hours_heavy_states(range(40)):
        rng = random.Random(seed)
        for v, pairs in sorted(by_vol.items()):
            pairs = sorted(pairs)
            values = [(rng.randint(0, 1), rng.randint(-2, 0), rng.choice([0, -1])) for _ in pairs]
            best_val, best = (0, 0, 0), ()
            for mask in range(1, 1 << len(pairs)):
                subset = [p for i, p in enumerate(pairs) if mask >> i & 1]
                if state._feasible(v, subset):
                    val = tuple(
                        sum(col)
                        for col in zip(
                            *(values[i] for i in range(len(pairs)) if mask >> i & 1), strict=True
                        )
                    )
                    if val > best_val:
                        best_val, best = val, tuple(subset)
            assert state._best_subset(v, pairs, values) == best, (seed, v)
            checked += len(pairs) > 3 and best != ()
    assert checked > 50


def test_chain_moves_follow_the_rules():
    """`_moves` (take a place directly, or give up one of the pairs it lists) agrees with the
    rules checked on the whole new schedule, on random valid rosters."""
    cases = 0
    for seed, prep, state, by_vol in _hours_heavy_states(range(40)):
        rng = random.Random(seed)
        open_of = prep.positions.open_of_shift
        for v, pairs in sorted(by_vol.items()):
            for p in rng.sample(pairs, len(pairs)):
                if state._feasible(v, [*state.vol_pairs[v], p]):
                    state._add(p, int(open_of[prep.ps[p]]))
        for v, pairs in sorted(by_vol.items()):
            mine = sorted(state.vol_pairs[v])
            for p in pairs:
                if p in state.pair_pos:
                    continue
                direct = state._feasible(v, [*mine, p])
                drops = [d for d in mine if state._feasible(v, [q for q in mine if q != d] + [p])]
                got = state._moves(v, p)
                assert (got is None) == direct, (seed, v, p)
                if not direct:
                    assert got == drops, (seed, v, p)
                    cases += bool(drops)
    assert cases > 20


def test_chains_reach_the_places_the_flow_left_free():
    """`a` holds `early` (09:00-12:00), which clashes with `late` (11:00-14:00); `b` may
    only take `early`. The relaxed flow filled `early` alone, so the repair's chains look at
    nothing; the chains to every free place move `a` to `late` and give `early` to `b`."""
    problem = make_problem(
        volunteers=(make_volunteer("a"), make_volunteer("b", availability=(window(8, 12.5),))),
        shifts=(make_shift("early"), make_shift("late", start=at(11), end=at(14))),
    )
    prep, state, pair_of = empty_state(problem)
    open_of = prep.positions.open_of_shift
    early = pair_of["a", "early"]
    state._add(early, int(open_of[prep.ps[early]]))
    state.flow_fill = state.pos_fill.copy()
    assert state.augment(prep) == 0
    assert state.augment(prep, every_free=True) == 1
    assert set(state.pair_pos) == {pair_of["a", "late"], pair_of["b", "early"]}


RETRY_PROBLEM = Path(__file__).parent / "data" / "cpsat_retry.json"


def _at_or_above(by_priority: Mapping[int, int]) -> tuple[int, ...]:
    """Places at or above each priority 5..1, highest first (compares lexicographic fill)."""
    return tuple(sum(n for p, n in by_priority.items() if p >= lv) for lv in range(5, 0, -1))


def test_cp_sat_fill_phase_has_the_fill_share_of_its_budget(monkeypatch):
    """A 184-pair component with five priorities (found by an independent checker): with its
    first budget (0.29 deterministic s) split into six parts, one per level and one more,
    its one combined fill phase ended with 11 places of priority 2, where a roster with 12
    (the same places above) exists. Split over the two phases that run, it finds 12, without
    the retries (tested apart below)."""
    import matcher.solver as solver_module

    monkeypatch.setattr(solver_module, "CPSAT_RETRY_SHARE", 0.0)
    problem = load_problem(RETRY_PROBLEM)
    better = {5: 8, 4: 6, 3: 6, 2: 12, 1: 9}  # a valid roster the checker found
    solution = solve(problem, time_limit=30, seed=0, threads=1)
    assert check_solution(problem, solution) == []
    assert _at_or_above(solution.metrics.filled_by_priority) >= _at_or_above(better)


def test_cp_sat_retries_grow_fourfold_within_their_budget(monkeypatch):
    """Unproven components get CP-SAT again with 4x the last deterministic time while
    CPSAT_RETRY_SHARE of the limit lasts (the last round gets what is left, then it stops)."""
    import matcher.solver as solver_module

    problem = load_problem(RETRY_PROBLEM)
    real = solver_module._State.solve_component
    budgets: list[float] = []

    def never_proven(self, prep, comp, **kwargs):
        res = real(self, prep, comp, **kwargs)
        if not kwargs.get("hold_fill"):
            budgets.append(kwargs["dtime"])
        return dataclasses.replace(res, fill_proven=False)

    monkeypatch.setattr(solver_module._State, "solve_component", never_proven)
    solution = solve(problem, time_limit=30, seed=0, threads=1)
    assert check_solution(problem, solution) == []
    first, *retries = budgets
    budget = 30 * solver_module.CPSAT_RETRY_SHARE
    assert retries[0] == pytest.approx(4 * first)
    assert sum(retries) == pytest.approx(budget)
    assert retries[-1] < 4 * retries[-2]  # what was left


def test_a_huge_max_hours_solves_like_no_cap():
    """max_hours 3e9 (an independent checker's case) crashed `build_arrays` with an
    OverflowError; now it is no cap."""
    volunteers = (make_volunteer("v1", max_hours=3e9), make_volunteer("v2", max_hours=1e300))
    shifts = (
        make_shift("a", start=at(9), end=at(12), needed=2),
        make_shift("b", start=at(13), end=at(16), needed=2),
    )
    problem = make_problem(volunteers=volunteers, shifts=shifts)
    solution = solve(problem, threads=1)
    assert check_solution(problem, solution) == []
    assert solution.metrics.filled == 4
