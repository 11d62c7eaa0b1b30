"""A naive monolithic CP-SAT model of the matching rules, the textbook way to write the matcher.

One Boolean per eligible (volunteer, shift, position); per pair at most one position; per
(shift, position) at most its places; per volunteer a pairwise "not both" for every two shifts
that overlap or leave less than the rest gap, and linear caps on shifts and hours; locked pairs
fixed. Two solves make the objective lexicographic: first the priority-weighted fill (it may use
the whole time budget), then, with the fill held at the value found, the total travel in the
time that is left. Eligibility comes from `matcher.eligibility`.

Usage: ``python -m benchmarks.peers.naive_cpsat PROBLEM.json [-o OUT] [--time-limit S]
[--seed N] [--threads N] [--stats FILE]``; the stats file records, for the speedup figure, the
time (since the process started) of every improving fill found. Exit code 3 (and no solution
file) when the fill phase finds no solution within the time limit.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from datetime import timedelta

from ortools.sat.python import cp_model

from benchmarks.peers.common import (
    CandidateIndex,
    Clock,
    Roster,
    cli,
    place_locked,
    priority_weights,
    solution_dict,
    write_json,
)
from matcher import eligibility
from matcher.model import Problem

US = timedelta(microseconds=1)
NO_SOLUTION = 3  # exit code when the fill phase found no solution within the time limit


class _Trace(cp_model.CpSolverSolutionCallback):
    """Records (seconds since the process started, fill score, places) of improving solutions."""

    def __init__(self, clock: Clock, count: cp_model.IntVar) -> None:
        super().__init__()
        self.clock = clock
        self.count = count
        self.points: list[tuple[float, int, int]] = []

    def on_solution_callback(self) -> None:
        self.points.append(
            (round(self.clock.now(), 3), int(self.ObjectiveValue()), int(self.Value(self.count)))
        )


def _params(time_limit: float | None, seed: int, threads: int | None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = threads or os.cpu_count() or 1
    return solver


def naive_cpsat(
    problem: Problem,
    time_limit: float | None = 60.0,
    seed: int = 0,
    threads: int | None = None,
    clock: Clock | None = None,
) -> tuple[dict, dict]:
    """Solve `problem` with one monolithic CP-SAT model; returns (v1 solution dict, stats)."""
    clock = clock or Clock()
    started = clock.now()
    roster = Roster(problem)
    vol_pos = {v.id: i for i, v in enumerate(problem.volunteers)}
    shift_pos = {s.id: i for i, s in enumerate(problem.shifts)}
    locked = place_locked(roster, vol_pos, shift_pos)
    rest = problem.settings.min_rest_minutes
    index = CandidateIndex(problem)
    weights = priority_weights(problem)
    model = cp_model.CpModel()

    # --- variables: one per eligible (volunteer, shift, position) with places left ----------
    x: list[tuple[int, int, str | None, cp_model.IntVar]] = []
    per_place: dict[tuple[int, str | None], list] = {}
    km: list[int] = []
    per_vol_shifts: list[list[tuple[int, list]]] = [[] for _ in problem.volunteers]
    for v, vol in enumerate(problem.volunteers):
        cand, _ = index.candidates(v)
        for s in sorted(int(c) for c in cand):
            if (v, s) in locked:
                continue
            shift = problem.shifts[s]
            inst = problem.institution_of(shift)
            if not eligibility.is_eligible(vol, shift, inst):
                continue
            if eligibility.schedule_reasons(vol, shift, roster.taken[v], rest):
                continue  # clashes with a locked shift or no room left under the caps
            dist = round(eligibility.distance_km(vol, inst) * 1000)
            vars_vs = []
            for position in eligibility.positions_for(vol, shift):
                if roster.left[s].get(position, 0) <= 0:
                    continue
                var = model.NewBoolVar(f"x_{v}_{s}_{position}")
                x.append((v, s, position, var))
                per_place.setdefault((s, position), []).append(var)
                km.append(dist)
                vars_vs.append(var)
            if vars_vs:
                if len(vars_vs) > 1:
                    model.AddAtMostOne(vars_vs)
                per_vol_shifts[v].append((s, vars_vs))

    # --- places per (shift, position) --------------------------------------------------------
    for (s, position), vars_sp in per_place.items():
        cap = roster.left[s][position]
        if len(vars_sp) > cap:
            model.Add(sum(vars_sp) <= cap)

    # --- per volunteer: pairwise clashes, then caps ------------------------------------------
    shifts = problem.shifts
    for v, items in enumerate(per_vol_shifts):
        if not items:
            continue
        vol = problem.volunteers[v]
        items.sort(key=lambda item: shifts[item[0]].start)
        for i, (a, vars_a) in enumerate(items):
            sa = shifts[a]
            for b, vars_b in items[i + 1 :]:
                sb = shifts[b]
                if not eligibility.clash(sa.start, sa.end, sb.start, sb.end, rest):
                    if (sb.start - sa.end).total_seconds() >= rest * 60:
                        break  # later shifts start even later
                    continue
                model.AddAtMostOne(vars_a + vars_b)
        taken = roster.taken[v]
        all_vars = [var for _, vs in items for var in vs]
        if vol.max_shifts is not None and len(items) > vol.max_shifts - len(taken):
            model.Add(sum(all_vars) <= vol.max_shifts - len(taken))
        if vol.max_hours is not None:
            # exact microseconds (the rule's own unit), divided by their gcd
            used = sum((t.end - t.start) // US for t in taken)
            budget = eligibility.hours_cap_us(vol.max_hours) - used
            durs = [((shifts[s].end - shifts[s].start) // US, vs) for s, vs in items]
            if sum(d for d, _ in durs) > budget:
                g = math.gcd(max(budget, 0), *(d for d, _ in durs)) or 1
                model.Add(sum(d // g * var for d, vs in durs for var in vs) <= budget // g)
    build_s = clock.now() - started
    clock.lap("built")

    # --- phase 1: priority-weighted fill -------------------------------------------------------
    score_w = [weights[shifts[s].priority] for _, s, _, _ in x]
    all_x = [var for _, _, _, var in x]
    fill_expr = sum(w * var for w, var in zip(score_w, all_x, strict=True))
    model.Maximize(fill_expr)
    count = model.NewIntVar(0, len(all_x), "places_filled")
    model.Add(count == sum(all_x))
    # the fill phase may use the whole budget; travel gets what is left once fill is proven
    remaining = None if time_limit is None else time_limit - clock.now()
    solver = _params(remaining, seed, threads)
    trace = _Trace(clock, count)
    status1 = solver.Solve(model, trace)
    clock.lap("fill")
    stats: dict = {
        "method": "naive_cpsat",
        "variables": len(x),
        "build_seconds": round(build_s, 3),
        "fill_status": solver.StatusName(status1),
        "trace": trace.points,
    }
    chosen: list[bool] = [False] * len(x)
    if status1 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [solver.BooleanValue(var) for var in all_x]
        best = int(solver.ObjectiveValue())
        stats["fill_score"] = best
        stats["fill_score_bound"] = int(solver.BestObjectiveBound())

        # --- phase 2: travel with the fill held --------------------------------------------
        model.Add(fill_expr >= best)
        model.Minimize(sum(k * var for k, var in zip(km, all_x, strict=True)))
        model.ClearHints()
        for var, value in zip(all_x, chosen, strict=True):
            model.AddHint(var, value)
        remaining = None if time_limit is None else time_limit - clock.now()
        if remaining is None or remaining > 0.2:
            solver2 = _params(remaining, seed, threads)
            status2 = solver2.Solve(model)
            stats["travel_status"] = solver2.StatusName(status2)
            if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                chosen = [solver2.BooleanValue(var) for var in all_x]
        clock.lap("travel")
    for (v, s, position, _), on in zip(x, chosen, strict=True):
        if on:
            roster.add(v, s, position)
    solution = solution_dict(
        roster,
        "FEASIBLE",
        clock.now(),
        {"method": "naive_cpsat", "cp_sat_fill_status": stats["fill_status"]},
    )
    return solution, stats


def main(argv: Sequence[str] | None = None) -> int:
    from matcher.problem_io import load_problem

    args = cli("python -m benchmarks.peers.naive_cpsat", __doc__ or "", argv, with_threads=True)
    clock = Clock()
    problem = load_problem(args.problem)
    clock.lap("load")
    limit = args.time_limit if args.time_limit is not None else 60.0
    solution, stats = naive_cpsat(
        problem, time_limit=limit, seed=args.seed, threads=args.threads, clock=clock
    )
    found = stats["fill_status"] in ("OPTIMAL", "FEASIBLE") or not problem.shifts
    if found:
        write_json(solution, args.output)
    clock.lap("written")
    if args.stats:
        stats["laps"] = clock.laps
        write_json(stats, args.stats)
    if not found:
        print(
            f"no solution within {limit:g} s (model built in {stats['build_seconds']:.0f} s, "
            f"{stats['variables']} variables)",
            file=sys.stderr,
        )
        return NO_SOLUTION
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
