"""Benchmark runner: generate instances, run each method in a subprocess, write the results doc.

Usage: ``python -m benchmarks.run [--sizes small|all|1000x300,...] [--time-limit S]
[--tight-limits NxM=S,...|none] [--shapes all|none|KIND,...] [--naive-limit S]
[--naive-cap S] [--seed N] [--workdir DIR] [--doc FILE]``.

Methods: ``ours`` (``python -m matcher solve``), ``greedy`` (first-come sign-up) and ``naive``
(monolithic CP-SAT). Each runs as its own process; wall time covers the whole process (start,
parse, solve, write) and peak memory is the child's maximum resident set (``wait4`` rusage).
Every output is checked with ``matcher.check.check_solution``; figures are computed here from
the assignments, the same way for every method.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import generate, write
from benchmarks.peers.common import fill_score
from benchmarks.shapes import SHAPES, shape_problem

SIZES = ((1000, 300), (3000, 900), (10000, 3000), (30000, 9000), (100000, 30000))
SMALL = SIZES[:2]
METHODS = ("ours", "ours-travel", "greedy", "naive")
TRAVEL_ONLY_WEIGHTS = {
    "previous": 0,
    "preferences": 0,
    "same_institution": 0,
    "travel": 1,
    "fairness": 0,
    "reliability": 0,
}
SPEEDUP_SIZE = (3000, 900)
ROOT = Path(__file__).resolve().parent.parent
NAIVE_MEMORY_BYTES = 12 * 1024**3  # the naive model is stopped beyond this address space


@dataclass
class Run:
    """One method on one instance: process figures and, when it finished, solution figures."""

    method: str
    size: tuple[int, int]
    ok: bool = False
    note: str = ""
    wall_s: float | None = None
    peak_mb: float | None = None
    load: float | None = None  # 1-minute load average when the method started
    figures: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    shape: str = ""  # a `benchmarks.shapes` problem, not a generated size
    tight_limit: float | None = None  # ours with a short limit (its own section of the doc)


def run_measured(
    cmd: Sequence[str], timeout: float | None, memory_bytes: int | None = None
) -> tuple[int | None, float, float, str]:
    """Run `cmd`; returns (exit code or None on timeout, wall s, peak RSS MB, stderr tail)."""

    def limit() -> None:
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=limit,
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    err_chunks: list[bytes] = []

    def read_stderr() -> None:
        with proc.stderr:  # type: ignore[union-attr]
            err_chunks.append(proc.stderr.read())  # type: ignore[union-attr]

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if timer:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    tail = b"".join(err_chunks).decode("utf-8", "replace").strip().splitlines()[-5:]
    code = None if timed_out.is_set() else proc.returncode
    return code, wall, usage.ru_maxrss / 1024.0, "\n".join(tail)


def measure(
    run: Run,
    cmd: Sequence[str],
    timeout: float | None,
    memory: int | None,
    problem: Any,
    out: Path,
    stats_path: Path | None,
    label: str,
) -> None:
    """Run one method's command and fill `run` with its process and solution figures (and
    the method's own statistics from `stats_path`, when it wrote them)."""
    print(f"{label} ...", file=sys.stderr, flush=True)
    run.load = os.getloadavg()[0]
    code, wall, peak, tail = run_measured(cmd, timeout, memory)
    run.wall_s, run.peak_mb = wall, peak
    if code is None:
        run.note = f"did not finish in {timeout:g} s"
    elif code == 3 and run.method == "naive":
        run.note = tail.splitlines()[-1] if tail else "no solution"
    elif code != 0 or not out.exists():
        oom = "MemoryError" in tail or "bad_alloc" in tail
        run.note = (
            f"stopped: out of memory ({NAIVE_MEMORY_BYTES // 1024**3} GB)"
            if oom
            else f"failed (exit {code}): {tail.splitlines()[-1:]}"
        )
    else:
        run.ok = True
        run.figures = evaluate(problem, out)
        if stats_path is not None and stats_path.exists():
            run.stats = json.loads(stats_path.read_text())
    print(
        f"{label}: wall {wall:.1f} s, peak {peak:,.0f} MB, {run.figures if run.ok else run.note}",
        file=sys.stderr,
        flush=True,
    )


