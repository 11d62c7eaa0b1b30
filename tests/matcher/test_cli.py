"""`python -m matcher solve|validate`: output, progress and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from matcher.check import check_solution
from matcher.cli import main
from matcher.model import Credential, Pair, Problem, Settings
from matcher.problem_io import dump_problem, load_problem, load_solution, solution_to_dict
from tests.matcher.conftest import (
    at,
    make_problem,
    make_shift,
    make_solution,
    make_volunteer,
    raw_problem,
)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path("/work/venv/bin/python")


def run_matcher(*args: str) -> subprocess.CompletedProcess[str]:
    executable = str(PYTHON) if PYTHON.exists() else sys.executable
    return subprocess.run(
        [executable, "-m", "matcher", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    return write(tmp_path / "problem.json", raw_problem())


@pytest.fixture
def fake_solver(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace matcher.solver with a fake that assigns the locked pair and records its call."""
    calls: list[dict[str, Any]] = []

    def solve(problem, *, time_limit=None, seed=None, threads=None, progress=None, started_at=None):
        assert started_at is not None and started_at <= time.perf_counter()
        calls.append({"time_limit": time_limit, "seed": seed, "threads": threads})
        if progress is not None:
            progress("fake: solving")
        return make_solution(problem, [("vol-1", "shift-1", "tutoring")], upper_bound=1)

    module = types.ModuleType("matcher.solver")
    module.solve = solve  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "matcher.solver", module)
    return calls


def run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- solve (fake solver, in process)


def test_solve_writes_the_solution_to_stdout_and_progress_to_stderr(
    problem_file: Path, fake_solver: list[dict[str, Any]]
) -> None:
    code, out, err = run_main("solve", str(problem_file))
    assert code == 0
    solution = load_solution(out)
    assert solution.assignments[0].position == "tutoring"
    assert solution_to_dict(solution) == json.loads(out)
    assert "problem: 1 volunteers, 1 shifts, 3 places" in err
    assert "fake: solving" in err
    assert "filled 1 of 3 places (upper bound 1), status FILL_OPTIMAL" in err
    assert fake_solver == [{"time_limit": None, "seed": None, "threads": None}]


def test_solve_passes_the_overrides(problem_file: Path, fake_solver: list[dict[str, Any]]) -> None:
    code, _, _ = run_main(
        "solve", str(problem_file), "--time-limit", "2.5", "--seed", "7", "--threads", "2"
    )
    assert code == 0
    assert fake_solver == [{"time_limit": 2.5, "seed": 7, "threads": 2}]


