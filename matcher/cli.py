"""Command line: `python -m matcher solve|validate` around the v1 problem and solution files."""

from __future__ import annotations

import argparse
import ctypes
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from matcher.check import check_solution
from matcher.problem_io import ProblemError, dump_solution, load_problem, load_solution

EXIT_OK = 0
EXIT_INVALID_SOLUTION = 1
EXIT_BAD_INPUT = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}: {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m matcher`."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher",
        description="Match volunteers to shifts (volunteer-matching/v1 files).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    solve = commands.add_parser("solve", help="solve a problem and write the solution JSON")
    solve.add_argument("problem", metavar="PROBLEM.json")
    solve.add_argument("-o", "--output", metavar="SOLUTION.json", help="write here, not stdout")
    solve.add_argument(
        "--time-limit", type=_positive_float, metavar="SECONDS", help="overrides settings"
    )
    solve.add_argument("--seed", type=_int_at_least(0), metavar="N", help="overrides settings")
    solve.add_argument("--threads", type=_int_at_least(1), metavar="N", help="overrides settings")

    validate = commands.add_parser("validate", help="check a solution against its problem")
    validate.add_argument("problem", metavar="PROBLEM.json")
    validate.add_argument("solution", metavar="SOLUTION.json")
    return parser


def _error(stderr: TextIO, message: str) -> int:
    print(f"error: {message}", file=stderr)
    return EXIT_BAD_INPUT


def _process_age() -> float:
    """Seconds since this process started (Linux /proc), or 0 when unknown."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        with open("/proc/uptime", "rb") as fh:
            uptime = float(fh.read().split()[0])
        start_ticks = int(stat.rsplit(b")", 1)[1].split()[19])  # field 22: starttime
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of handing it back to the kernel.

    The solver makes many short-lived arrays of millions of elements; by default each is
    mapped fresh (and zeroed by the kernel) and unmapped when freed, which costs as much
    system time as the numpy work itself on big problems. With mmap off and no trimming,
    freed blocks are reused. Only for the short-lived command (a long-running process keeps
    the default; `python -m matcher` calls it unless MATCHER_MALLOC=default); nothing happens
    where the C library is not glibc.
    """
    if os.environ.get("MATCHER_MALLOC") == "default":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        libc.mallopt(m_mmap_max, 0)
        libc.mallopt(m_trim_threshold, 2**31 - 1)
    except (OSError, AttributeError):
        pass


def _solve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    # the time limit covers the whole process: start-up, parsing, solving and writing
    started = time.perf_counter() - _process_age()
    try:
        problem = load_problem(Path(args.problem))
    except ProblemError as exc:
        return _error(stderr, str(exc))

    def progress(line: str) -> None:
        print(line, file=stderr, flush=True)

    progress(
        f"problem: {len(problem.volunteers)} volunteers, {len(problem.shifts)} shifts, "
        f"{problem.demand} places"
    )
    solver = importlib.import_module("matcher.solver")
    solution = solver.solve(
        problem,
        time_limit=args.time_limit,
        seed=args.seed,
        threads=args.threads,
        progress=progress,
        started_at=started,
    )
    m = solution.metrics
    progress(
        f"filled {m.filled} of {m.demand} places (upper bound {m.upper_bound}), "
        f"status {m.status}, {m.solve_seconds:.2f} s"
    )
    text = dump_solution(solution) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _error(stderr, f"cannot write {args.output}: {exc.strerror}")
    else:
        stdout.write(text)
        stdout.flush()
    return EXIT_OK


def _validate(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        problem = load_problem(Path(args.problem))
    except ProblemError as exc:
        return _error(stderr, str(exc))
    try:
        solution = load_solution(Path(args.solution))
    except ProblemError as exc:
        return _error(stderr, f"solution: {exc}")
    for warning in solution.warnings:
        print(f"warning: {warning}", file=stderr)
    broken = check_solution(problem, solution)
    for line in broken:
        print(line, file=stdout)
    if broken:
        return EXIT_INVALID_SOLUTION
    print("valid", file=stdout)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 invalid solution, 2 bad input)."""
    args = build_parser().parse_args(argv)
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.command == "solve":
        return _solve(args, out, err)
    return _validate(args, out, err)
