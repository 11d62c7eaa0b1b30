"""Lagrangian bound on fill by column generation over a region of positions (configuration LP)."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.linear_solver import pywraplp

from matcher import candidates as cand

COLUMN_MIP_SOLVERS = ("CBC", "SCIP")  # the set packing over the master's columns, first found
COLUMN_MIP_MAX_S = 5.0  # ... and its wall-clock limit (a safety net: it takes 0.1-1 s)
MAX_ITERATIONS = 60  # column generation rounds (it converges in 10-20 on generated instances)
REDUCED_COST_EPS = 1e-7  # a column enters when its reduced cost exceeds this
BOUND_EPS = 1e-6  # floor(L + eps): float sums of duals never cost a proven place


@dataclass
class Schedules:
    """Candidate pairs of some volunteers ordered for the schedule dynamic programme.

    Pairs of local volunteer i are `pairs[off[i]:off[i + 1]]`, ordered by (end + rest, start);
    `pred[j]` is the number of the same volunteer's pairs (in that order) ending, rest
    included, by the start of pair j: the prefix a schedule ending with j continues.
    """

    vols: np.ndarray  # local -> volunteer index
    pairs: np.ndarray  # global pair indices, grouped by local volunteer
    owner: np.ndarray  # local volunteer of each pair
    off: np.ndarray
    pred: np.ndarray
    dur: np.ndarray
    k: np.ndarray  # most shifts per local volunteer (caps and clashes)
    dur_cap: np.ndarray  # remaining duration cap (-1: none)
    start: np.ndarray
    end_rest: np.ndarray
    rounds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        vols: np.ndarray,
        pair_bounds: np.ndarray,
        pstart: np.ndarray,
        pend_rest: np.ndarray,
        pdur: np.ndarray,
        k_of_vol: np.ndarray,
        dur_rem: np.ndarray,
        keep: np.ndarray | None = None,
    ) -> Schedules:
        """The pairs of `vols` (those `keep` marks, when given: pairs that can never weigh
        anything are never taken, so leaving them out changes no schedule's value)."""
        lo, hi = pair_bounds[vols], pair_bounds[vols + 1]
        owner, idx = cand.expand_ranges(lo, hi)
        if keep is not None:
            sel = keep[idx]
            owner, idx = owner[sel], idx[sel]
        st, er = pstart[idx], pend_rest[idx]
        order = np.lexsort((st, er, owner))
        idx, owner, st, er = idx[order], owner[order], st[order], er[order]
        n_local = len(vols)
        off = np.searchsorted(owner, np.arange(n_local + 1))
        ranks = np.unique(np.concatenate([st, er]))
        span = len(ranks) + 1
        ke = owner * span + np.searchsorted(ranks, er)
        ks = owner * span + np.searchsorted(ranks, st)
        pred = np.searchsorted(ke, ks, side="right") - off[owner]
        sched = cls(
            vols=vols,
            pairs=idx,
            owner=owner,
            off=off,
            pred=pred,
            dur=pdur[idx],
            k=k_of_vol[vols].astype(np.int64),
            dur_cap=dur_rem[vols].astype(np.int64),
            start=st,
            end_rest=er,
        )
        # round r extends the prefixes of every volunteer with at least r pairs
        cnt = np.diff(off)
        by_count = np.argsort(-cnt, kind="stable")
        row_base = off[:-1] + np.arange(n_local)
        for r in range(1, int(cnt.max(initial=0)) + 1):
            act = by_count[: int(np.count_nonzero(cnt >= r))]
            j = off[act] + r - 1
            sched.rounds.append((j, row_base[act] + r, row_base[act] + pred[j]))
        return sched

    def best(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per local volunteer: the most weight of a schedule keeping clashes, rest and
        max_shifts (weights `w` per pair, >= 0), its duration, and the take table."""
        n_local = len(self.vols)
        kmax = int(self.k.max(initial=0))
        rows = len(self.pairs) + n_local
        f = np.zeros((rows, kmax + 1))
        d = np.zeros((rows, kmax + 1), dtype=np.int64)
        take = np.zeros((rows, kmax + 1), dtype=bool)
        for j, rn, rq in self.rounds:
            a = f[rq, :kmax] + w[j, None]
            b = f[rn - 1, 1:]
            t = a > b + 1e-12
            f[rn, 1:] = np.where(t, a, b)
            take[rn, 1:] = t
            d[rn, 1:] = np.where(t, d[rq, :kmax] + self.dur[j, None], d[rn - 1, 1:])
        final = self.off[1:] + np.arange(n_local)
        return f[final, self.k], d[final, self.k], take

    def backtrack(self, take: np.ndarray, i: int) -> list[int]:
        """Local pair indices of volunteer i's best schedule found by :meth:`best`."""
        base = int(self.off[i]) + i
        r = int(self.off[i + 1] - self.off[i])
        k = int(self.k[i])
        out: list[int] = []
        while r > 0 and k > 0:
            if take[base + r, k]:
                j = int(self.off[i]) + r - 1
                out.append(j)
                r = int(self.pred[j])
                k -= 1
            else:
                r -= 1
        return out[::-1]

    def best_with_hours(self, w: np.ndarray, i: int) -> tuple[float, list[int]]:
        """Exact best schedule of local volunteer i with the duration cap too (a DP over
        prefixes keeping Pareto-optimal (shifts, duration, weight) states)."""
        lo, hi = int(self.off[i]), int(self.off[i + 1])
        js = [j for j in range(lo, hi) if w[j] > 0]
        if not js:
            return 0.0, []
        k_cap = int(self.k[i])
        h_cap = int(self.dur_cap[i])
        ends = [int(self.end_rest[j]) for j in js]
        # states of each prefix: (count, duration, -weight, chain)
        states: list[list[tuple[int, int, float, tuple | None]]] = [[(0, 0, 0.0, None)]]
        for t, j in enumerate(js):
            p = bisect.bisect_right(ends, int(self.start[j]), 0, t)
            dj, wj = int(self.dur[j]), float(w[j])
            new = list(states[t])
            for cnt, dur, neg, chain in states[p]:
                if cnt < k_cap and dur + dj <= h_cap:
                    new.append((cnt + 1, dur + dj, neg - wj, (j, chain)))
            new.sort(key=lambda s: (s[2], s[1], s[0]))
            kept: list[tuple[int, int, float, tuple | None]] = []
            for s in new:
                if not any(o[0] <= s[0] and o[1] <= s[1] and o[2] <= s[2] + 1e-12 for o in kept):
                    kept.append(s)
            states.append(kept)
        best = min(states[-1], key=lambda s: (s[2], s[1], s[0]))
        out: list[int] = []
        chain = best[3]
        while chain is not None:
            j, chain = chain
            out.append(j)
        return -best[2], out[::-1]


@dataclass
class RegionResult:
    """What column generation proved and found on a region."""

    bound: dict[int, int]  # component -> proven bound on its places (only improved ones)
    support: list[int]  # pairs of columns the last master used (for a primal search)
    generated: list[int]  # pairs of every column generated
    schedules: list[tuple[int, list[tuple[int, int]]]]  # priced columns: volunteer, (pair, pos)
    iterations: int
    converged: bool


def region_bound(
    *,
    sched: Schedules,
    a_bounds: np.ndarray,
    a_pos: np.ndarray,
    capacity: np.ndarray,
    closed: np.ndarray,
    region: np.ndarray,
    comp_of_vol: np.ndarray,
    comp_of_pos: np.ndarray,
    locked_arcs: list[tuple[int, list[int]]],
    base: dict[int, float],
    filled: dict[int, int],
    current: dict[int, list[tuple[int, int]]],
    deadline: float,
) -> RegionResult:
    """Minimise the Lagrangian bound over the multipliers of the region's positions.

    Relaxing every position's capacity with multipliers lambda >= 0 gives, for any lambda,

        places <= sum_q lambda_q cap_q + sum_v max_S sum_{s in S} max_q (1 - lambda_q)

    (S over the volunteer's valid schedules, q over the positions the pair may take; one term
    per locked pair too). The cut bound is lambda = 1 on the cut's positions, 0 elsewhere.
    Here lambda stays at those values outside `region` and is optimised inside it by column
    generation: the master LP has one column per (volunteer, schedule), its duals on the
    region's capacity rows are the next multipliers, and each volunteer's best schedule
    (`Schedules`) prices a new column. Every iteration's multipliers give a valid bound, per
    component; the best is kept. `base[c]` is the part of component c's cut bound that does
    not depend on the region (positions outside it, volunteers and locked pairs not
    touching it); `current` maps local volunteers to their roster (local pair, position).
    """
    lam_cut = closed.astype(np.float64)
    in_region = np.zeros(len(capacity), dtype=bool)
    in_region[region] = True
    row_of_pos = np.full(len(capacity), -1, dtype=np.int64)
    row_of_pos[region] = np.arange(len(region))
    # arcs of the region's volunteers' pairs, grouped by local pair
    arc_owner, arc_idx = cand.expand_ranges(a_bounds[sched.pairs], a_bounds[sched.pairs + 1])
    arc_q = a_pos[arc_idx]
    starts = np.searchsorted(arc_owner, np.arange(len(sched.pairs)))
    has_arc = np.diff(np.r_[starts, len(arc_owner)]) > 0

    def weights(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w_arc = 1.0 - lam[arc_q]
        w = np.zeros(len(sched.pairs))
        if len(arc_q):
            w[has_arc] = np.maximum.reduceat(w_arc, starts[has_arc])
        w = np.maximum(w, 0.0)
        best = np.flatnonzero(w_arc >= w[arc_owner] - 1e-12)
        first_owner, first = np.unique(arc_owner[best], return_index=True)
        pos_of = np.full(len(sched.pairs), -1, dtype=np.int64)
        pos_of[first_owner] = arc_q[best[first]]
        return w, pos_of

    n_comp_keys = sorted(base)
    comp_local = comp_of_vol[sched.vols]

    def evaluate(
        lam: np.ndarray,
    ) -> tuple[dict[int, float], np.ndarray, np.ndarray, dict[int, list[int]], np.ndarray]:
        """Per component bound at `lam`, each volunteer's best value, the DP's take table,
        exact schedules of those the hour cap binds, and the best position of every pair."""
        w, pos_of = weights(lam)
        val, dur, take = sched.best(w)
        hours = np.flatnonzero((sched.dur_cap >= 0) & (dur > sched.dur_cap))
        exact: dict[int, list[int]] = {}
        for i in hours.tolist():
            val[i], exact[i] = sched.best_with_hours(w, i)
        n_bins = max(n_comp_keys, default=0) + 1
        by_vol = np.bincount(comp_local, weights=val, minlength=n_bins)
        by_pos = np.bincount(
            comp_of_pos[region], weights=lam[region] * capacity[region], minlength=n_bins
        )
        total = {c: base[c] + float(by_vol[c]) + float(by_pos[c]) for c in n_comp_keys}
        for c, qs in locked_arcs:
            total[c] += max(0.0, max(1.0 - float(lam[q]) for q in qs))
        return total, val, take, exact, pos_of

    solver = pywraplp.Solver.CreateSolver("GLOP")
    # GLOP's presolve would rebuild the problem at every solve and lose the previous basis;
    # without it each solve after new columns starts from the last optimum (15x faster)
    solver.SetSolverSpecificParametersAsString("use_preprocessing: false")
    vol_rows = [solver.Constraint(0.0, 1.0) for _ in range(len(sched.vols))]
    pos_rows = [solver.Constraint(0.0, float(capacity[q])) for q in region.tolist()]
    objective = solver.Objective()
    objective.SetMaximization()
    columns: list[tuple[pywraplp.Variable, list[int]]] = []  # variable, global pairs
    schedules: list[tuple[int, list[tuple[int, int]]]] = []

    def add_column(row: pywraplp.Constraint, entries: list[tuple[int, int]]) -> None:
        x = solver.NumVar(0.0, solver.infinity(), "")
        row.SetCoefficient(x, 1.0)
        gain = 0
        for _j, q in entries:
            r = int(row_of_pos[q])
            if r >= 0:
                pos_rows[r].SetCoefficient(x, 1.0)
                gain += 1
            elif not closed[q]:
                gain += 1
        objective.SetCoefficient(x, float(gain))
        columns.append((x, [int(sched.pairs[j]) for j, _q in entries if j >= 0]))

    for _c, qs in locked_arcs:
        row = solver.Constraint(0.0, 1.0)
        for q in qs:
            add_column(row, [(-1, q)])
    for i, entries in current.items():
        add_column(vol_rows[i], entries)

    lam = lam_cut.copy()
    best_total: dict[int, float] = {c: float("inf") for c in n_comp_keys}
    iterations = 0
    converged = False
    solved_columns = -1  # columns of the master when it was last solved to optimality
    duals = np.zeros(len(sched.vols))
    while iterations < MAX_ITERATIONS and time.perf_counter() < deadline:
        total, val, take, exact, pos_of = evaluate(lam)
        for c in n_comp_keys:
            best_total[c] = min(best_total[c], total[c])
        if all(np.floor(best_total[c] + BOUND_EPS) <= filled.get(c, 0) for c in n_comp_keys):
            break  # every component proven at its fill: nothing more to prove
        added = 0
        for i in np.flatnonzero(val > duals + REDUCED_COST_EPS).tolist():
            js = exact[i] if i in exact else sched.backtrack(take, i)
            entries = [(j, int(pos_of[j])) for j in js]
            add_column(vol_rows[i], entries)
            schedules.append((int(sched.vols[i]), [(int(sched.pairs[j]), q) for j, q in entries]))
            added += 1
        iterations += 1
        if not added:
            converged = True  # no column prices out: the master's value is the LP optimum
            break
        if solver.Solve() != pywraplp.Solver.OPTIMAL:
            break
        solved_columns = len(columns)
        lam = lam_cut.copy()
        lam[region] = np.clip([r.dual_value() for r in pos_rows], 0.0, 1.0)
        duals = np.array([r.dual_value() for r in vol_rows])
    support: set[int] = set()
    if solved_columns == len(columns):  # the master's solution is of its current columns
        for x, pairs in columns:
            if x.solution_value() > 1e-6:
                support.update(pairs)
    bound = {
        c: int(np.floor(best_total[c] + BOUND_EPS))
        for c in n_comp_keys
        if best_total[c] != float("inf")
    }
    generated = sorted({p for _x, pairs in columns for p in pairs})
    return RegionResult(
        bound=bound,
        support=sorted(support),
        generated=generated,
        schedules=schedules,
        iterations=iterations,
        converged=converged,
    )


def pack_columns(
    columns: list[tuple[int, list[tuple[int, int]]]],
    capacity: dict[int, int],
    level_of: Callable[[int], int],
    hold: dict[int, int],
    hint: list[int],
    deadline: float,
) -> list[int] | None:
    """The most places from at most one column (volunteer, [(pair, position)]) per
    volunteer, within `capacity` per position, with at least `hold[l]` places at or above
    each level l (`level_of(pair)`): a set packing MIP over the master's columns (CBC, or
    SCIP where CBC is missing), solved to a zero gap. Among packings with the most places
    the one keeping most `hint` columns (the current roster) wins, so nobody moves for
    nothing. The chosen columns, or None when no solver is found or it finds no solution by
    `deadline` (at most `COLUMN_MIP_MAX_S` from now).

    The configuration LP is often nearly integral where the fill searches stall (a
    53 000-pair component: LP 2 031, CP-SAT on its pairs still 2 028 after 300 s, this MIP
    on the columns 2 031 in 2 s): the columns hold the roster, a search over their pairs
    does not find it.
    """
    if not columns or time.perf_counter() >= deadline:
        return None
    solver = next(
        (sv for name in COLUMN_MIP_SOLVERS if (sv := pywraplp.Solver.CreateSolver(name))), None
    )
    if solver is None:
        return None
    x = [solver.BoolVar("") for _ in columns]
    by_vol: dict[int, list[pywraplp.Variable]] = {}
    by_pos: dict[int, list[pywraplp.Variable]] = {}
    at_level: dict[int, list[tuple[pywraplp.Variable, int]]] = {lv: [] for lv in hold}
    for var, (v, entries) in zip(x, columns, strict=True):
        by_vol.setdefault(v, []).append(var)
        for _p, q in entries:
            by_pos.setdefault(q, []).append(var)
        if at_level:
            levels = [level_of(p) for p, _q in entries]
            for lv, terms in at_level.items():
                n = sum(1 for level in levels if level >= lv)
                if n:
                    terms.append((var, n))
    for vs in by_vol.values():
        solver.Add(sum(vs) <= 1)
    for q, vs in sorted(by_pos.items()):
        solver.Add(sum(vs) <= capacity[q])
    for lv, terms in sorted(at_level.items()):
        solver.Add(sum(n * var for var, n in terms) >= hold[lv])
    # one place outweighs keeping every current column (integer coefficients, zero gap)
    keep = set(hint)
    unit = len(keep) + 1
    objective = solver.Objective()
    for i, (var, (_v, entries)) in enumerate(zip(x, columns, strict=True)):
        objective.SetCoefficient(var, float(unit * len(entries) + (i in keep)))
    objective.SetMaximization()
    solver.SetHint(x, [1.0 if i in keep else 0.0 for i in range(len(x))])
    limit = min(deadline - time.perf_counter(), COLUMN_MIP_MAX_S)
    solver.SetTimeLimit(max(1, int(limit * 1000)))
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
    status = solver.Solve(params)
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return None
    return [i for i, var in enumerate(x) if var.solution_value() > 0.5]