def ours_command(source: Path, out: Path, limit: float) -> list[str]:
    """`python -m matcher solve` on `source` with the runner's seed and `limit`."""
    return [
        sys.executable,
        "-m",
        "matcher",
        "solve",
        str(source),
        "-o",
        str(out),
        "--time-limit",
        f"{limit:g}",
        "--seed",
        "0",
    ]


def run_ours(run: Run, problem_path: Path, out: Path, limit: float, label: str) -> Run:
    """Ours on a problem file with `limit`, measured into `run` (returned)."""
    from matcher.problem_io import load_problem

    out.unlink(missing_ok=True)
    problem = load_problem(problem_path)
    cmd = ours_command(problem_path, out, limit)
    measure(run, cmd, max(600.0, 10 * limit), None, problem, out, None, label)
    return run


def run_shape(kind: str, work: Path, limit: float, seed: int) -> Run:
    """Ours on one `benchmarks.shapes` problem with `limit`."""
    _, n_vol, n_shift, _ = SHAPES[kind]
    problem_path = work / f"shape-{kind}-s{seed}.json"
    problem_path.write_text(json.dumps(shape_problem(kind, seed)), encoding="utf-8")
    run = Run("ours", (n_vol, n_shift), shape=kind)
    return run_ours(run, problem_path, work / f"ours-shape-{kind}.json", limit, f"[{kind}]")


def evaluate(problem: Any, solution_path: Path) -> dict[str, Any]:
    """Figures of one solution file, computed the same way for every method."""
    from matcher import eligibility
    from matcher.check import check_solution
    from matcher.problem_io import load_solution

    solution = load_solution(solution_path)
    violations = check_solution(problem, solution)
    per_volunteer: dict[str, int] = {}
    kms = []
    for a in solution.assignments:
        per_volunteer[a.volunteer_id] = per_volunteer.get(a.volunteer_id, 0) + 1
        shift = problem.shift_by_id[a.shift_id]
        kms.append(
            eligibility.distance_km(
                problem.volunteer_by_id[a.volunteer_id], problem.institution_of(shift)
            )
        )
    offered = [
        v.id
        for v in problem.volunteers
        if any(
            w.end > problem.horizon.start and w.start < problem.horizon.end for w in v.availability
        )
    ]
    counts = [per_volunteer.get(vid, 0) for vid in offered]
    mean = sum(counts) / len(counts) if counts else 0.0
    sigma = math.sqrt(sum((c - mean) ** 2 for c in counts) / len(counts)) if counts else 0.0
    served = [c for c in per_volunteer.values() if c > 0]
    return {
        "demand": problem.demand,
        "filled": len(solution.assignments),
        "score": fill_score(problem, [a.shift_id for a in solution.assignments]),
        "upper_bound": solution.metrics.upper_bound,
        "status": solution.metrics.status,
        "mean_km": sum(kms) / len(kms) if kms else None,
        "served": len(served),
        "offered": len(offered),
        "sigma_offered": sigma,
        "max_per_volunteer": max(served) if served else 0,
        "candidate_pairs": solution.metrics.extra.get("candidate_pairs"),
        "violations": len(violations),
        "violation_sample": violations[:5],
    }


def machine() -> dict[str, str]:
    """Where and with what the benchmark ran."""
    import numpy
    import ortools

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024**2:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                text=True,
                capture_output=True,
                check=False,
            ).stdout.strip()
            or "unknown"
        )
    except OSError:
        commit = "unknown"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ortools": ortools.__version__,
        "numpy": numpy.__version__,
        "commit": commit,
    }


def _fmt(value: Any, spec: str = "", dash: str = "–") -> str:
    if value is None:
        return dash
    return format(value, spec)


CRITERIA = (
    ("places", "as many places"),
    ("score", "as high a priority-weighted fill score"),
    ("both", "as many places and as high a priority-weighted score in one solution"),
)


