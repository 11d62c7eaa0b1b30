"""Tests of the problems of other shapes and of their section in the benchmark doc."""

from __future__ import annotations

from datetime import datetime

import pytest

from benchmarks import run as runner
from benchmarks import shapes
from matcher.check import check_solution
from matcher.problem_io import load_problem
from matcher.solver import solve


@pytest.mark.parametrize("kind", sorted(shapes.SHAPES))
def test_each_shape_is_a_valid_problem_the_matcher_solves_within_the_rules(kind) -> None:
    doc = shapes.shape_problem(kind, seed=3, scale=0.02)
    _, n_vol, n_shift, _ = shapes.SHAPES[kind]
    assert len(doc["volunteers"]) == round(n_vol * 0.02)
    assert len(doc["shifts"]) == round(n_shift * 0.02)
    problem = load_problem(doc)
    solution = solve(problem, time_limit=2, seed=0, threads=1)
    assert check_solution(problem, solution) == []
    assert 0 < solution.metrics.filled <= solution.metrics.upper_bound
    assert shapes.shape_problem(kind, seed=3, scale=0.02) == doc  # the same for the same seed


def test_shapes_have_what_they_say() -> None:
    short = shapes.shape_problem("short", scale=0.05)
    long_ = shapes.shape_problem("long", scale=0.05)
    windows = shapes.shape_problem("windows", scale=0.05)

    def minutes(shift: dict) -> float:
        start, end = (datetime.fromisoformat(shift[k]) for k in ("start", "end"))
        return (end - start).total_seconds() / 60

    assert {minutes(s) for s in short["shifts"]} <= {15, 20, 30, 45}
    week_end = datetime.fromisoformat(short["horizon"]["end"])
    full = shapes.shape_problem("short")
    assert max(datetime.fromisoformat(s["end"]) for s in full["shifts"]) <= week_end
    assert min(minutes(s) for s in long_["shifts"]) >= 24 * 60
    assert max(len(v["availability"]) for v in windows["volunteers"]) > 20


def test_runner_writes_the_shapes_section(monkeypatch, run_benchmarks) -> None:
    small = {
        kind: (inst, vol // 50, shift // 50, what)
        for kind, (inst, vol, shift, what) in shapes.SHAPES.items()
    }
    monkeypatch.setattr(runner, "SHAPES", small)
    monkeypatch.setattr(shapes, "SHAPES", small)
    monkeypatch.setattr(runner, "SHAPES_TIME_LIMIT", 2.0)
    text = run_benchmarks("--sizes", "100x30", "--methods", "greedy", "--shapes", "dense,hours")
    assert "## Other shapes, `--time-limit 2`" in text
    rows = [line for line in text.splitlines() if line.startswith(("| dense |", "| hours |"))]
    assert len(rows) == 2
    assert all(row.split("|")[-3].strip() == "0" for row in rows)  # no violations
    assert "| 100 x 30 | greedy |" in text  # the sizes' table keeps its own rows


def test_runner_refuses_an_unknown_shape_before_running_anything(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--sizes", "100x30", "--shapes", "dense,tiny", "--workdir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "unknown shapes tiny" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_no_shapes_section_without_shape_runs() -> None:
    assert runner.shape_lines([]) == []
    failed = runner.Run("ours", (10, 5), note="did not finish in 600 s", shape="long")
    (row,) = [line for line in runner.shape_lines([failed]) if line.startswith("| long |")]
    assert "did not finish in 600 s" in row
