"""CP-SAT model of one independent component: exact fill first, then the secondary objective.

The model is exact for every hard rule: one place per position slot, one place per volunteer and
shift, no two clashing shifts (one at-most-one per maximal clique of the volunteer's interval
graph, where an interval is [start, end + min_rest)), caps on shifts and hours, and the locked
pairs placed in as many places as they can be (their count is fixed at the flow's maximum).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

MAX_COMBINED_WEIGHT = 2**50
FILL_SHARE = 0.6  # of the deterministic time for the fill phase(s), the rest for secondary


@dataclass
class ComponentModel:
    """Everything a component's CP-SAT model needs, as plain arrays and lists (local indices)."""

    # pairs (non-locked): volunteer, shift, start, end+rest, duration, cost, institution
    pair_vol: np.ndarray
    pair_shift: np.ndarray
    pair_start: np.ndarray
    pair_end_rest: np.ndarray
    pair_dur: np.ndarray
    pair_cost: np.ndarray
    pair_inst: np.ndarray
    # arcs of pairs: pair index, position id (global position ids)
    arc_pair: np.ndarray
    arc_pos: np.ndarray
    # locked pairs that take a place: volunteer, institution; arcs: locked index, position
    locked_vol: np.ndarray
    locked_inst: np.ndarray
    locked_arc_lock: np.ndarray
    locked_arc_pos: np.ndarray
    locked_placed: int  # how many locked pairs of the component take a place (the maximum)
    # positions: id -> (capacity, fill weight level)
    pos_capacity: dict[int, int]
    pos_level: dict[int, int]
    # volunteers (local ids are values of pair_vol / locked_vol): caps and fairness base
    vol_max_shifts: dict[int, int]  # -1 = no cap (remaining after locked shifts)
    vol_max_dur: dict[int, int]  # -1 = no cap (remaining duration, same unit as pair_dur)
    vol_locked_count: dict[int, int]
    fairness_unit: int
    same_institution_unit: int
    # hint: chosen arcs (indices into arc_*) and chosen locked arcs
    hint_arcs: set[int] = field(default_factory=set)
    hint_locked_arcs: set[int] = field(default_factory=set)
    # locked arcs to places the volunteer may not fill, per shift, and how many may be used
    locked_off_budget: list[tuple[list[int], int]] = field(default_factory=list)


@dataclass
class ComponentResult:
    """Outcome of the component's solve."""

    arcs: list[int]
    locked_arcs: list[int]
    fill_proven: bool
    secondary_proven: bool
    fill_bound: float | None  # bound on the component's number of places (single level only)
    improved: bool
    dtime: float = 0.0  # deterministic time CP-SAT used (all phases)


def _cliques(starts: list[int], ends: list[int], order: list[int]) -> list[list[int]]:
    """Maximal cliques (size >= 2) of intervals [start, end) given sorted by start."""
    cliques: list[list[int]] = []
    active: list[int] = []
    for k, i in enumerate(order):
        s = starts[i]
        active = [j for j in active if ends[j] > s]
        active.append(i)
        nxt = starts[order[k + 1]] if k + 1 < len(order) else None
        if (nxt is None or min(ends[j] for j in active) <= nxt) and len(active) >= 2:
            cliques.append(list(active))
    return cliques