def speedup(ours: Run | None, naive: Run | None) -> dict[str, Any] | None:
    """When naive CP-SAT first matched ours' fill (places, score, both), against ours' time."""
    if ours is None or naive is None or not ours.ok or ours.wall_s is None:
        return None
    places, score = ours.figures["filled"], ours.figures["score"]
    result: dict[str, Any] = {
        "ours_wall_s": ours.wall_s,
        "ours_places": places,
        "ours_score": score,
    }
    if not naive.ok:
        result["naive_note"] = naive.note
        if naive.wall_s and "not attempted" not in naive.note:
            result["speedup_at_least"] = naive.wall_s / ours.wall_s
        return result
    laps = naive.stats.get("laps", {})
    wall = naive.wall_s or 0.0
    startup = max(0.0, wall - laps.get("written", wall))  # interpreter start and imports
    trace = naive.stats.get("trace", [])
    tests = {
        "places": lambda point: point[2] >= places,
        "score": lambda point: point[1] >= score,
        "both": lambda point: point[1] >= score and point[2] >= places,
    }
    for name, test in tests.items():
        hit = next((point[0] for point in trace if test(point)), None)
        result[f"reached_{name}_s"] = None if hit is None else hit + startup
        if hit is not None:
            result[f"speedup_{name}"] = (hit + startup) / ours.wall_s
        else:
            result[f"speedup_{name}_at_least"] = wall / ours.wall_s
    result.update(
        naive_wall_s=wall,
        naive_build_s=naive.stats.get("build_seconds"),
        naive_fill_status=naive.stats.get("fill_status"),
        naive_places=naive.figures["filled"],
        naive_score=naive.figures["score"],
    )
    return result


def speedup_lines(speed: dict[str, Any] | None) -> list[str]:
    """The speedup section of the doc."""
    if speed is None:
        return ["Not measured in this run (needs both ours and naive at that size)."]
    lines = [
        f"Ours wrote its solution ({speed['ours_places']:,} places, priority-weighted score "
        f"{speed['ours_score']:,}) in {speed['ours_wall_s']:.1f} s wall."
    ]
    if "naive_note" in speed:
        lines.append(f"Naive CP-SAT: {speed['naive_note']}.")
        if "speedup_at_least" in speed:
            lines.append(
                f"Speedup: at least **{speed['speedup_at_least']:.1f}x** (the naive "
                "model found no roster at all in its time)."
            )
        return lines
    lines += [
        f"Naive CP-SAT built its model in {_fmt(speed.get('naive_build_s'), '.1f')} s, ended "
        f"after {speed['naive_wall_s']:.1f} s (fill phase {speed['naive_fill_status']}) with "
        f"{speed['naive_places']:,} places, score {speed['naive_score']:,}.",
        "",
        "| naive CP-SAT first found a solution with ... ours | after s | speedup |",
        "|---|---:|---:|",
    ]
    for name, text in CRITERIA:
        reached = speed.get(f"reached_{name}_s")
        if reached is not None:
            lines.append(f"| {text} | {reached:.1f} | **{speed[f'speedup_{name}']:.1f}x** |")
        else:
            lines.append(f"| {text} | never | at least {speed[f'speedup_{name}_at_least']:.1f}x |")
    return lines