def test_solve_writes_to_the_output_file(
    problem_file: Path, fake_solver: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "solution.json"
    code, out, _ = run_main("solve", str(problem_file), "-o", str(target))
    assert code == 0
    assert out == ""
    assert load_solution(target).metrics.filled == 1


def test_solve_cannot_write_the_output_file(
    problem_file: Path, fake_solver: list[dict[str, Any]], tmp_path: Path
) -> None:
    code, _, err = run_main("solve", str(problem_file), "-o", str(tmp_path))
    assert code == 2
    assert err.splitlines()[-1].startswith(f"error: cannot write {tmp_path}")


def test_solved_output_validates(
    problem_file: Path, fake_solver: list[dict[str, Any]], tmp_path: Path
) -> None:
    target = tmp_path / "solution.json"
    assert run_main("solve", str(problem_file), "-o", str(target))[0] == 0
    assert run_main("validate", str(problem_file), str(target)) == (0, "valid\n", "")


# ---------------------------------------------------------------- exit codes (subprocess)


def test_invalid_problem_exits_2_naming_the_pointer(tmp_path: Path) -> None:
    doc = raw_problem()
    doc["volunteers"][0]["availability"][0]["end"] = "2026-12-05T16:00:00"
    result = run_matcher("solve", str(write(tmp_path / "p.json", doc)))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: /volunteers/0/availability/0/end: naive datetime\n"


def test_invalid_json_exits_2(tmp_path: Path) -> None:
    result = run_matcher("solve", str(write(tmp_path / "p.json", '{"format": "volunteer-')))
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid JSON")


def test_unreadable_problem_exits_2(tmp_path: Path) -> None:
    result = run_matcher("solve", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read")


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("solve",),
        ("frobnicate", "p.json"),
        ("solve", "p.json", "--time-limit", "0"),
        ("solve", "p.json", "--seed", "-1"),
        ("solve", "p.json", "--threads", "zero"),
        ("validate", "p.json"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as info:
        main(list(args), stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.code == 2


def test_validate_a_valid_solution_exits_0(problem_file: Path, tmp_path: Path) -> None:
    problem = load_problem(problem_file)
    solution = make_solution(problem, [("vol-1", "shift-1", "tutoring")])
    solution_file = write(tmp_path / "s.json", solution_to_dict(solution))
    result = run_matcher("validate", str(problem_file), str(solution_file))
    assert (result.returncode, result.stdout, result.stderr) == (0, "valid\n", "")


def test_validate_prints_every_broken_rule_and_exits_1(tmp_path: Path) -> None:
    doc = raw_problem()
    doc["shifts"][0]["gender"] = "male"
    doc["shifts"][0]["min_age"] = 30
    problem_file = write(tmp_path / "p.json", doc)
    solution = make_solution(load_problem(doc), [("vol-1", "shift-1", "music")])
    solution_file = write(tmp_path / "s.json", solution_to_dict(solution))
    result = run_matcher("validate", str(problem_file), str(solution_file))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("assignment 0 (vol-1 on shift-1): position 'music'")
    assert lines[1:] == [
        "rule 3 (gender): vol-1 on shift-1 does not match the shift's gender",
        "rule 3 (minimum age): vol-1 on shift-1 is under the minimum age (or of unknown age)",
    ]


def test_validate_reports_broken_rules_of_assignments(tmp_path: Path) -> None:
    doc = raw_problem()
    doc["shifts"][0]["gender"] = "male"
    doc["locked"] = []
    problem_file = write(tmp_path / "p.json", doc)
    solution = make_solution(load_problem(doc), [("vol-1", "shift-1", None)])
    solution_file = write(tmp_path / "s.json", solution_to_dict(solution))
    code, out, _ = run_main("validate", str(problem_file), str(solution_file))
    assert code == 1
    assert out.splitlines() == [
        "rule 3 (gender): vol-1 on shift-1 does not match the shift's gender"
    ]


def test_validate_prints_warnings_on_stderr(problem_file: Path, tmp_path: Path) -> None:
    solution = make_solution(
        load_problem(problem_file), [("vol-1", "shift-1", "tutoring")], warnings=["heads up"]
    )
    solution_file = write(tmp_path / "s.json", solution_to_dict(solution))
    assert run_main("validate", str(problem_file), str(solution_file)) == (
        0,
        "valid\n",
        "warning: heads up\n",
    )


def test_validate_with_an_invalid_solution_file_exits_2(problem_file: Path, tmp_path: Path) -> None:
    solution_file = write(tmp_path / "s.json", {"format": "volunteer-matching/v1"})
    result = run_matcher("validate", str(problem_file), str(solution_file))
    assert result.returncode == 2
    assert result.stderr == "error: solution: /assignments: missing required field\n"


def test_validate_with_an_invalid_problem_exits_2(tmp_path: Path) -> None:
    doc = raw_problem()
    doc["shifts"][0]["needed"] = 0
    problem_file = write(tmp_path / "p.json", doc)
    code, _, err = run_main("validate", str(problem_file), str(problem_file))
    assert code == 2
    assert err == "error: /shifts/0/needed: must be at least 1, got 0\n"


def test_importing_matcher_stays_light() -> None:
    code = (
        "import sys, matcher, matcher.cli, matcher.check, matcher.eligibility;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('ortools', 'numpy', 'flask', 'sqlalchemy') or m == 'matcher.solver'];"
        "print(heavy)"
    )
    executable = str(PYTHON) if PYTHON.exists() else sys.executable
    result = subprocess.run(
        [executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- end to end (real solver)


def _busy_problem() -> Problem:
    """Several volunteers and shifts with skills, rest, caps, a locked and a previous pair."""
    volunteers = (
        make_volunteer("amal", skills={"tutoring"}, max_shifts=2),
        make_volunteer("basma", gender="female", max_hours=4),
        make_volunteer("karim", gender="male", skills={"music"}, languages={"ar"}),
        make_volunteer("dina", age=None, credentials=(Credential("first_aid"),)),
        make_volunteer("far", lat=31.2, lon=29.9),
    )
    shifts = (
        make_shift("morning", needed=2, required_skills={"tutoring": 1}),
        make_shift("noon", start=at(12.5), end=at(15), needed=2, min_age=18),
        make_shift("girls", start=at(9, 1), end=at(12, 1), gender="female"),
        make_shift("aid", start=at(16), end=at(18), required_credentials={"first_aid"}),
        make_shift("choir", start=at(9, 2), end=at(11, 2), needed=2, required_skills={"music": 1}),
        make_shift("french", start=at(9, 3), end=at(11, 3), languages={"fr"}),
    )
    return make_problem(
        volunteers=volunteers,
        shifts=shifts,
        locked=(Pair("amal", "morning"),),
        previous=(Pair("karim", "choir"),),
        settings=Settings(min_rest_minutes=30),
    )


def test_solve_end_to_end_writes_a_valid_solution(tmp_path: Path) -> None:
    problem_file = write(tmp_path / "p.json", dump_problem(_busy_problem()))
    result = run_matcher("solve", str(problem_file), "--time-limit", "10", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "problem: 5 volunteers, 6 shifts, 9 places"
    solution = load_solution(result.stdout)
    assert check_solution(_busy_problem(), solution) == []
    assert ("amal", "morning") in {(a.volunteer_id, a.shift_id) for a in solution.assignments}
    assert (solution.metrics.filled, solution.metrics.upper_bound) == (8, 8)
    (french,) = solution.unfilled
    assert (french.shift_id, french.missing, french.reasons.get("languages")) == ("french", 1, 5)
    solution_file = write(tmp_path / "s.json", result.stdout)
    validated = run_matcher("validate", str(problem_file), str(solution_file))
    assert (validated.returncode, validated.stdout) == (0, "valid\n")


def test_solve_end_to_end_is_deterministic_and_honours_the_output_file(tmp_path: Path) -> None:
    problem_file = write(tmp_path / "p.json", dump_problem(_busy_problem()))
    outputs = []
    for run in range(2):
        target = tmp_path / f"s{run}.json"
        args = ("solve", str(problem_file), "-o", str(target), "--seed", "3", "--threads", "1")
        result = run_matcher(*args)
        assert (result.returncode, result.stdout) == (0, "")
        outputs.append(load_solution(target))
    assert outputs[0].assignments == outputs[1].assignments
    assert outputs[0].metrics.filled == outputs[0].metrics.upper_bound


def test_solve_end_to_end_of_the_format_example(problem_file: Path) -> None:
    result = run_matcher("solve", str(problem_file))
    assert result.returncode == 0, result.stderr
    solution = load_solution(result.stdout)
    assert [(a.volunteer_id, a.shift_id) for a in solution.assignments] == [("vol-1", "shift-1")]
    assert solution.metrics.demand == 3
    assert check_solution(load_problem(problem_file), solution) == []


def test_solve_end_to_end_of_an_empty_problem(tmp_path: Path) -> None:
    problem_file = write(tmp_path / "p.json", dump_problem(make_problem(volunteers=(), shifts=())))
    result = run_matcher("solve", str(problem_file))
    assert result.returncode == 0, result.stderr
    solution = load_solution(result.stdout)
    assert (solution.assignments, solution.metrics.status) == ((), "EMPTY")