def solve_component(
    m: ComponentModel,
    *,
    seed: int,
    workers: int,
    deterministic_time: float,
    deadline: float,
    fill_only: bool = False,
    hold_levels: dict[int, int] | None = None,
    overrides: dict[str, object] | None = None,
) -> ComponentResult:
    """Solve the component: maximise fill (by priority level), then minimise secondary costs.

    With `fill_only` (neighbourhood searches) only the lexicographic fill is optimised. With
    `hold_levels` (level -> places, those of the hint, known to be the most places) the fill
    phases are skipped: the places of each level are held at least there and the whole time
    goes to the secondary costs. `overrides` sets CP-SAT parameters (e.g. one worker and a
    light presolve for the secondary costs).
    """
    model = cp_model.CpModel()
    n_pairs = len(m.pair_vol)
    x = [model.new_bool_var(f"x{a}") for a in range(len(m.arc_pair))]
    xl = [model.new_bool_var(f"l{a}") for a in range(len(m.locked_arc_lock))]

    # per pair: y = sum of its arcs (at most one place of the shift)
    arcs_of_pair: list[list[int]] = [[] for _ in range(n_pairs)]
    for a, p in enumerate(m.arc_pair.tolist()):
        arcs_of_pair[p].append(a)
    y: list[cp_model.IntVar] = []
    for p in range(n_pairs):
        lits = [x[a] for a in arcs_of_pair[p]]
        if len(lits) == 1:
            y.append(lits[0])
        else:
            yp = model.new_bool_var(f"y{p}")
            model.add(sum(lits) == yp)
            y.append(yp)

    # locked pairs: each at most one place, and exactly the maximum number placed
    arcs_of_locked: dict[int, list[int]] = {}
    for a, lk in enumerate(m.locked_arc_lock.tolist()):
        arcs_of_locked.setdefault(lk, []).append(a)
    locked_y: dict[int, cp_model.LinearExprT] = {}
    for lk, arcs in arcs_of_locked.items():
        model.add_at_most_one(xl[a] for a in arcs)
        locked_y[lk] = sum(xl[a] for a in arcs)
    if xl:
        model.add(sum(xl) == m.locked_placed)
    for arcs, budget in m.locked_off_budget:
        model.add(sum(xl[a] for a in arcs) <= budget)

    # position capacities
    by_pos: dict[int, list[cp_model.IntVar]] = {}
    for a, q in enumerate(m.arc_pos.tolist()):
        by_pos.setdefault(q, []).append(x[a])
    for a, q in enumerate(m.locked_arc_pos.tolist()):
        by_pos.setdefault(q, []).append(xl[a])
    for q, lits in by_pos.items():
        cap = m.pos_capacity[q]
        if len(lits) > cap:
            model.add(sum(lits) <= cap)

    # per volunteer: cliques of clashing shifts, caps
    starts = m.pair_start.tolist()
    ends = m.pair_end_rest.tolist()
    pairs_of_vol: dict[int, list[int]] = {}
    for p, v in enumerate(m.pair_vol.tolist()):
        pairs_of_vol.setdefault(v, []).append(p)
    for v, plist in pairs_of_vol.items():
        order = sorted(plist, key=lambda p: (starts[p], ends[p], p))
        for clique in _cliques(starts, ends, order):
            model.add_at_most_one(y[p] for p in clique)
        cap = m.vol_max_shifts.get(v, -1)
        if cap >= 0 and len(plist) > cap:
            model.add(sum(y[p] for p in plist) <= cap)
        dur_cap = m.vol_max_dur.get(v, -1)
        durs = [int(m.pair_dur[p]) for p in plist]
        if dur_cap >= 0 and sum(durs) > dur_cap:
            g = 0
            for d in [*durs, dur_cap]:
                g = math.gcd(g, d)
            g = max(g, 1)
            model.add(
                sum((d // g) * y[p] for d, p in zip(durs, plist, strict=True)) <= dur_cap // g
            )

    # fill objective: places by priority level, higher levels strictly first
    levels = sorted(set(m.pos_level.values()))
    level_terms: dict[int, list[cp_model.IntVar]] = {lv: [] for lv in levels}
    for a, q in enumerate(m.arc_pos.tolist()):
        level_terms[m.pos_level[q]].append(x[a])
    for a, q in enumerate(m.locked_arc_pos.tolist()):
        level_terms[m.pos_level[q]].append(xl[a])
    level_cap = {lv: 0 for lv in levels}
    for q, lv in m.pos_level.items():
        level_cap[lv] += m.pos_capacity[q]
    weights: dict[int, int] = {}
    w = 1
    for lv in levels:
        weights[lv] = w
        w *= level_cap[lv] + 1
    combined = w <= MAX_COMBINED_WEIGHT

    # hints
    for a in range(len(x)):
        model.add_hint(x[a], a in m.hint_arcs)
    for a in range(len(xl)):
        model.add_hint(xl[a], a in m.hint_locked_arcs)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = max(1, workers)
    params.interleave_search = True
    for key, value in (overrides or {}).items():
        setattr(params, key, value)
    # the fill's share split over the phases that run: the most places (a bound, with more
    # than one level), then one weighted phase or one per level; searches on regions
    # (`fill_only`) keep the split their budgets were tuned with, a part per level and one
    # more even where the levels are combined (6x more time there took the whole-component
    # step at 3 000 x 900 from 6 to 12 s and cost the last place)
    if fill_only:
        n_phases = len(levels) + (len(levels) > 1)
    else:
        n_phases = (1 if combined else len(levels)) + (len(levels) > 1 and hold_levels is None)
    params.max_deterministic_time = max(deterministic_time * FILL_SHARE / n_phases, 0.05)
    phases = (
        [sum(weights[lv] * t for lv in levels for t in level_terms[lv])]
        if combined
        else [sum(level_terms[lv]) for lv in reversed(levels)]
    )
    fill_proven = True
    fill_bound: float | None = None
    used = 0.0
    if hold_levels is not None:
        for lv in levels:
            if hold_levels.get(lv, 0):
                model.add(sum(level_terms[lv]) >= hold_levels[lv])
        phases = []
    if len(levels) > 1 and not fill_only and hold_levels is None:
        # the most places regardless of priority: a proven bound on the component's fill
        model.maximize(sum(t for lv in levels for t in level_terms[lv]))
        params.max_time_in_seconds = max(deadline - time.perf_counter(), 0.01)
        status = solver.solve(model)
        used += solver.deterministic_time
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            fill_bound = solver.best_objective_bound
            _rehint(model, solver, x, xl)
    for expr in phases:
        model.maximize(expr)
        params.max_time_in_seconds = max(deadline - time.perf_counter(), 0.01)
        status = solver.solve(model)
        used += solver.deterministic_time
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return ComponentResult(
                arcs=sorted(m.hint_arcs),
                locked_arcs=sorted(m.hint_locked_arcs),
                fill_proven=False,
                secondary_proven=False,
                fill_bound=None,
                improved=False,
                dtime=used,
            )
        if status != cp_model.OPTIMAL:
            fill_proven = False
        value = round(solver.objective_value)
        if len(levels) == 1:
            fill_bound = solver.best_objective_bound
        model.add(expr >= value)
        _rehint(model, solver, x, xl)
    if phases:
        arcs = [a for a in range(len(x)) if solver.boolean_value(x[a])]
        locked_arcs = [a for a in range(len(xl)) if solver.boolean_value(xl[a])]
    else:
        arcs = sorted(m.hint_arcs)
        locked_arcs = sorted(m.hint_locked_arcs)

    if fill_only:
        return ComponentResult(
            arcs=arcs,
            locked_arcs=locked_arcs,
            fill_proven=fill_proven,
            secondary_proven=False,
            fill_bound=None,
            improved=set(arcs) != m.hint_arcs or set(locked_arcs) != m.hint_locked_arcs,
            dtime=used,
        )
    # secondary objective at fixed fill
    cost_terms: list[cp_model.LinearExprT] = []
    for p in range(n_pairs):
        c = int(m.pair_cost[p])
        if c:
            cost_terms.append(c * y[p])
    if m.fairness_unit:
        for v, plist in pairs_of_vol.items():
            base = m.vol_locked_count.get(v, 0)
            cap = m.vol_max_shifts.get(v, -1)
            n = len(plist) if cap < 0 else min(cap, len(plist))
            if n <= 0:
                continue
            t = [model.new_bool_var(f"t{v}_{k}") for k in range(n)]
            model.add(sum(t) == sum(y[p] for p in plist))
            for k in range(n - 1):
                model.add(t[k] >= t[k + 1])
            for k in range(n):
                cost_terms.append(m.fairness_unit * (2 * (base + k + 1) - 1) * t[k])
    if m.same_institution_unit:
        locked_insts: dict[int, set[int]] = {}
        for lk, v in enumerate(m.locked_vol.tolist()):
            locked_insts.setdefault(v, set()).add(int(m.locked_inst[lk]))
        for v, plist in pairs_of_vol.items():
            insts: dict[int, list[int]] = {}
            for p in plist:
                insts.setdefault(int(m.pair_inst[p]), []).append(p)
            fixed = locked_insts.get(v, set())
            if len(insts.keys() | fixed) <= 1:
                continue
            zs = []
            for i, ps in sorted(insts.items()):
                if i in fixed:
                    continue
                z = model.new_bool_var(f"z{v}_{i}")
                for p in ps:
                    model.add_implication(y[p], z)
                zs.append(z)
            u = model.new_bool_var(f"u{v}")
            if fixed or m.vol_locked_count.get(v, 0):
                model.add(u == 1)
            else:
                model.add(u <= sum(y[p] for p in plist))
            cost_terms.append(m.same_institution_unit * (sum(zs) + len(fixed) - u))
    secondary_proven = True
    if cost_terms:
        share = 1.0 if hold_levels is not None else 1 - FILL_SHARE
        params.max_deterministic_time = max(deterministic_time * share, 0.05)
        model.minimize(sum(cost_terms))
        params.max_time_in_seconds = max(deadline - time.perf_counter(), 0.01)
        status = solver.solve(model)
        used += solver.deterministic_time
        secondary_proven = status == cp_model.OPTIMAL
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            arcs = [a for a in range(len(x)) if solver.boolean_value(x[a])]
            locked_arcs = [a for a in range(len(xl)) if solver.boolean_value(xl[a])]
    return ComponentResult(
        arcs=arcs,
        locked_arcs=locked_arcs,
        fill_proven=fill_proven,
        secondary_proven=secondary_proven and fill_proven,
        fill_bound=fill_bound,
        improved=set(arcs) != m.hint_arcs or set(locked_arcs) != m.hint_locked_arcs,
        dtime=used,
    )


def _rehint(model: cp_model.CpModel, solver: cp_model.CpSolver, x: list, xl: list) -> None:
    model.clear_hints()
    for var in x:
        model.add_hint(var, solver.boolean_value(var))
    for var in xl:
        model.add_hint(var, solver.boolean_value(var))
