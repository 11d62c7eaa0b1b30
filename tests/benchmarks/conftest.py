"""Shared helpers of the benchmark tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import run as runner


@pytest.fixture
def run_benchmarks(tmp_path: Path) -> Callable[..., str]:
    """Run `python -m benchmarks.run` in-process with `args`, its files under tmp_path; return
    the doc it wrote (after checking it exited 0)."""

    def run(*args: str) -> str:
        doc = tmp_path / "benchmarks.md"
        code = runner.main([*args, "--workdir", str(tmp_path), "--doc", str(doc)])
        assert code == 0
        return doc.read_text()

    return run
