"""Tests of the benchmark instance generator: determinism, validity and realism."""

from __future__ import annotations

import json
from datetime import timedelta

from benchmarks import generate as gen
from matcher.problem_io import load_problem

BLOCK_HOURS = {(9, 12), (13, 17), (18, 21)}


def test_same_seed_same_problem_and_other_seed_differs() -> None:
    a = json.dumps(gen.generate(300, 90, seed=7))
    b = json.dumps(gen.generate(300, 90, seed=7))
    c = json.dumps(gen.generate(300, 90, seed=8))
    assert a == b
    assert a != c


def test_output_loads_as_a_valid_problem_with_the_asked_sizes() -> None:
    data = gen.generate(400, 120, seed=3)
    problem = load_problem(data)
    assert len(problem.volunteers) == 400
    assert len(problem.shifts) == 120
    assert len(problem.institutions) == 12  # about one institution per ten shifts
    assert problem.settings.min_rest_minutes == gen.MIN_REST_MINUTES
    assert problem.horizon.end - problem.horizon.start == timedelta(days=7)
    offset = timedelta(hours=2)
    for shift in problem.shifts:
        assert shift.start.utcoffset() == offset
        assert problem.horizon.start <= shift.start < shift.end <= problem.horizon.end
        assert 1 <= shift.needed <= 5
        assert shift.min_age in (16, 18, 21)
    for vol in problem.volunteers:
        assert vol.availability
        for window in vol.availability:
            assert problem.horizon.start <= window.start < window.end <= problem.horizon.end
        assert vol.age is None or 16 <= vol.age <= 68
        assert vol.max_travel_km in (5, 10, 15, 20, 30, 50)
        assert 1 <= vol.max_shifts <= 5
        assert 4 <= vol.max_hours <= 20
        assert len(vol.preferences) <= 3
        assert "ar" in vol.languages


def test_shifts_mix_blocks_with_other_lengths_and_rules() -> None:
    problem = load_problem(gen.generate(2000, 1500, seed=5))
    spans = [(s.start.hour, s.end.hour, s.duration_hours) for s in problem.shifts]
    blocks = sum(1 for a, b, _ in spans if (a, b) in BLOCK_HOURS)
    assert 0.6 * len(spans) < blocks < 0.9 * len(spans)
    assert {d for _, _, d in spans} >= {2.0, 3.0, 4.0, 6.0}
    kinds = {i.id: i.kind for i in problem.institutions}
    assert set(kinds.values()) <= set(gen.KINDS)
    girls = [s for s in problem.shifts if kinds[s.institution_id] == "orphanage_girls"]
    assert any(s.gender == "female" for s in girls)
    assert all(s.gender != "male" for s in girls)
    assert any(s.required_skills for s in problem.shifts)
    assert all(set(s.required_skills) <= set(gen.SKILLS) for s in problem.shifts)
    assert any(s.required_credentials for s in problem.shifts)
    assert any(s.languages for s in problem.shifts)
    assert any(s.priority > 1 for s in problem.shifts)
    assert any(v.credentials for v in problem.volunteers)


def test_small_instances_cover_cairo_and_large_ones_all_egypt() -> None:
    names = [g[0] for g in gen.GOVERNORATES]
    small = gen.covered_population(30)
    assert [names[i] for i in range(len(names)) if small[i] > 0] == ["Cairo"]
    assert (gen.covered_population(gen.FULL_INSTITUTIONS) > 0).all()
    problem = load_problem(gen.generate(500, 300, seed=2))
    for inst in problem.institutions:  # all near Cairo (30.04 N, 31.24 E)
        assert abs(inst.lat - 30.04) < 0.6 and abs(inst.lon - 31.24) < 0.6


def test_cli_writes_the_same_json_as_the_function(tmp_path) -> None:
    out = tmp_path / "p.json"
    assert gen.main(["--volunteers", "50", "--shifts", "20", "--seed", "4", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(gen.generate(50, 20, 4)))
