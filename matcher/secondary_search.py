"""Large-neighbourhood search on the secondary costs (travel first) with the fill held."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from matcher import _cpsat
from matcher import candidates as cand

if TYPE_CHECKING:
    from matcher.solver import _Prepared, _State

REGION_SIZE = 110  # volunteers + positions of one region
REGION_CANDIDATES = 8  # cheapest candidate volunteers taken into a region per position
REGION_DTIME = 0.5  # CP-SAT deterministic time per region (the small models end far earlier)
REGION_DTIME_PER_ARC = 1e-5  # budget charged per variable for building a region's model
# One worker (deterministic without interleaving), a light presolve (one pass, no probing, no
# symmetries: on models this small the full presolve costs more than the search) and the full
# LP relaxation (assignment problems with side constraints: its bound closes them quickly).
LIGHT_PARAMS: dict[str, object] = {
    "num_workers": 1,
    "interleave_search": False,
    "cp_model_probing_level": 0,
    "symmetry_level": 0,
    "max_presolve_iterations": 1,
    "linearization_level": 2,
}


@dataclass
class SearchResult:
    """What the search did: regions solved and kept, cost saved, deterministic time spent."""

    regions: int = 0
    improved: int = 0
    saved: int = 0  # secondary cost units
    dtime: float = 0.0


def improve_secondary(
    state: _State,
    prep: _Prepared,
    guide_cost: np.ndarray,
    *,
    seed_positions: np.ndarray,
    seed: int,
    dtime_budget: float,
    deadline: float,
    region_size: int = REGION_SIZE,
) -> SearchResult:
    """Lower the roster's secondary cost by re-solving regions with CP-SAT, fill per level held.

    `guide_cost` is a reference cost per position (the flow relaxation's cheapest relaxed
    roster at the same fill): positions whose holders cost more than it are the seeds, most
    excess first, among `seed_positions` (a boolean mask); when a pass over them improves
    nothing, one pass seeds from every position, dearest holders first. A region grows from
    a seed position breadth first: the position's holders and its cheapest candidate
    volunteers, then the positions those volunteers hold, and so on, up to `region_size`
    volunteers and positions. Every non-locked place of the region's volunteers is freed and
    CP-SAT assigns them again to the region's positions and to positions with a free place
    (places held by others and locked pairs stay) under every rule, with at least as many
    places per priority level as before, minimising the exact secondary cost (pairs,
    fairness, same institution); the result is kept when it is lexicographically better
    (places by level, then cost). Passes repeat while a region improves; a seed whose last
    region is unchanged since it was solved is skipped.

    Deterministic: the budget is CP-SAT's deterministic time plus a charge per model
    variable; `deadline` (wall clock) is only a safety net.
    """
    out = SearchResult()
    if not state.pair_pos or dtime_budget <= 0:
        return out
    search = _Search(state, prep)
    solved_at: dict[int, tuple[int, list[int]]] = {}  # seed -> (stamp, its region's positions)
    broad = False  # a pass over every position, after a pass over the excess ones found nothing
    while True:
        excess = search.pos_cost - guide_cost
        if broad:
            # the repair may have dropped the wrong place: any position, dearest holders first
            seeds = np.flatnonzero(seed_positions)
            seeds = seeds[np.lexsort((seeds, -search.pos_cost[seeds]))].tolist()
        else:
            seeds = np.flatnonzero(seed_positions & (excess > 0))
            seeds = seeds[np.lexsort((seeds, -excess[seeds]))].tolist()
        covered: set[int] = set()
        improved = False
        for q0 in seeds:
            if out.dtime >= dtime_budget or time.perf_counter() >= deadline:
                return out
            if q0 in covered:
                continue
            last = solved_at.get(q0)
            if last is not None and all(search.changed_at[q] < last[0] for q in last[1]):
                continue  # nothing in its last region changed since: the same optimum
            vols, qs = search.grow(q0, region_size)
            covered.update(qs)
            stamp = search.stamp
            search.stamp += 1
            saved, dtime, qs = search.solve_region(
                vols,
                qs,
                seed=seed,
                dtime=min(REGION_DTIME, dtime_budget - out.dtime),
                deadline=deadline,
            )
            solved_at[q0] = (stamp, qs)
            out.regions += 1
            out.dtime += dtime
            if saved is not None:
                out.improved += 1
                out.saved += saved
                improved = True
        if improved:
            broad = False
        elif broad:
            return out
        else:
            broad = True


class _Search:
    """State of the search: holders and holder cost per position, change stamps, caches."""

    def __init__(self, state: _State, prep: _Prepared) -> None:
        self.state = state
        self.prep = prep
        n_pos = len(prep.positions)
        self.pos_cost = np.zeros(n_pos, dtype=np.int64)
        self.holders: dict[int, set[int]] = {}
        pv, pcost = state.pv_l, prep.pcost
        for p, q in state.pair_pos.items():
            self.holders.setdefault(q, set()).add(pv[p])
            self.pos_cost[q] += int(pcost[p])
        self.changed_at = [-1] * n_pos
        self.stamp = 0
        self.cand_cache: dict[int, list[int]] = {}
        self.locked_of: dict[int, list[int]] = {}
        for lk, v in enumerate(prep.lk_v.tolist()):
            self.locked_of.setdefault(v, []).append(lk)
        self.locked_fill: dict[int, int] = {}
        for q in state.locked_pos.values():
            self.locked_fill[q] = self.locked_fill.get(q, 0) + 1

    def candidates(self, q: int) -> list[int]:
        """Volunteers who may fill position q, cheapest pair first."""
        got = self.cand_cache.get(q)
        if got is None:
            state, pcost = self.state, self.prep.pcost
            pairs = [state.a_pair_l[a] for a in state._arcs_at(q)]
            pairs.sort(key=lambda p: (int(pcost[p]), p))
            got = self.cand_cache[q] = [state.pv_l[p] for p in pairs]
        return got

    def grow(self, q0: int, size: int) -> tuple[list[int], list[int]]:
        """Volunteers and positions (both sorted) of the region around position q0."""
        state = self.state
        vols: list[int] = []
        seen_v: set[int] = set()
        qs = [q0]
        seen_q = {q0}
        queue = deque([q0])
        while queue and len(vols) + len(qs) < size:
            q = queue.popleft()
            for v in sorted(self.holders.get(q, ())) + self.candidates(q)[:REGION_CANDIDATES]:
                if v in seen_v:
                    continue
                seen_v.add(v)
                vols.append(v)
                for p in sorted(state.vol_pairs.get(v, ())):
                    held = state.pair_pos[p]
                    if held not in seen_q:
                        seen_q.add(held)
                        qs.append(held)
                        queue.append(held)
        return sorted(vols), sorted(qs)

    def _vol_cost(self, v: int, pairs: list[int]) -> int:
        """Secondary cost of volunteer v working `pairs` (and their locked shifts)."""
        prep = self.prep
        cost = sum(int(prep.pcost[p]) for p in pairs)
        base = int(prep.v_locked[v])
        cost += prep.fairness_unit * ((base + len(pairs)) ** 2 - base**2)
        if prep.same_institution_unit:
            inst = prep.arr.s_inst
            insts = {int(inst[prep.ps[p]]) for p in pairs}
            insts.update(int(inst[prep.lk_s[lk]]) for lk in self.locked_of.get(v, ()))
            cost += prep.same_institution_unit * max(len(insts) - 1, 0)
        return cost

    def _key(self, vols: list[int], pairs_of: dict[int, list[int]]) -> tuple[int, ...]:
        """Places by level from the highest, then minus the cost (larger is better)."""
        prep = self.prep
        levels = [0] * (prep.n_levels + 1)
        cost = 0
        for v in vols:
            mine = pairs_of.get(v, [])
            for p in mine:
                levels[int(prep.level[prep.ps[p]])] += 1
            cost += self._vol_cost(v, mine)
        return (*reversed(levels[1:]), -cost)

    def solve_region(
        self, vols: list[int], qs: list[int], *, seed: int, dtime: float, deadline: float
    ) -> tuple[int | None, float, list[int]]:
        """Re-solve the region with CP-SAT; apply it when better. Returns the cost saved (None:
        kept as it was), the deterministic time charged and the positions of the model."""
        state, prep = self.state, self.prep
        positions = prep.positions
        # arcs of the region's volunteers (contiguous: pairs and arcs are sorted by
        # volunteer) to the region's positions
        v_arr = np.asarray(vols, dtype=np.int64)
        p_lo, p_hi = state.pair_bounds[v_arr], state.pair_bounds[v_arr + 1]
        a_lo = np.searchsorted(prep.a_pair, p_lo, side="left")
        a_hi = np.searchsorted(prep.a_pair, p_hi, side="left")
        _, arcs = cand.expand_ranges(a_lo, a_hi)
        # ... and to positions with a free place (a volunteer may move there and leave theirs)
        a_pos = prep.a_pos[arcs]
        free = state.pos_fill[a_pos] < positions.capacity[a_pos]
        arcs = arcs[np.isin(a_pos, np.asarray(qs, dtype=np.int64)) | free]
        if not len(arcs):
            return None, 0.0, qs
        arc_pair_g = prep.a_pair[arcs]
        arc_pos = prep.a_pos[arcs]
        qs = np.unique(np.concatenate([np.asarray(qs, dtype=np.int64), arc_pos])).tolist()
        pairs, arc_pair = np.unique(arc_pair_g, return_inverse=True)
        v_set = set(vols)
        capacity = {}
        for q in qs:
            others = sum(1 for u in self.holders.get(q, ()) if u not in v_set)
            capacity[q] = max(int(positions.capacity[q]) - others - self.locked_fill.get(q, 0), 0)
        before = {v: sorted(state.vol_pairs.get(v, ())) for v in vols}
        hold: dict[int, int] = {}
        for mine in before.values():
            for p in mine:
                lv = int(prep.level[prep.ps[p]])
                hold[lv] = hold.get(lv, 0) + 1
        pair_pos = state.pair_pos
        hint = {
            i
            for i, (p, q) in enumerate(zip(arc_pair_g.tolist(), arc_pos.tolist(), strict=True))
            if pair_pos.get(p) == q
        }
        locked = [(v, lk) for v in vols for lk in self.locked_of.get(v, ())]
        model = _cpsat.ComponentModel(
            pair_vol=prep.pv[pairs],
            pair_shift=prep.ps[pairs],
            pair_start=prep.pstart[pairs],
            pair_end_rest=prep.pend_rest[pairs],
            pair_dur=prep.pdur[pairs],
            pair_cost=prep.pcost[pairs],
            pair_inst=prep.arr.s_inst[prep.ps[pairs]],
            arc_pair=arc_pair.astype(np.int64).reshape(-1),
            arc_pos=arc_pos,
            # the volunteers' locked shifts: fixed, only their institutions count here
            locked_vol=np.asarray([v for v, _ in locked], dtype=np.int64),
            locked_inst=np.asarray(
                [int(prep.arr.s_inst[prep.lk_s[lk]]) for _, lk in locked], dtype=np.int64
            ),
            locked_arc_lock=np.zeros(0, np.int64),
            locked_arc_pos=np.zeros(0, np.int64),
            locked_placed=0,
            pos_capacity=capacity,
            pos_level={q: int(prep.level[positions.shift[q]]) for q in qs},
            vol_max_shifts={v: int(prep.v_ms_rem[v]) for v in vols},
            vol_max_dur={v: int(prep.v_dur_rem[v]) for v in vols},
            vol_locked_count={v: int(prep.v_locked[v]) for v in vols},
            fairness_unit=prep.fairness_unit,
            same_institution_unit=prep.same_institution_unit,
            hint_arcs=hint,
        )
        res = _cpsat.solve_component(
            model,
            seed=seed,
            workers=1,
            deterministic_time=dtime,
            deadline=deadline,
            hold_levels=hold,
            overrides=LIGHT_PARAMS,
        )
        charged = res.dtime + REGION_DTIME_PER_ARC * len(arcs)
        if not res.improved:
            return None, charged, qs
        chosen = [(int(arc_pair_g[i]), int(arc_pos[i])) for i in res.arcs]
        after: dict[int, list[int]] = {}
        for p, _q in chosen:
            after.setdefault(state.pv_l[p], []).append(p)
        old_key = self._key(vols, before)
        new_key = self._key(vols, after)
        if new_key <= old_key:
            return None, charged, qs
        self._apply(before, chosen)
        return new_key[-1] - old_key[-1], charged, qs

    def _apply(self, before: dict[int, list[int]], chosen: list[tuple[int, int]]) -> None:
        state, pcost, pv = self.state, self.prep.pcost, self.state.pv_l
        old = {(p, state.pair_pos[p]) for mine in before.values() for p in mine}
        new = set(chosen)
        for p, q in sorted(old - new):
            state._remove(p)
            self.holders[q].discard(pv[p])
            self.pos_cost[q] -= int(pcost[p])
            self.changed_at[q] = self.stamp
        for p, q in sorted(new - old):
            state._add(p, q)
            self.holders.setdefault(q, set()).add(pv[p])
            self.pos_cost[q] += int(pcost[p])
            self.changed_at[q] = self.stamp


def flow_cost_by_position(prep: _Prepared, chosen_arcs: np.ndarray) -> np.ndarray:
    """Cost of the flow roster's holders per position (the search's guide)."""
    out = np.zeros(len(prep.positions), dtype=np.int64)
    if len(chosen_arcs):
        np.add.at(out, prep.a_pos[chosen_arcs], prep.pcost[prep.a_pair[chosen_arcs]])
    return out
