"""Shared parts of the peer methods: a fast candidate prefilter, fill scoring and v1 output.

The prefilter only narrows the search (distance with a small slack, availability windows); every
pair a peer keeps is confirmed by `matcher.eligibility`, the single home of the matching rules.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher import eligibility
from matcher.model import FORMAT, Problem, Shift

EARTH_RADIUS_KM = eligibility.EARTH_RADIUS_KM
SLACK_KM = 0.01  # the prefilter keeps pairs up to this much beyond the radius; rules decide


def haversine_np(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) from one point to many, same formula as eligibility."""
    p1 = math.radians(lat1)
    p2 = np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2.0) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


class CandidateIndex:
    """Arrays over a problem's institutions and shifts for per-volunteer candidate lookups."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        inst_pos = {inst.id: i for i, inst in enumerate(problem.institutions)}
        self.inst_lat = np.array([i.lat for i in problem.institutions], dtype=np.float64)
        self.inst_lon = np.array([i.lon for i in problem.institutions], dtype=np.float64)
        self.inst_pos = inst_pos
        shifts = problem.shifts
        self.shift_inst = np.array([inst_pos[s.institution_id] for s in shifts], dtype=np.int64)
        self.shift_start = np.array([int(s.start.timestamp()) for s in shifts], dtype=np.int64)
        self.shift_end = np.array([int(s.end.timestamp()) for s in shifts], dtype=np.int64)
        # shifts grouped by institution: order[offset[i]:offset[i] + count[i]]
        self.order = np.argsort(self.shift_inst, kind="stable")
        self.count = np.bincount(self.shift_inst, minlength=len(problem.institutions))
        self.offset = np.concatenate(([0], np.cumsum(self.count)[:-1])).astype(np.int64)

    def candidates(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        """Shift indices that may suit volunteer `v`, and the distance (km) to each one.

        A superset of the eligible shifts: within the travel radius (plus SLACK_KM) and wholly
        inside one availability window (ends included); the other rules are left to eligibility.
        """
        vol = self.problem.volunteers[v]
        empty = np.empty(0, dtype=np.int64)
        if not vol.availability or len(self.inst_lat) == 0:
            return empty, np.empty(0)
        dist = haversine_np(vol.lat, vol.lon, self.inst_lat, self.inst_lon)
        near = np.flatnonzero(dist <= vol.max_travel_km + SLACK_KM)
        near = near[self.count[near] > 0]
        if near.size == 0:
            return empty, np.empty(0)
        counts = self.count[near]
        total = int(counts.sum())
        base = np.repeat(self.offset[near] - np.cumsum(counts) + counts, counts)
        idx = self.order[base + np.arange(total)]
        starts = self.shift_start[idx]
        ends = self.shift_end[idx]
        covered = np.zeros(total, dtype=bool)
        for window in vol.availability:
            ws, we = window.start.timestamp(), window.end.timestamp()
            covered |= (starts >= ws) & (ends <= we)
        idx = idx[covered]
        return idx, dist[self.shift_inst[idx]]


def priority_weights(problem: Problem) -> dict[int, int]:
    """Integer weight per priority: one place of a higher priority outweighs all lower ones."""
    demand: dict[int, int] = {}
    for shift in problem.shifts:
        demand[shift.priority] = demand.get(shift.priority, 0) + shift.needed
    weights: dict[int, int] = {}
    below = 0  # the most that all lower priorities together can score
    for level in sorted(demand):
        weights[level] = below + 1
        below += weights[level] * demand[level]
    return weights


def fill_score(problem: Problem, shift_ids: Iterable[str]) -> int:
    """Lexicographic fill score (priority-weighted count) of the filled places."""
    weights = priority_weights(problem)
    by_id = problem.shift_by_id
    return sum(weights[by_id[sid].priority] for sid in shift_ids)


@dataclass
class Roster:
    """Assignments being built by a peer, with remaining places per (shift, position)."""

    problem: Problem
    left: list[dict[str | None, int]] = field(init=False)
    free: np.ndarray = field(init=False)
    pairs: list[tuple[int, int, str | None]] = field(default_factory=list)
    taken: list[list[Shift]] = field(init=False)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.left = []
        for shift in self.problem.shifts:
            places: dict[str | None, int] = {k: int(n) for k, n in shift.required_skills.items()}
            places[None] = shift.open_places
            self.left.append(places)
        self.free = np.array([s.needed for s in self.problem.shifts], dtype=np.int64)
        self.taken = [[] for _ in self.problem.volunteers]

    def free_position(self, v: int, s: int) -> tuple[bool, str | None]:
        """(True, position) for the first position of `s` open to `v` with a place left."""
        vol = self.problem.volunteers[v]
        shift = self.problem.shifts[s]
        for position in eligibility.positions_for(vol, shift):
            if self.left[s].get(position, 0) > 0:
                return True, position
        return False, None

    def add(self, v: int, s: int, position: str | None) -> None:
        self.pairs.append((v, s, position))
        self.taken[v].append(self.problem.shifts[s])
        if self.left[s].get(position, 0) > 0:
            self.left[s][position] -= 1
            self.free[s] -= 1


def place_locked(
    roster: Roster, vol_pos: Mapping[str, int], shift_pos: Mapping[str, int]
) -> set[tuple[int, int]]:
    """Put every locked pair on the roster first (rule 8); report broken rules as warnings."""
    problem = roster.problem
    done: set[tuple[int, int]] = set()
    for pair in problem.locked:
        v, s = vol_pos[pair.volunteer_id], shift_pos[pair.shift_id]
        vol, shift = problem.volunteers[v], problem.shifts[s]
        found, position = roster.free_position(v, s)
        reasons = list(eligibility.pair_reasons(vol, shift, problem.institution_of(shift)))
        reasons += eligibility.schedule_reasons(
            vol, shift, roster.taken[v], problem.settings.min_rest_minutes
        )
        if not found:
            reasons.append("no place left")
        if reasons:
            roster.warnings.append(
                f"locked pair {pair.volunteer_id} / {pair.shift_id} kept although it breaks: "
                + ", ".join(reasons)
            )
        roster.add(v, s, position)
        done.add((v, s))
    return done


def solution_dict(
    roster: Roster, status: str, seconds: float, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The roster as a v1 solution; peers prove no bound, so upper_bound is the demand."""
    problem = roster.problem
    vols, shifts = problem.volunteers, problem.shifts
    assignments = sorted(
        (
            {"volunteer_id": vols[v].id, "shift_id": shifts[s].id, "position": p}
            for v, s, p in roster.pairs
        ),
        key=lambda a: (a["shift_id"], a["volunteer_id"]),
    )
    unfilled = []
    for s, places in enumerate(roster.left):
        for position in sorted(places, key=lambda p: (p is None, p or "")):
            if places[position] > 0:
                unfilled.append(
                    {
                        "shift_id": shifts[s].id,
                        "position": position,
                        "missing": places[position],
                        "reasons": {},
                    }
                )
    kms = [
        eligibility.distance_km(vols[v], problem.institution_of(shifts[s]))
        for v, s, _ in roster.pairs
    ]
    by_priority: dict[str, int] = {}
    for _, s, _ in roster.pairs:
        key = str(shifts[s].priority)
        by_priority[key] = by_priority.get(key, 0) + 1
    demand = problem.demand
    if demand == 0:
        status = "EMPTY"
    elif len(roster.pairs) >= demand:
        status = "FILL_OPTIMAL"  # everything filled: the trivial bound is met
    metrics: dict[str, Any] = {
        "demand": demand,
        "filled": len(roster.pairs),
        "upper_bound": demand,
        "status": status,
        "solve_seconds": round(seconds, 3),
        "mean_km": round(sum(kms) / len(kms), 3) if kms else None,
        "filled_by_priority": by_priority,
    }
    metrics.update(extra or {})
    return {
        "format": FORMAT,
        "assignments": assignments,
        "unfilled": unfilled,
        "metrics": metrics,
        "warnings": roster.warnings,
    }


def cli(
    prog: str, description: str, argv: Sequence[str] | None, with_threads: bool = False
) -> argparse.Namespace:
    """Command line of the peers: PROBLEM [-o OUT] [--seed N] [--time-limit S] [--stats F]."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("problem", help="v1 problem JSON file")
    parser.add_argument("-o", "--output", default=None, help="solution file (default: stdout)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--stats", default=None, help="write timing details as JSON here")
    if with_threads:
        parser.add_argument("--threads", type=int, default=None)
    return parser.parse_args(argv)


def write_json(data: Any, path: str | None) -> None:
    """Write JSON to a file, or to stdout when path is None."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if path is None:
        sys.stdout.write(text + "\n")
    else:
        Path(path).write_text(text + "\n", encoding="utf-8")


class Clock:
    """Seconds since the process started work, with named laps for the stats file."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.laps: dict[str, float] = {}

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def lap(self, name: str) -> None:
        self.laps[name] = round(self.now(), 3)
