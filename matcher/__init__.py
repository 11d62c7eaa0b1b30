"""Volunteer matching: the v1 problem model, the matching rules, the solver and its CLI."""

from __future__ import annotations

from collections.abc import Callable

from matcher.check import check_solution
from matcher.model import Problem, Solution
from matcher.problem_io import ProblemError, load_problem

__all__ = ["Problem", "ProblemError", "Solution", "check_solution", "load_problem", "solve"]


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    started_at: float | None = None,
) -> Solution:
    """Solve `problem` (see matcher.solver.solve); the solver is imported on first use."""
    from matcher.solver import solve as _solve

    return _solve(
        problem,
        time_limit=time_limit,
        seed=seed,
        threads=threads,
        progress=progress,
        started_at=started_at,
    )
