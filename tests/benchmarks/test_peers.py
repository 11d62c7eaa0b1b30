"""Tests of the peer methods (greedy sign-up, naive CP-SAT) and the benchmark runner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import run as runner
from benchmarks.generate import generate
from benchmarks.peers.common import CandidateIndex, fill_score, priority_weights
from benchmarks.peers.greedy import greedy
from benchmarks.peers.naive_cpsat import naive_cpsat
from matcher import eligibility
from matcher.check import check_solution
from matcher.problem_io import load_problem, load_solution

T = "2026-12-05T{}:00+02:00"


def vol(vid: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": vid,
        "skills": [],
        "gender": "female",
        "age": 30,
        "lat": 30.0,
        "lon": 31.0,
        "max_travel_km": 20,
        "availability": [{"start": T.format("08:00"), "end": T.format("22:00")}],
    }
    base.update(extra)
    return base


def shift(sid: str, inst: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": sid,
        "institution_id": inst,
        "start": T.format(start),
        "end": T.format(end),
        "needed": 1,
    }
    base.update(extra)
    return base


def problem_of(volunteers: list, shifts: list, **extra: Any) -> dict[str, Any]:
    data = {
        "format": "volunteer-matching/v1",
        "horizon": {"start": T.format("00:00"), "end": "2026-12-06T00:00:00+02:00"},
        "institutions": [
            {"id": "near", "lat": 30.01, "lon": 31.0},
            {"id": "far", "lat": 30.1, "lon": 31.0},
        ],
        "volunteers": volunteers,
        "shifts": shifts,
        "settings": {"min_rest_minutes": 30},
    }
    data.update(extra)
    return data


def valid(problem, solution_dict: dict) -> list[str]:
    return check_solution(problem, load_solution(solution_dict))


def test_candidate_prefilter_keeps_every_eligible_pair() -> None:
    problem = load_problem(generate(150, 45, seed=11))
    index = CandidateIndex(problem)
    found = 0
    for v, volunteer in enumerate(problem.volunteers):
        cand = set(index.candidates(v)[0].tolist())
        for s, sh in enumerate(problem.shifts):
            if eligibility.is_eligible(volunteer, sh, problem.institution_of(sh)):
                found += 1
                assert s in cand, (volunteer.id, sh.id)
    assert found > 100


def test_greedy_output_is_valid_and_deterministic() -> None:
    problem = load_problem(generate(400, 120, seed=2))
    first = greedy(problem, seed=3)
    assert valid(problem, first) == []
    assert first["metrics"]["filled"] > 0.5 * problem.demand
    assert greedy(problem, seed=3)["assignments"] == first["assignments"]


def test_greedy_takes_preferred_shift_then_stops_at_its_cap() -> None:
    data = problem_of(
        [vol("a", max_shifts=1, preferences={"far": 3})],
        [shift("s-near", "near", "09:00", "12:00"), shift("s-far", "far", "13:00", "17:00")],
    )
    problem = load_problem(data)
    solution = greedy(problem)
    assert [(a["shift_id"], a["position"]) for a in solution["assignments"]] == [("s-far", None)]
    assert valid(problem, solution) == []


def test_greedy_fills_skill_place_with_holder_and_keeps_rest_gap() -> None:
    data = problem_of(
        [vol("a", skills=["music"]), vol("b")],
        [
            shift("s1", "near", "09:00", "12:00", needed=2, required_skills={"music": 1}),
            shift("s2", "near", "12:15", "14:00"),
        ],
    )  # 15 min after s1: too short a rest
    problem = load_problem(data)
    solution = greedy(problem, seed=0)
    assert valid(problem, solution) == []
    got = {(a["volunteer_id"], a["shift_id"]): a["position"] for a in solution["assignments"]}
    assert got[("a", "s1")] == "music"
    assert ("b", "s1") in got
    assert len(got) == 2  # nobody can take s2 after s1 and both are on s1 (nearest, earliest)


def test_greedy_keeps_locked_pairs_within_caps() -> None:
    data = problem_of(
        [vol("a", max_shifts=1)],
        [shift("s1", "near", "09:00", "12:00"), shift("s2", "near", "13:00", "17:00")],
        locked=[{"volunteer_id": "a", "shift_id": "s2"}],
    )
    problem = load_problem(data)
    solution = greedy(problem)
    assert [a["shift_id"] for a in solution["assignments"]] == ["s2"]
    assert valid(problem, solution) == []


def test_naive_cpsat_beats_first_come_where_order_matters() -> None:
    # "a" can do either shift but only one; "b" only s1 (s2 is beyond b's radius). First-come
    # with a first puts a on the nearer s1 and leaves s2 empty; the model fills both.
    data = problem_of(
        [vol("a", max_shifts=1), vol("b", max_travel_km=5)],
        [shift("s1", "near", "09:00", "12:00"), shift("s2", "far", "13:00", "17:00")],
    )
    problem = load_problem(data)
    solution, stats = naive_cpsat(problem, time_limit=10, seed=0, threads=1)
    assert valid(problem, solution) == []
    pairs = {(a["volunteer_id"], a["shift_id"]) for a in solution["assignments"]}
    assert pairs == {("a", "s2"), ("b", "s1")}
    assert stats["fill_status"] == "OPTIMAL"
    assert tuple(stats["trace"][-1][1:]) == (fill_score(problem, ["s1", "s2"]), 2)


def test_naive_cpsat_is_valid_and_fills_at_least_as_much_as_greedy() -> None:
    problem = load_problem(generate(120, 36, seed=4))
    solution, stats = naive_cpsat(problem, time_limit=20, seed=0, threads=2)
    assert valid(problem, solution) == []
    assert stats["fill_status"] == "OPTIMAL"
    mine = fill_score(problem, [a["shift_id"] for a in solution["assignments"]])
    theirs = fill_score(problem, [a["shift_id"] for a in greedy(problem)["assignments"]])
    assert mine >= theirs
    assert mine == stats["fill_score"]


def test_priority_weights_make_one_higher_place_outweigh_all_lower() -> None:
    data = problem_of(
        [vol("a")],
        [
            shift("s1", "near", "09:00", "12:00", needed=3),
            shift("s2", "near", "13:00", "17:00", priority=2),
        ],
    )
    weights = priority_weights(load_problem(data))
    assert weights[2] > 3 * weights[1]


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("small", runner.SMALL), ("all", runner.SIZES), ("20x5,40x10", ((20, 5), (40, 10)))],
)
def test_runner_sizes(text: str, sizes: tuple) -> None:
    assert runner.parse_sizes(text) == sizes


def test_runner_time_limits_per_size() -> None:
    assert runner.parse_limits([runner.DEFAULT_LIMITS]) == {
        (10000, 3000): 60.0,
        (100000, 30000): 60.0,
    }
    assert runner.parse_limits(["1000x300=5,3000x900=7.5", "10x3=1"]) == {
        (1000, 300): 5.0,
        (3000, 900): 7.5,
        (10, 3): 1.0,
    }


def test_runner_measures_ours_with_its_limit_for_the_size(tmp_path, run_benchmarks) -> None:
    text = run_benchmarks(
        "--sizes", "150x40", "--methods", "ours,ours-travel", "--time-limit-for", "150x40=7"
    )
    assert "150 x 40: `--time-limit 7`" in text
    rows = [line for line in text.splitlines() if line.startswith("| 150 x 40 | ours")]
    assert len(rows) == 2 and all(row.split("|")[-3].strip() == "0" for row in rows)
    travel = json.loads((tmp_path / "problem-150x40-s1-travel.json").read_text())
    assert travel["settings"]["weights"] == runner.TRAVEL_ONLY_WEIGHTS


def test_runner_measures_peers_in_subprocesses_and_writes_the_doc(run_benchmarks) -> None:
    text = run_benchmarks("--sizes", "200x60", "--methods", "greedy,naive", "--naive-limit", "2")
    rows = [line for line in text.splitlines() if line.startswith("| 200 x 60 |")]
    assert len(rows) == 2
    assert all(row.split("|")[-3].strip() == "0" for row in rows)  # no violations
    assert "Run still in progress" not in text


def test_speedup_compares_places_score_and_both_against_ours_wall_time() -> None:
    ours = runner.Run("ours", (3, 1), ok=True, wall_s=2.0, figures={"filled": 10, "score": 100})
    naive = runner.Run(
        "naive",
        (3, 1),
        ok=True,
        wall_s=41.0,
        figures={"filled": 10, "score": 120},
        stats={
            "laps": {"written": 40.0},
            "build_seconds": 5.0,
            "fill_status": "FEASIBLE",
            "trace": [[9.0, 90, 11], [19.0, 110, 9], [29.0, 120, 10]],
        },
    )
    speed = runner.speedup(ours, naive)
    assert speed["reached_places_s"] == 10.0  # 1 s of interpreter start added
    assert speed["reached_score_s"] == 20.0
    assert speed["reached_both_s"] == 30.0
    assert speed["speedup_both"] == 15.0
    naive.stats["trace"] = [[9.0, 90, 9]]
    speed = runner.speedup(ours, naive)
    assert speed["reached_both_s"] is None
    assert speed["speedup_both_at_least"] == 20.5
    assert any("never" in line for line in runner.speedup_lines(speed))


def test_speedup_when_naive_found_nothing_is_a_lower_bound() -> None:
    ours = runner.Run("ours", (3, 1), ok=True, wall_s=2.0, figures={"filled": 10, "score": 100})
    naive = runner.Run("naive", (3, 1), ok=False, wall_s=300.0, note="no solution within 300 s")
    speed = runner.speedup(ours, naive)
    assert speed["speedup_at_least"] == 150.0
    assert any("at least **150.0x**" in line for line in runner.speedup_lines(speed))


def test_runner_skips_the_naive_peer_above_its_size(tmp_path) -> None:
    doc = tmp_path / "benchmarks.md"
    args = ["--sizes", "120x40", "--methods", "naive,ours-travel", "--naive-max-volunteers"]
    code = runner.main([*args, "100", "--workdir", str(tmp_path), "--doc", str(doc)])
    assert code == 0
    rows = [line for line in doc.read_text().splitlines() if line.startswith("| 120 x 40 |")]
    assert len(rows) == 1 and "not attempted above 100 volunteers" in rows[0]
