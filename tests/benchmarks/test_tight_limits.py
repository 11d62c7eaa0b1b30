"""The runner's section on ours with short time limits."""

from __future__ import annotations

import pytest

from benchmarks import run as runner


def test_runner_writes_the_short_limits_section(tmp_path, run_benchmarks) -> None:
    text = run_benchmarks("--sizes", "100x30", "--methods", "greedy", "--tight-limits", "100x30=1")
    assert "## Short time limits" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| 100 x 30 | 1 |")]
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    wall, past = float(cells[2]), float(cells[3])
    assert past == pytest.approx(max(0.0, wall - 1.0), abs=0.051)
    assert cells[-2] == "0"  # no violations
    assert (tmp_path / "ours-100x30-tight.json").exists()
    # the sizes' table keeps only the methods asked for: no row of ours there
    assert "| 100 x 30 | ours |" not in text
    assert "| 100 x 30 | greedy |" in text


def test_no_short_limits_section_unless_asked(run_benchmarks) -> None:
    text = run_benchmarks("--sizes", "100x30", "--methods", "greedy")
    assert "## Short time limits" not in text
    assert runner.tight_lines([]) == []


def test_a_failed_short_limit_run_shows_why() -> None:
    failed = runner.Run("ours", (10, 5), note="did not finish in 600 s", tight_limit=2.0)
    (row,) = [line for line in runner.tight_lines([failed]) if line.startswith("| 10 x 5 |")]
    assert "| 2 |" in row and "did not finish in 600 s" in row


@pytest.mark.parametrize("value", ["100x30", "100x30=soon", "big=1"])
def test_runner_refuses_bad_short_limits_before_running_anything(tmp_path, capsys, value) -> None:
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--sizes", "100x30", "--tight-limits", value, "--workdir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--tight-limits" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
