"""The min-cost flow's hour-cap and clash penalties on big networks: they steer, never bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import candidates as cand
from matcher import solver as sv
from matcher.check import check_solution
from tests.matcher.conftest import at, make_institution, make_problem, make_shift, make_volunteer
from tests.matcher.random_problems import random_problem
from tests.matcher.test_solver_properties import _solver_vector, brute_force

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _flow(problem, monkeypatch, *, big: bool):
    monkeypatch.setattr(sv, "MCF_PRUNE_ABOVE", -1 if big else 10**9)
    arr = cand.build_arrays(problem)
    prep = sv._prepare(problem, arr, cand.generate(arr))
    flow, _ = sv._solve_flow(prep)
    return prep, flow


def _capped_volunteer_problem():
    """One volunteer with an 8-hour cap; two 8-hour shifts next door, two 4-hour shifts far
    away. Two shifts fit the cap (capacity 2), but only the two short ones fit it together."""
    near = make_institution("near", lat=30.05, lon=31.23)
    far = make_institution("far", lat=30.15, lon=31.33)
    shifts = (
        make_shift("long-1", institution_id="near", start=at(8, 0), end=at(16, 0)),
        make_shift("long-2", institution_id="near", start=at(8, 1), end=at(16, 1)),
        make_shift("short-1", institution_id="far", start=at(9, 2), end=at(13, 2)),
        make_shift("short-2", institution_id="far", start=at(9, 3), end=at(13, 3)),
    )
    vol = make_volunteer("v", max_hours=8.0, max_travel_km=50.0)
    return make_problem(institutions=(near, far), volunteers=(vol,), shifts=shifts)


def _chosen(problem, monkeypatch) -> dict[bool, tuple[list[str], list[str]]]:
    """Without (False) and with (True) the penalties: the shifts of the flow's two places,
    and the shifts of the pairs whose arc pays a penalty."""
    out = {}
    for big in (False, True):
        prep, flow = _flow(problem, monkeypatch, big=big)
        assert flow.total == 2
        net = sv._build_network(prep, fairness=False)
        out[big] = (
            sorted(problem.shifts[int(prep.ps[prep.a_pair[a]])].id for a in flow.chosen_arcs),
            [problem.shifts[int(prep.ps[p])].id for p in net.penalised.tolist()],
        )
    return out


def test_penalty_steers_the_flow_to_a_roster_that_keeps_the_hour_cap(monkeypatch):
    problem = _capped_volunteer_problem()
    chosen = {big: shifts for big, (shifts, _penalised) in _chosen(problem, monkeypatch).items()}
    # exact costs take the two near (long) shifts: 16 hours, which the repair must break
    assert chosen[False] == ["long-1", "long-2"]
    # with the penalty (4 hours over the 4-hour share, each) the short ones: 8 hours
    assert chosen[True] == ["short-1", "short-2"]


def test_penalised_pairs_are_those_longer_than_the_share(monkeypatch):
    problem = _capped_volunteer_problem()
    for big in (True, False):
        prep, flow = _flow(problem, monkeypatch, big=big)
        net = sv._build_network(prep, fairness=False)
        long_pairs = np.flatnonzero(prep.pdur > 4 * sv.HOUR_US).tolist() if big else []
        assert net.penalised.tolist() == long_pairs
        # the flow's costs are exact (they prove the secondary optimum) only without it
        assert flow.exact_costs is not big


def _overhanging_problem():
    """One volunteer at home next door to `near`, 5 km from `far`, all on one day: A (far,
    08-10) and B (near, 09-16) form the first clique group, C (far, 11-13) the second. The
    relaxation takes one shift per group, and B reaches over C's start."""
    near = make_institution("near", lat=30.05, lon=31.23)
    far = make_institution("far", lat=30.095, lon=31.23)
    shifts = (
        make_shift("A", institution_id="far", start=at(8), end=at(10)),
        make_shift("B", institution_id="near", start=at(9), end=at(16)),
        make_shift("C", institution_id="far", start=at(11), end=at(13)),
    )
    vol = make_volunteer("v", max_travel_km=50.0)
    return make_problem(institutions=(near, far), volunteers=(vol,), shifts=shifts)


def test_clash_penalty_steers_the_flow_off_a_pair_reaching_into_a_later_group(monkeypatch):
    problem = _overhanging_problem()
    found = _chosen(problem, monkeypatch)
    chosen = {big: shifts for big, (shifts, _penalised) in found.items()}
    assert found[False][1] == [] and found[True][1] == ["B"]
    # exact costs take B (next door) and C, which clash: the repair would drop one
    assert chosen[False] == ["B", "C"]
    # B pays CLASH_PENALTY (15 km-equivalents): A and C (10 km) keep the rules
    assert chosen[True] == ["A", "C"]
    solution = sv.solve(problem, time_limit=10, seed=0, threads=1)
    assert sorted(a.shift_id for a in solution.assignments) == ["A", "C"]


@FAST
@given(seed=st.integers(0, 10**6), locked=st.integers(0, 2))
def test_penalty_keeps_the_bound_and_the_optimal_fill(seed, locked):
    problem = random_problem(seed, volunteers=4, shifts=3, institutions=2, days=1, locked=locked)
    with pytest.MonkeyPatch.context() as mp:
        _prep, exact = _flow(problem, mp, big=False)
        _prep, steered = _flow(problem, mp, big=True)
        assert steered.total == exact.total
        assert steered.rank == exact.rank
        sol = sv.solve(problem, time_limit=10, seed=0, threads=1)
    assert check_solution(problem, sol) == []
    best_vec, _best_total = brute_force(problem)
    assert _solver_vector(problem, sol) == best_vec