def shape_lines(runs: list[Run]) -> list[str]:
    """The section on the `benchmarks.shapes` problems (none when none ran)."""
    if not runs:
        return []
    lines = [
        "",
        f"## Other shapes, `--time-limit {SHAPES_TIME_LIMIT:g}`",
        "",
        "Problems the generator never makes (`python -m benchmarks.shapes KIND --seed "
        "N`, one home town, radius 100 km): does the time limit hold, and every rule? The "
        "limit covers the whole process; the flow relaxation and the explanations are not "
        "cut short, so a problem with millions of pairs needs their time whatever the limit.",
        "",
        "| shape | what | vol x shifts | pairs | wall s | peak MB | filled / demand | bound | "
        "fill / bound | status | violations | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for run in runs:
        what = SHAPES[run.shape][3]
        size = f"{run.size[0]:,} x {run.size[1]:,}"
        if not run.ok:
            lines.append(
                f"| {run.shape} | {what} | {size} | | {_fmt(run.wall_s, '.1f')} | "
                f"{_fmt(run.peak_mb, ',.0f')} | {run.note} | | | | | {_fmt(run.load, '.1f')} |"
            )
            continue
        f = run.figures
        lines.append(
            f"| {run.shape} | {what} | {size} | {_fmt(f.get('candidate_pairs'), ',')} | "
            f"{run.wall_s:.1f} | {run.peak_mb:,.0f} | {f['filled']:,} / {f['demand']:,} | "
            f"{f['upper_bound']:,} | {f['filled'] / max(1, f['upper_bound']):.4f} | "
            f"{f['status']} | {f['violations']} | {_fmt(run.load, '.1f')} |"
        )
    return lines


def tight_lines(runs: list[Run]) -> list[str]:
    """The section on ours with short time limits (none when none ran)."""
    if not runs:
        return []
    lines = [
        "",
        "## Short time limits",
        "",
        "Ours on the same instances with a limit well below what the table above used: how "
        "far past the limit the whole process ends, and with what. Parsing, the candidates, "
        "a quick greedy roster, the explanations and writing always run; the flow relaxation "
        "is used when it ends in time, else the quick roster with a simpler proven bound (or "
        "the max flows' bound when they ended in time), and the steps after stop at the limit "
        "(docs/solver.md, Short time limits and Known limits).",
        "",
        "| size (vol x shifts) | `--time-limit` | wall s | past the limit, s | filled / demand | "
        "bound | fill / bound | status | violations | load |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for run in runs:
        size = f"{run.size[0]:,} x {run.size[1]:,}"
        limit = run.tight_limit or 0.0
        over = _fmt(max(0.0, run.wall_s - limit) if run.wall_s is not None else None, ".1f")
        head = f"| {size} | {limit:g} | {_fmt(run.wall_s, '.1f')} | {over} |"
        if not run.ok:
            lines.append(f"{head} {run.note} | | | | | {_fmt(run.load, '.1f')} |")
            continue
        f = run.figures
        lines.append(
            f"{head} {f['filled']:,} / {f['demand']:,} | {f['upper_bound']:,} | "
            f"{f['filled'] / max(1, f['upper_bound']):.4f} | {f['status']} | "
            f"{f['violations']} | {_fmt(run.load, '.1f')} |"
        )
    return lines


def write_doc(
    path: Path,
    info: dict[str, Any],
    runs: list[Run],
    speed: dict[str, Any] | None,
    args: argparse.Namespace,
    instances: dict[str, dict[str, Any]],
    finished: bool,
) -> None:
    """Render docs/benchmarks.md from the runs so far."""
    lines = [
        "# Matcher benchmarks",
        "",
        "Written by `python -m benchmarks.run` (do not edit by hand; rerun it)."
        + ("" if finished else " **Run still in progress: partial results.**"),
        "",
        f"- Date: {info['date']}; command: `{info['command']}`",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}",
        f"- Python {info['python']}, OR-Tools {info['ortools']}, numpy {info['numpy']}, "
        f"commit {info['commit']}",
        f"- Instances: `python -m benchmarks.generate --volunteers N --shifts M --seed "
        f"{args.seed}` (one week, Egypt, rest gap 30 min); method seed 0",
        f"- Time limits: ours `--time-limit {args.time_limit:g}`"
        + "".join(
            f", {n:,} x {m:,}: `--time-limit {t:g}`"
            for (n, m), t in sorted(getattr(args, "limits", {}).items())
        )
        + " (the limit covers parsing, solving, explanations and writing); naive CP-SAT "
        f"solver budget "
        f"{args.naive_limit:g} s, stopped at {args.naive_cap:g} s wall or "
        f"{NAIVE_MEMORY_BYTES // 1024**3} GB",
        "",
        "| size (vol x shifts) | method | wall s | peak MB | filled / demand | bound | "
        "fill / bound | status | mean km | served | σ offered | violations | load |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    shaped = [run for run in runs if run.shape]
    tight = [run for run in runs if run.tight_limit is not None]
    runs = [run for run in runs if not run.shape and run.tight_limit is None]
    bounds: dict[tuple[int, int], int] = {}
    for run in runs:
        if run.method == "ours" and run.ok:
            bounds[run.size] = run.figures["upper_bound"]
    for run in runs:
        size = f"{run.size[0]:,} x {run.size[1]:,}"
        if not run.ok:
            lines.append(
                f"| {size} | {run.method} | {_fmt(run.wall_s, '.1f')} | "
                f"{_fmt(run.peak_mb, ',.0f')} | {run.note} | | | | | | | | "
                f"{_fmt(run.load, '.1f')} |"
            )
            continue
        f = run.figures
        bound = bounds.get(run.size)
        ratio = f"{f['filled'] / bound:.4f}" if bound else "–"
        ours = run.method.startswith("ours")
        shown_bound = f"{f['upper_bound']:,}" if ours else "–"
        status = f["status"] if ours else run.stats.get("fill_status", "–")
        served = f"{f['served']:,} ({100 * f['served'] / max(1, f['offered']):.0f} %)"
        lines.append(
            f"| {size} | {run.method} | {run.wall_s:.1f} | {run.peak_mb:,.0f} | "
            f"{f['filled']:,} / {f['demand']:,} | {shown_bound} | {ratio} | {status} | "
            f"{_fmt(f['mean_km'], '.2f')} | {served} | {f['sigma_offered']:.3f} | "
            f"{f['violations']} | {_fmt(run.load, '.1f')} |"
        )
    lines += [
        "",
        f"## Speedup against naive CP-SAT at {SPEEDUP_SIZE[0]:,} x {SPEEDUP_SIZE[1]:,}",
        "",
    ]
    lines += speedup_lines(speed)
    lines += tight_lines(tight)
    lines += shape_lines(shaped)
    lines += [
        "",
        "## How to read the table",
        "",
        "- **ours-travel**: ours on the same problem with `settings.weights` set to travel "
        "only (the naive peer's objective: fill, then total km), where the naive peer runs; "
        "**ours** uses the default weights, which also trade km for preferences (up to 12 km "
        "for a preferred institution), fairness and the other goals.",
        "- **wall s**: the whole subprocess, from interpreter start through parsing the problem "
        "file to the written solution file. **peak MB**: the child's maximum resident set "
        "(`wait4` rusage `ru_maxrss`).",
        "- **filled / demand**: places filled out of places needed. **bound**: ours' proven upper "
        "bound on fill (the least of the flow, cut, Lagrangian and CP-SAT bounds of "
        "docs/solver.md, or under a short limit the simple bound; no valid roster fills more). "
        "**fill / bound** uses ours' bound for every method of the same instance. The peers "
        "prove no bound of their own and report the demand as theirs.",
        "- **status**: ours' solution status (OPTIMAL, FILL_OPTIMAL: fill proven optimal; "
        "FEASIBLE: fill below the bound when time ran out); for naive CP-SAT the status of its "
        "fill phase (OPTIMAL: fill proven optimal for its model).",
        "- **mean km**: mean great-circle distance home -> institution over the assignments.",
        "- **served**: volunteers given at least one shift (share of those who offered time, "
        "i.e. have an availability window in the week). **σ offered**: population standard "
        "deviation of shifts per volunteer over all volunteers who offered time, zeros "
        "included; at equal fill, lower means the work is spread over more people.",
        "- **load**: the machine's 1-minute load average when the method started; above the "
        f"number of CPUs ({os.cpu_count()}), other work shared the machine and times are "
        "inflated.",
        "- **violations**: broken hard rules found by `matcher.check.check_solution` (must be 0).",
        "- **speedup**: naive CP-SAT's time from its process start to its first solution that "
        "matches ours' fill, divided by ours' whole wall time. Fill is compared three ways: "
        "places filled; the priority-weighted score (each priority level outweighs all lower "
        "ones, the order of the format's objective); and both in the same solution. The naive "
        "model (`benchmarks/peers/naive_cpsat.py`) has one Boolean per eligible (volunteer, "
        "shift, position), pairwise clash constraints and linear caps, and solves fill then "
        "travel. The greedy peer (`benchmarks/peers/greedy.py`) is first-come self sign-up in "
        "a random arrival order (preferred, then nearest, then earliest shifts).",
        "",
        "## Instances",
        "",
        "One week from 2026-12-05 (+02:00), generated by `benchmarks/generate.py`: Egypt's "
        "governorates by population (a small instance covers Greater Cairo first and grows "
        "outward), about one institution per ten shifts, three daily blocks plus a quarter of "
        "shifts of other lengths, skill places, gender and age rules, a few credentials, "
        "languages and priorities; volunteers with weekly windows, radii 5-50 km and caps. "
        "Eligible pairs as counted by ours; generation time is not part of any method's time.",
        "",
        "| size | institutions | places | eligible pairs | generated in s |",
        "|---|---:|---:|---:|---:|",
    ]
    for tag, inst in instances.items():
        pairs = next(
            (
                r.figures.get("candidate_pairs")
                for r in runs
                if r.ok and r.method == "ours" and f"{r.size[0]}x{r.size[1]}" == tag
            ),
            None,
        )
        lines.append(
            f"| {tag} | {inst['institutions']:,} | {inst['places']:,} | "
            f"{_fmt(pairs, ',')} | {inst['seconds']:.1f} |"
        )
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


SHAPES_TIME_LIMIT = 20.0  # ours' limit on the `benchmarks.shapes` problems

# the targets: 30k x 9k in 20 s, 100k x 30k in 60 s; 10k x 3k has none, and with 60 s the
# whole-component Lagrangian step reaches its million-pair component
DEFAULT_LIMITS = "10000x3000=60,100000x30000=60"
# short limits, each well below the size's own: the mandatory phases' floor
DEFAULT_TIGHT_LIMITS = "1000x300=1,3000x900=1,10000x3000=2,30000x9000=10,100000x30000=30"


def parse_limits(items: Sequence[str]) -> dict[tuple[int, int], float]:
    """Per-size time limits from "NxM=S" items (comma-separated lists allowed)."""
    out: dict[tuple[int, int], float] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            size, _, seconds = part.partition("=")
            ((n, m),) = parse_sizes(size)
            out[(n, m)] = float(seconds)
    return out


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """`small`, `all`, or a comma list such as `1000x300,3000x900`."""
    if text == "small":
        return SMALL
    if text == "all":
        return SIZES
    out = []
    for part in text.split(","):
        n, m = part.lower().split("x")
        out.append((int(n), int(m)))
    return tuple(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="small", help="small | all | NxM,NxM,...")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--time-limit",
        type=float,
        default=20.0,
        help="ours' time limit, s (sizes without --time-limit-for)",
    )
    parser.add_argument(
        "--time-limit-for",
        action="append",
        default=None,
        metavar="NxM=S",
        help=f"ours' time limit at one size (repeatable; default {DEFAULT_LIMITS})",
    )
    parser.add_argument(
        "--naive-limit", type=float, default=300.0, help="naive CP-SAT's solver budget, s"
    )
    parser.add_argument(
        "--naive-cap",
        type=float,
        default=330.0,
        help="naive CP-SAT's wall cap, s (it is stopped beyond)",
    )
    parser.add_argument(
        "--naive-max-volunteers",
        type=int,
        default=3000,
        help="the naive peer runs only up to this many volunteers (keeps the run short)",
    )
    parser.add_argument(
        "--shapes",
        default=None,
        help="all | none | a comma list of benchmarks.shapes kinds (default: all with "
        "--sizes all, else none)",
    )
    parser.add_argument(
        "--tight-limits",
        default=None,
        metavar="NxM=S,...",
        help="ours again with these short limits at the sizes that run, or none (default: "
        f"{DEFAULT_TIGHT_LIMITS} with --sizes all, else none)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--workdir", default="/tmp/matcher-benchmarks")
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    args.limits = parse_limits(args.time_limit_for or [DEFAULT_LIMITS])
    from matcher.problem_io import load_problem

    sizes = parse_sizes(args.sizes)
    shapes = args.shapes or ("all" if args.sizes == "all" else "none")
    kinds = list(SHAPES) if shapes == "all" else [k for k in shapes.split(",") if k != "none"]
    unknown = sorted(set(kinds) - set(SHAPES))
    if unknown:
        parser.error(f"unknown shapes {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    tight_text = args.tight_limits or (DEFAULT_TIGHT_LIMITS if args.sizes == "all" else "none")
    try:
        tight_limits = {} if tight_text == "none" else parse_limits([tight_text])
    except ValueError:
        parser.error(f"--tight-limits: expected NxM=S,..., got {tight_text!r}")
    methods = [m for m in args.methods.split(",") if m]
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    info["command"] = "python -m benchmarks.run " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    runs: list[Run] = []
    instances: dict[str, dict[str, Any]] = {}
    speed = None
    naive_gave_up: str | None = None
    py = sys.executable
    for n, m in sizes:
        tag = f"{n}x{m}"
        problem_path = work / f"problem-{tag}-s{args.seed}.json"
        t0 = time.perf_counter()
        data = generate(n, m, args.seed)
        seconds = time.perf_counter() - t0
        write(data, problem_path)
        del data
        problem = load_problem(problem_path)
        instances[tag] = {
            "seconds": seconds,
            "institutions": len(problem.institutions),
            "places": problem.demand,
        }
        by_method: dict[str, Run] = {}
        for method in methods:
            out = work / f"{method}-{tag}.json"
            stats_path = work / f"{method}-{tag}.stats.json"
            out.unlink(missing_ok=True)
            stats_path.unlink(missing_ok=True)
            run = Run(method, (n, m))
            limit = args.limits.get((n, m), args.time_limit)
            timeout: float | None = max(600.0, 10 * limit)
            memory = None
            if method == "ours-travel" and n > args.naive_max_volunteers:
                continue
            if method in ("ours", "ours-travel"):
                source = problem_path
                if method == "ours-travel":
                    # the same problem with the naive peer's objective: fill, then travel
                    source = work / f"problem-{tag}-s{args.seed}-travel.json"
                    doc = json.loads(problem_path.read_text())
                    doc.setdefault("settings", {})["weights"] = dict(TRAVEL_ONLY_WEIGHTS)
                    source.write_text(json.dumps(doc))
                cmd = ours_command(source, out, limit)
            elif method == "greedy":
                cmd = [
                    py,
                    "-m",
                    "benchmarks.peers.greedy",
                    str(problem_path),
                    "-o",
                    str(out),
                    "--seed",
                    "0",
                    "--stats",
                    str(stats_path),
                ]
            elif method == "naive":
                if n > args.naive_max_volunteers:
                    run.note = (
                        f"not attempted above {args.naive_max_volunteers:,} volunteers "
                        "(it did not finish in 600 s at 10,000 x 3,000 in an earlier run)"
                    )
                    runs.append(run)
                    by_method[method] = run
                    continue
                if naive_gave_up:
                    run.note = naive_gave_up + " at a smaller size; not attempted"
                    runs.append(run)
                    by_method[method] = run
                    continue
                cmd = [
                    py,
                    "-m",
                    "benchmarks.peers.naive_cpsat",
                    str(problem_path),
                    "-o",
                    str(out),
                    "--seed",
                    "0",
                    "--time-limit",
                    f"{args.naive_limit:g}",
                    "--stats",
                    str(stats_path),
                ]
                timeout, memory = args.naive_cap, NAIVE_MEMORY_BYTES
            else:
                raise SystemExit(f"unknown method {method!r}")
            measure(run, cmd, timeout, memory, problem, out, stats_path, f"[{tag}] {method}")
            if method == "naive" and not run.ok:
                naive_gave_up = run.note
            runs.append(run)
            by_method[method] = run
        if (n, m) == SPEEDUP_SIZE:
            speed = speedup(by_method.get("ours"), by_method.get("naive"))
        write_doc(Path(args.doc), info, runs, speed, args, instances, finished=False)
        del problem
    for n, m in sizes:
        if (n, m) not in tight_limits:
            continue
        limit = tight_limits[(n, m)]
        run = Run("ours", (n, m), tight_limit=limit)
        problem_path = work / f"problem-{n}x{m}-s{args.seed}.json"
        out = work / f"ours-{n}x{m}-tight.json"
        runs.append(run_ours(run, problem_path, out, limit, f"[{n}x{m}] ours, short limit"))
        write_doc(Path(args.doc), info, runs, speed, args, instances, finished=False)
    for kind in kinds:
        runs.append(run_shape(kind, work, SHAPES_TIME_LIMIT, args.seed))
        write_doc(Path(args.doc), info, runs, speed, args, instances, finished=False)
    write_doc(Path(args.doc), info, runs, speed, args, instances, finished=True)
    (work / "results.json").write_text(
        json.dumps(
            {"machine": info, "speedup": speed, "runs": [run.__dict__ for run in runs]},
            indent=1,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
