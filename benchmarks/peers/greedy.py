"""First-come self sign-up, the way volunteers book shifts without a matcher.

Volunteers arrive in a random order (from the seed). Each one looks through the shifts that suit
them, preferred institutions first, then nearest, then earliest, and signs up for every one that
still has a place open to them and fits their week (no overlap, rest gap, caps), until their
caps are reached. Reserved skill places are taken before open ones when the volunteer holds the
skill. Every pair and every addition is checked with `matcher.eligibility`.

Usage: ``python -m benchmarks.peers.greedy PROBLEM.json [-o OUT.json] [--seed N] [--stats F]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchmarks.peers.common import (
    CandidateIndex,
    Clock,
    Roster,
    cli,
    place_locked,
    solution_dict,
    write_json,
)
from matcher import eligibility
from matcher.model import Problem


def greedy(problem: Problem, seed: int = 0, clock: Clock | None = None) -> dict:
    """Run first-come sign-up on `problem`; returns a v1 solution dict."""
    clock = clock or Clock()
    index = CandidateIndex(problem)
    clock.lap("index")
    roster = Roster(problem)
    vol_pos = {v.id: i for i, v in enumerate(problem.volunteers)}
    shift_pos = {s.id: i for i, s in enumerate(problem.shifts)}
    locked = place_locked(roster, vol_pos, shift_pos)
    rest = problem.settings.min_rest_minutes
    shortest_s = int((index.shift_end - index.shift_start).min()) if problem.shifts else 0
    rng = np.random.default_rng(seed)
    for v in rng.permutation(len(problem.volunteers)):
        v = int(v)
        vol = problem.volunteers[v]
        taken = roster.taken[v]
        if vol.max_shifts is not None and len(taken) >= vol.max_shifts:
            continue
        cand, dist = index.candidates(v)
        if cand.size == 0:
            continue
        keep = roster.free[cand] > 0
        cand, dist = cand[keep], dist[keep]
        if cand.size == 0:
            continue
        pref = np.zeros(cand.size)
        cand_inst = index.shift_inst[cand]
        for inst_id, weight in vol.preferences.items():
            pos = index.inst_pos.get(inst_id)
            if pos is not None:
                pref[cand_inst == pos] = weight
        order = np.lexsort((index.shift_start[cand], dist, -pref))
        hours = sum(s.duration_hours for s in taken)
        for s in cand[order]:
            s = int(s)
            if (v, s) in locked or roster.free[s] <= 0:
                continue
            shift = problem.shifts[s]
            if not eligibility.is_eligible(vol, shift, problem.institution_of(shift)):
                continue
            found, position = roster.free_position(v, s)
            if not found:
                continue
            if eligibility.schedule_reasons(vol, shift, taken, rest):
                continue
            roster.add(v, s, position)
            hours += shift.duration_hours
            if vol.max_shifts is not None and len(taken) >= vol.max_shifts:
                break
            if vol.max_hours is not None and (vol.max_hours - hours) * 3600 < shortest_s:
                break
    clock.lap("signup")
    return solution_dict(roster, "FEASIBLE", clock.now(), {"method": "greedy", "seed": seed})


def main(argv: Sequence[str] | None = None) -> int:
    from matcher.problem_io import load_problem

    args = cli("python -m benchmarks.peers.greedy", __doc__ or "", argv)
    clock = Clock()
    problem = load_problem(args.problem)
    clock.lap("load")
    solution = greedy(problem, seed=args.seed, clock=clock)
    write_json(solution, args.output)
    clock.lap("written")
    if args.stats:
        write_json({"method": "greedy", "laps": clock.laps}, args.stats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
