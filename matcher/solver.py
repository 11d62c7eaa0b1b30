"""The solver: flow relaxation for a proven fill bound, repair, exact CP-SAT per component.

Pipeline (docs/solver.md explains why each step is exact or a valid bound):

1. candidate pairs (vectorised, :mod:`matcher.candidates`); locked pairs are taken out of the
   candidates, every candidate clashing with a volunteer's locked shift is dropped and the
   volunteer's caps are reduced by the locked shifts;
2. a max flow on a relaxation (source -> volunteer -> clique group -> position -> sink)
   gives a proven upper bound on fill (per priority level), and a min-cost flow with exactly
   those level counts the cheapest relaxed roster;
3. the roster is checked against the rules the relaxation does not express (clashes across
   groups, hour caps, two places of one shift); broken volunteers keep their best feasible subset
   and freed places are refilled through augmenting chains that keep every rule;
4. components (volunteers and shifts linked by candidate pairs) whose fill is below their flow
   bound, or whose secondary optimum is not proven, go to CP-SAT when small enough: fill is
   maximised first, then held while the secondary objective is minimised;
5. with the fill held, the secondary costs of the components still unproven: CP-SAT (one
   worker, LP-based) where the model is small enough, then a neighbourhood search
   (:mod:`matcher.secondary_search`) on the rest.

When the flows of step 2 may not end within the time limit, they run in a forked process
while a quick greedy roster is built here (:mod:`matcher._anytime`); without them in time, that
roster, improved by the chains of step 3, is the solution, with a simpler proven bound.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from scipy import sparse
from scipy.sparse import csgraph

from matcher import _anytime, _colgen, _cpsat, explain, secondary_search
from matcher import candidates as cand
from matcher.eligibility import caps_reasons, clash, pair_reasons
from matcher.model import Assignment, Metrics, Problem, Solution

COST_SCALE = 10  # integer cost units per km-equivalent of the weights
CPSAT_SHARE = 0.6  # CP-SAT may use the time limit up to this fraction (deterministic time)
CPSAT_WALL_SHARE = 0.75  # ... and must stop by this fraction of it on the wall clock
CPSAT_DTIME_BASE = 0.25  # deterministic time of one component: base + per pair
CPSAT_DTIME_PER_PAIR = 0.0002
DEFAULT_TIME_LIMIT_S = 30.0
CPSAT_MAX_PAIRS = 3000  # components short of their flow bound get CP-SAT up to this size
CPSAT_SECONDARY_MAX_PAIRS = 1500  # ... and those whose secondary optimum is not proven
CPSAT_TOTAL_PAIRS = 60000  # at most this many pairs over all CP-SAT components of one solve
CPSAT_RETRY_FACTOR = 4.0  # a component whose fill CP-SAT did not prove: again with 4x the time,
CPSAT_RETRY_SHARE = 0.1  # ... while this share of the limit lasts (deterministic time, in all)
CPSAT_SECONDARY_ONLY_MAX_VARS = 20000  # secondary costs alone by CP-SAT up to this model size
CPSAT_SECONDARY_DTIME_PER_VAR = 0.00012  # ... with this deterministic time per variable
SECONDARY_SEARCH_DTIME = 0.5  # neighbourhood search on the secondary costs (deterministic time)
SECONDARY_SEARCH_FULL_AT_S = 20.0  # ... the whole budget from this time limit, less below
SECONDARY_SEARCH_WALL_SHARE = 0.8  # ... and it stops by this fraction of the limit (safety net)
LNS_ROUNDS = 200  # neighbourhoods searched around places short of the flow bound
LNS_MAX_PAIRS = 600  # candidate pairs per neighbourhood
LNS_DTIME = 0.1  # deterministic time per neighbourhood
LNS_WALL_SHARE = 0.6  # neighbourhood searches stop by this fraction of the time limit
TAIL_BASE_S = 0.3  # time kept for explanations and output: base + per place, at most a share
TAIL_S_PER_PLACE = 6e-5
TAIL_S_PER_PAIR = 3e-7  # explanations of dense problems: about 0.2-0.27 us a candidate pair
TAIL_MAX_SHARE = 0.3
CLOSURE_ROUNDS = 200  # regions searched around volunteers with slack in the cut bound
CLOSURE_MAX_PAIRS = 6000  # candidate pairs per region
CLOSURE_DTIME = 1.0  # deterministic time per region
SEARCH_PASSES = 3  # neighbourhood and closure searches again while a pass wins places
EXCHANGE_ROUNDS = 4  # then exchanges at equal fill and chains in turns, at most this many
EXCHANGE_WALL_SHARE = 0.9  # ... while a round like the last ends by this share of the limit
LAGRANGIAN_DTIME = 2.0  # deterministic time of the CP-SAT search on the master's columns
LAGRANGIAN_COMPONENT_MAX_PAIRS = 150_000  # whole components up to this size get the bound,
LAGRANGIAN_COMPONENT_PASSES = 3  # ... again on the new roster while a pass wins places
LAGRANGIAN_PASS_ROOM = 3  # ... and the time left holds this many passes like the last
LAGRANGIAN_S_PER_PAIR = 3e-5  # ... larger ones when this many seconds per pair are left
LAGRANGIAN_REGION_STEPS = 3  # the slack volunteers' region grows this many steps outward
RACE_FLOW_PER_PREP = 6.0  # the flows take up to this many times the preparation (2.4-4.4 seen)
POST_FLOW_S_PER_PLACE = 3e-5  # roster from the flow, repair and its chains: per place,
POST_FLOW_S_PER_PAIR = 1e-7  # ... or per candidate pair, whichever is more
AUGMENT_MAX_VISITS = 1500  # volunteer visits per augmenting search (deterministic budget)
BRUTE_FORCE_SUBSET = 12  # repair: exhaustive best subset up to this many shifts of a volunteer
HOURS_PENALTY = 100  # flow cost per hour a shift is longer than the hour-cap share per shift
HOUR_US = 3600 * 10**6
CLASH_PENALTY = 150  # flow cost of a pair reaching into a later clique group of its volunteer
FAIRNESS_FLOW_MAX_ARCS = 250_000  # above this, fairness is left out of the flow (speed)
MCF_PRUNE_ABOVE = 250_000  # min-cost flow on pruned pair arcs above this many
MCF_KEEP_PER_POSITION = 12  # cheapest pair arcs kept per position (at least)
MCF_KEEP_PER_PLACE = 4  # ... and per place of the position

Progress = Callable[[str], None]
_T = TypeVar("_T")


@dataclass
class _Prepared:
    """Index arrays of one solve (pairs sorted by volunteer, start, shift)."""

    arr: cand.Arrays
    positions: cand.Positions
    rest_us: int
    pv: np.ndarray
    ps: np.ndarray
    pkm: np.ndarray
    pcost: np.ndarray
    pstart: np.ndarray
    pend_rest: np.ndarray
    pdur: np.ndarray
    a_pair: np.ndarray  # all positions each pair may fill (positions_for)
    a_pos: np.ndarray
    lk_v: np.ndarray  # locked pairs (deduplicated, known ids)
    lk_s: np.ndarray
    la_lock: np.ndarray  # positions each locked pair may fill (on shifts with an off budget:
    la_pos: np.ndarray
    la_off: np.ndarray  # ... every position of the shift, True where the volunteer may not)
    off_budget: dict[int, int]  # shift -> locked pairs that must take such a place
    v_locked: np.ndarray  # locked shifts per volunteer
    v_ms_rem: np.ndarray  # remaining max_shifts (-1 = no cap)
    v_dur_rem: np.ndarray  # remaining duration cap in microseconds (-1 = no cap)
    level: np.ndarray  # per shift: priority level rank (1 = lowest present)
    n_levels: int
    fairness_unit: int
    same_institution_unit: int
    warnings: list[str]


def solve(
    problem: Problem,
    *,
    time_limit: float | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    started_at: float | None = None,
) -> Solution:
    """Solve a matching problem: most places filled (by priority), then the weighted goals.

    The time limit counts from `started_at` (a `time.perf_counter()` value, e.g. taken before
    the problem was parsed) or from the call; a share of it is kept for the explanations and
    the caller's output, so optional improvement steps stop early enough.
    """
    t_start = time.perf_counter() if started_at is None else started_at
    settings = problem.settings
    limit = time_limit if time_limit is not None else settings.time_limit_s
    limit = DEFAULT_TIME_LIMIT_S if limit is None else float(limit)
    seed = settings.seed if seed is None else seed
    threads = threads or settings.threads or os.cpu_count() or 1
    say: Progress = progress or (lambda _msg: None)

    def elapsed() -> float:
        return time.perf_counter() - t_start

    arr = cand.build_arrays(problem)
    candidates = cand.generate_parallel(arr, threads)
    say(f"candidates: {len(candidates)} eligible pairs ({elapsed():.1f} s)")

    # improvement steps end by this time: the rest is kept for explanations and output,
    # which grow with the places and with the candidate pairs
    tail = max(TAIL_S_PER_PLACE * problem.demand, TAIL_S_PER_PAIR * len(candidates))
    reserve = min(TAIL_MAX_SHARE * limit, TAIL_BASE_S + tail)
    hard_end = t_start + limit - reserve
    lns_deadline = min(t_start + limit * LNS_WALL_SHARE, hard_end)
    # the Lagrangian and whole-component steps, CP-SAT and the searches again stop by this
    late_deadline = min(t_start + limit * CPSAT_WALL_SHARE, hard_end)
    prep_began = time.perf_counter()
    prep = _prepare(problem, arr, candidates)
    now = time.perf_counter()

    # the flows are used when they end by this (the roster from them and the repair next)
    flow_by = hard_end - max(
        POST_FLOW_S_PER_PLACE * problem.demand, POST_FLOW_S_PER_PAIR * len(candidates)
    )
    quick: _State | None = None  # the quick roster, when the flows may not end in time
    if now + RACE_FLOW_PER_PREP * (now - prep_began) > flow_by:
        race = _race_flow(prep, threads, flow_by)
        quick, index = race.quick, race.index
        if race.flow is None:
            # the quick roster, chains to every free place until the hard end
            say(f"quick roster: {len(quick.pair_pos)} places; {race.note} ({elapsed():.1f} s)")
            won = quick.augment(prep, deadline=hard_end, every_free=True, resume=True)
            if won:
                say(f"chains: {won} more places ({elapsed():.1f} s)")
            rank = _simple_rank(prep, race.rank)
            return _solution(
                prep,
                quick,
                candidates,
                rank[1],
                proven_secondary=False,
                flow_bound=race.rank.get(1) if race.rank else None,
                rank=rank,
                components_cpsat=0,
                threads=threads,
                say=say,
                elapsed=elapsed,
            )
        flow, structure = race.flow, race.structure or _structure(prep)
    else:
        # the arc index and the components do not depend on the flow: built while it solves
        flow, built = _solve_flow(
            prep, alongside=lambda: (_ArcIndex.build(prep), _structure(prep)), threads=threads
        )
        assert built is not None
        index, structure = built
    say(f"flow relaxation: bound {flow.total} places ({elapsed():.1f} s)")
    comp_bound, comp_of_pair, comp_of_lock, _comp_of_shift, comps = _components(
        prep, flow, structure
    )
    state = _State.from_flow(prep, flow, index)
    dirty = state.repair(prep)
    affected: set[int] = set()
    for v in dirty:
        affected.update(comp_of_pair[state.pairs_of_vol_all(v)].tolist())
    if dirty:
        won = state.augment(prep, deadline=hard_end)
        # ... then chains to the places the relaxed flow left free (the relaxation chose
        # which of equivalent places to fill; a roster may reach others)
        more = state.augment(prep, deadline=late_deadline, every_free=True)
        say(
            f"repair: {len(dirty)} volunteers broke a relaxed rule; {won} places refilled, "
            f"{more} more by chains to places the flow left free"
        )
    filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
    proven_secondary = np.full(len(comps), flow.exact_costs, dtype=bool)
    proven_secondary[sorted(affected)] = False
    if prep.same_institution_unit:
        proven_secondary[sorted(state.multi_institution_components(prep, comp_of_pair))] = False
    cut, most_open = _cut_bound(
        prep, flow, comp_of_pair, comp_of_lock, len(comps), deadline=late_deadline
    )
    bound = np.minimum(comp_bound, cut)

    # the Lagrangian bound over the slack volunteers' positions, and the master's roster
    lagrangian = functools.partial(
        state.lagrangian_search,
        prep,
        flow,
        comp_of_pair,
        comp_of_lock,
        cut,
        most_open,
        bound,
        seed=seed,
        workers=threads,
    )
    # the fill searches (CP-SAT on small pieces), here and again after the later steps
    neighbourhoods = functools.partial(
        state.neighbourhood_search, prep, seed=seed, workers=threads, max_rounds=LNS_ROUNDS
    )
    closures = functools.partial(
        state.closure_search,
        prep,
        flow.closed,
        most_open,
        seed=seed,
        workers=threads,
        max_rounds=CLOSURE_ROUNDS,
    )
    # the slack region's step first, by the later deadline: on a slow or busy machine the
    # flow phase can end after the neighbourhood searches' share, and this step wins most
    if int(filled_by_comp.sum()) < int(bound.sum()) and flow.closed is not None:
        won, lowered = lagrangian(deadline=late_deadline)
        filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
        say(f"lagrangian bound: {lowered} lower, {won} more places ({elapsed():.1f} s)")

    # neighbourhood searches (CP-SAT on small pieces) around places the repair freed
    if int(filled_by_comp.sum()) < int(bound.sum()):
        won = neighbourhoods(deadline=lns_deadline)
        if won:
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
            say(f"neighbourhood search: {won} more places ({elapsed():.1f} s)")
    moves_searched = state.moves

    # the Lagrangian bound over whole components still short of it, smallest first
    if int(filled_by_comp.sum()) < int(bound.sum()) and flow.closed is not None:
        comp_of_pos = state.lagrangian_index(comp_of_pair)[1]
        pos_order = np.argsort(comp_of_pos, kind="stable")
        pos_bounds = np.searchsorted(comp_of_pos[pos_order], np.arange(len(comps) + 1))
        whole = sorted(
            (c for c in range(len(comps)) if filled_by_comp[c] < bound[c]),
            key=lambda c: (comps[c].n_pairs, c),
        )
        lowered_all = won_all = tried = 0
        deadline = late_deadline
        for c in whole:
            # components above the size get the step only when it likely ends in time
            big = comps[c].n_pairs > LAGRANGIAN_COMPONENT_MAX_PAIRS
            need = comps[c].n_pairs * LAGRANGIAN_S_PER_PAIR if big else 0.0
            if time.perf_counter() + need >= deadline:
                break
            tried += 1
            took = 0.0
            for passes in range(LAGRANGIAN_COMPONENT_PASSES):
                # a pass that wins places leaves another roster, so other columns: again,
                # while the time left holds a few more passes like the last
                began = time.perf_counter()
                left = deadline - began
                if passes and (need >= left or took * LAGRANGIAN_PASS_ROOM > left):
                    break
                won, lowered = lagrangian(
                    deadline=deadline,
                    region=pos_order[pos_bounds[c] : pos_bounds[c + 1]],
                    scope=comps[c].pairs,
                )
                took = time.perf_counter() - began
                won_all += won
                lowered_all += lowered
                if not won or state.places_in(comps[c]) >= bound[c]:
                    break
        if tried:
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
            say(
                f"lagrangian bound on {tried} whole components: {lowered_all} lower, "
                f"{won_all} more places ({elapsed():.1f} s)"
            )

    # regions around volunteers the cut bound credits with more shifts than they work
    if int(filled_by_comp.sum()) < int(bound.sum()) and flow.closed is not None:
        won = closures(deadline=lns_deadline)
        if won:
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
            say(f"closure search: {won} more places ({elapsed():.1f} s)")

    # exact CP-SAT on the components that need it and are small enough
    todo = [
        c
        for c in range(len(comps))
        if (filled_by_comp[c] < bound[c] and 0 < comps[c].n_pairs <= CPSAT_MAX_PAIRS)
        or (not proven_secondary[c] and 0 < comps[c].n_pairs <= CPSAT_SECONDARY_MAX_PAIRS)
    ]
    todo.sort(key=lambda c: (-(bound[c] - filled_by_comp[c]), comps[c].n_pairs, c))
    budget_pairs = CPSAT_TOTAL_PAIRS
    selected = []
    for c in todo:
        if comps[c].n_pairs <= budget_pairs:
            selected.append(c)
            budget_pairs -= comps[c].n_pairs
    total_pairs = sum(comps[c].n_pairs for c in selected) or 1
    cp_budget = max(0.0, limit * CPSAT_SHARE - elapsed())
    deadline = late_deadline

    def exact(c: int, dtime: float) -> bool:
        """CP-SAT on component c (its roster the hint); whether its lexicographic fill is
        proven optimal."""
        res = state.solve_component(
            prep, comps[c], seed=seed, workers=threads, dtime=dtime, deadline=deadline
        )
        if res.fill_bound is not None:
            bound[c] = min(bound[c], int(np.floor(res.fill_bound + 1e-6)))
        filled_by_comp[c] = state.places_in(comps[c])
        proven_secondary[c] = res.secondary_proven
        return res.fill_proven

    unproven: dict[int, float] = {}  # component -> deterministic time of its last solve
    for c in selected:
        if time.perf_counter() >= deadline:
            break
        share = min(
            cp_budget * comps[c].n_pairs / total_pairs,
            CPSAT_DTIME_BASE + CPSAT_DTIME_PER_PAIR * comps[c].n_pairs,
        )
        dtime = max(share, 0.2)
        if not exact(c, dtime):
            unproven[c] = dtime
    # those whose fill CP-SAT did not prove go on (the roster is the hint) with
    # CPSAT_RETRY_FACTOR times the last deterministic time, within a budget of a share of the
    # limit counted in deterministic time: small problems use their time limit for the proof
    retry_budget = limit * CPSAT_RETRY_SHARE
    while unproven:
        for c in sorted(unproven):
            dtime = min(unproven[c] * CPSAT_RETRY_FACTOR, retry_budget)
            if time.perf_counter() >= deadline or dtime < 0.2:
                unproven.clear()
                break
            retry_budget -= dtime
            if exact(c, dtime) or dtime <= unproven[c]:
                del unproven[c]  # proven, or no more time than the last could be had
            else:
                unproven[c] = dtime
    if selected:
        say(f"cp-sat: {len(selected)} components ({elapsed():.1f} s)")

    # secondary costs with the fill held: exact CP-SAT (one worker, LP-based) on components
    # whose model is small enough, then a neighbourhood search on the rest
    chosen = set(selected)
    model_size = {
        c: _secondary_model_size(prep, comps[c])
        for c in range(len(comps))
        if c not in chosen
        and not proven_secondary[c]
        and comps[c].n_pairs <= CPSAT_SECONDARY_ONLY_MAX_VARS  # never smaller than its pairs
    }
    second = [c for c, n in model_size.items() if 0 < n <= CPSAT_SECONDARY_ONLY_MAX_VARS]
    second.sort(key=lambda c: (comps[c].n_pairs, c))
    done_second = 0
    for c in second:
        if time.perf_counter() >= deadline:
            break
        dtime = min(
            max(0.0, limit * CPSAT_SHARE - elapsed()),
            CPSAT_DTIME_BASE + CPSAT_SECONDARY_DTIME_PER_VAR * model_size[c],
        )
        if dtime < 0.2:
            break
        res = state.solve_component(
            prep,
            comps[c],
            seed=seed,
            workers=threads,
            dtime=dtime,
            deadline=deadline,
            hold_fill=True,
            overrides=secondary_search.LIGHT_PARAMS,
        )
        proven_secondary[c] = res.secondary_proven
        done_second += 1
    if done_second:
        say(f"cp-sat secondary costs: {done_second} components ({elapsed():.1f} s)")
        selected.extend(second[:done_second])
    guide_cost: np.ndarray | None = None

    def exchanges(of: list[int], round_no: int, deadline: float) -> secondary_search.SearchResult:
        """The neighbourhood search on the secondary costs, seeded in components `of`."""
        nonlocal guide_cost
        if guide_cost is None:
            guide_cost = secondary_search.flow_cost_by_position(prep, flow.chosen_arcs)
        shifts_of = np.concatenate([comps[c].shifts for c in of])
        first = prep.positions.first_of_shift
        _, seed_positions = cand.expand_ranges(first[shifts_of], first[shifts_of + 1])
        seeds = np.zeros(len(prep.positions), dtype=bool)
        seeds[seed_positions] = True
        return secondary_search.improve_secondary(
            state,
            prep,
            guide_cost,
            seed_positions=seeds,
            seed=(seed + round_no) % 2**31,  # CP-SAT's seeds are 32-bit
            dtime_budget=SECONDARY_SEARCH_DTIME * min(1.0, limit / SECONDARY_SEARCH_FULL_AT_S),
            deadline=deadline,
        )

    began = time.perf_counter()
    if not proven_secondary.all():
        found = exchanges(
            [c for c in range(len(comps)) if not proven_secondary[c]],
            0,
            min(t_start + limit * SECONDARY_SEARCH_WALL_SHARE, hard_end),
        )
        if found.regions:
            say(
                f"secondary search: {found.regions} regions, {found.improved} better, "
                f"cost -{found.saved} ({elapsed():.1f} s)"
            )
        if found.improved:  # (an exchange may fill a place too)
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))

    # every step since the neighbourhood search moved volunteers (the secondary costs at equal
    # fill too): the places still free and the volunteers with slack are others now, so the
    # augmenting chains (to every free place), the slack region's Lagrangian step (other
    # columns) and both fill searches run again while a pass wins; the components they change
    # lose any proof of their secondary optimum. The first pass's chains run even after the
    # late deadline (by the hard end; about 0.5 s at 100 000 x 30 000): on a slow machine the
    # secondary steps end after it, and those chains are what the exchanges made possible
    chains_won: int | None = None  # by the last pass's searches (None: no pass ran)
    for pass_no in range(SEARCH_PASSES):
        if state.moves == moves_searched or int(filled_by_comp.sum()) >= int(bound.sum()):
            break
        late = time.perf_counter() >= late_deadline
        if late and pass_no:
            break
        moves_searched = state.moves
        won = 0
        searches: list[Callable[[], int]] = [
            lambda: state.augment(prep, deadline=hard_end, every_free=True)
        ]
        if flow.closed is not None and not late:
            searches += [
                lambda: lagrangian(deadline=late_deadline)[0],
                lambda: neighbourhoods(deadline=late_deadline),
                lambda: closures(deadline=late_deadline),
            ]
        for search in searches:
            won += search()
            if int(filled_by_comp.sum()) + won >= int(bound.sum()):
                break  # at the bound: nothing more to find
        if won:
            before = filled_by_comp
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
            proven_secondary[filled_by_comp != before] = False
        say(f"fill searches again: {won} more places ({elapsed():.1f} s)")
        chains_won = won

    # then exchanges (at least the same places by level, less cost) and the chains in turns,
    # in the components still short of their bound: exchanges move volunteers, and each move
    # can open augmenting chains. A round runs while the chains after the last exchanges won
    # places (or none ran yet), the last round's exchanges improved, and the time before
    # EXCHANGE_WALL_SHARE of the limit holds a round like the last (the first: like the
    # exchanges and the passes above)
    last_round = time.perf_counter() - began
    for round_no in range(1, EXCHANGE_ROUNDS + 1):
        short = [c for c in range(len(comps)) if filled_by_comp[c] < bound[c]]
        began = time.perf_counter()
        end = min(t_start + limit * EXCHANGE_WALL_SHARE, hard_end)
        if not short or chains_won == 0 or began + last_round > end:
            break
        found = exchanges(short, round_no, end)
        won = state.augment(prep, deadline=hard_end, every_free=True)
        if won or found.improved:  # (an exchange may fill a place too)
            before = filled_by_comp
            filled_by_comp = state.places_by_component(comp_of_pair, comp_of_lock, len(comps))
            proven_secondary[filled_by_comp != before] = False
        say(
            f"exchanges and chains: {found.improved} better regions, {won} more places "
            f"({elapsed():.1f} s)"
        )
        last_round = time.perf_counter() - began
        chains_won = won
        if not found.improved:
            break

    if quick is not None and _better(prep, quick, state):
        say(f"the quick roster is better: {len(quick.pair_pos)} places")
        state = quick
        proven_secondary[:] = False
    return _solution(
        prep,
        state,
        candidates,
        int(bound.sum()),
        proven_secondary=bool(proven_secondary.all()),
        flow_bound=int(comp_bound.sum()),
        rank=flow.rank,
        components_cpsat=len(selected),
        threads=threads,
        say=say,
        elapsed=elapsed,
    )


@dataclass
class _Race:
    """What `_race_flow` ends with."""

    flow: _Flow | None  # None: not ready by its deadline, or no process could run it
    index: _ArcIndex
    quick: _State
    rank: dict[int, int] | None  # the max flows' bounds by level, when they came
    structure: _Structure | None  # the components, when built while the flows solved
    note: str  # why there is no flow (progress)


def _race_flow(prep: _Prepared, threads: int, flow_by: float) -> _Race:
    """The flows in a forked process, the quick roster here; the flow is taken when it is
    ready by `flow_by`. Without fork, or when `flow_by` has passed already, the quick
    roster alone.

    With two threads or more the quick roster, the components and then the augmenting
    chains on the quick roster run while the flows solve (the flows get one thread less);
    with one, the quick roster is built first and this process waits for the flows.
    """

    def flows(report: _anytime.Report) -> _Flow:
        return _solve_flow(prep, threads=max(1, threads - 1), on_rank=report)[0]

    def wait(pending: _anytime.Forked[_Flow], structure: _Structure | None = None) -> _Race:
        left = flow_by - time.perf_counter()
        flow = pending.result(left) if left > 0 else None
        pending.ready()  # (takes in what the flows reported so far)
        rank = pending.reports[-1] if pending.reports else None
        assert rank is None or isinstance(rank, dict)
        if pending.error is not None:
            note = f"no process for the flow relaxation ({pending.error})"
        else:
            note = "the flow relaxation did not end in time" + (
                "" if rank is None else " (its max flows did)"
            )
        return _Race(flow, index, quick, rank, structure, note)

    if threads >= 2 and flow_by > time.perf_counter() and _anytime.can_fork():
        with _anytime.run_forked(flows) as pending:
            index = _ArcIndex.build(prep)
            quick = _State.from_greedy(prep, index)
            structure = _structure(prep)
            quick.augment(prep, deadline=flow_by, every_free=True, stop=pending.ready)
            return wait(pending, structure)
    index = _ArcIndex.build(prep)
    quick = _State.from_greedy(prep, index)
    if flow_by > time.perf_counter() and _anytime.can_fork():
        with _anytime.run_forked(flows) as pending:
            return wait(pending)
    return _Race(None, index, quick, None, None, "no time or no fork for the flow relaxation")


def _better(prep: _Prepared, a: _State, b: _State) -> bool:
    """Whether roster `a` fills more places than `b` by level (highest first). At equal fill
    `b` stays: its secondary costs are optimised, fairness and the rest included."""

    def key(st: _State) -> list[int]:
        pairs = np.fromiter(st.pair_pos, dtype=np.int64, count=len(st.pair_pos))
        locked = np.fromiter(st.locked_pos, dtype=np.int64, count=len(st.locked_pos))
        levels = np.concatenate([prep.level[prep.ps[pairs]], prep.level[prep.lk_s[locked]]])
        return np.bincount(levels, minlength=prep.n_levels + 1)[::-1].tolist()

    return key(a) > key(b)


def _simple_rank(prep: _Prepared, flow_rank: dict[int, int] | None) -> dict[int, int]:
    """Bounds by level without the flow: `_anytime.simple_bound`'s, or the max flows'
    (`flow_rank`) where they ended in time and are lower."""
    positions = prep.positions
    n_shifts = prep.arr.n_shifts
    per_vol = np.bincount(prep.pv, minlength=prep.arr.n_volunteers)
    per_vol = np.where(prep.v_ms_rem >= 0, np.minimum(per_vol, prep.v_ms_rem), per_vol)
    per_shift, total = _anytime.simple_bound(
        positions.capacity,
        positions.shift,
        np.concatenate([prep.a_pos, prep.la_pos]),
        np.bincount(prep.ps, minlength=n_shifts) + np.bincount(prep.lk_s, minlength=n_shifts),
        int(per_vol.sum()) + len(prep.lk_v),
    )
    level = prep.level
    return {
        lv: min(total, int(per_shift[level >= lv].sum()), (flow_rank or {}).get(lv, total))
        for lv in range(1, prep.n_levels + 1)
    }


def _solution(
    prep: _Prepared,
    state: _State,
    candidates: cand.Candidates,
    bound: int,
    *,
    proven_secondary: bool,
    flow_bound: int | None,
    rank: dict[int, int] | None,
    components_cpsat: int,
    threads: int,
    say: Progress,
    elapsed: Callable[[], float],
) -> Solution:
    """The solution of a roster: assignments, status against `bound` (places, overflowing
    locked pairs not counted), explanations of what is left unfilled, metrics (`flow_bound`:
    the flow relaxation's bound, when it was solved)."""
    problem, arr = prep.arr.problem, prep.arr
    assignments, overflow = state.assignments(prep)
    filled = len(assignments)
    upper_bound = bound + overflow
    demand = problem.demand
    if demand == 0 and filled == 0:
        status = "EMPTY"
    elif filled >= upper_bound:
        status = "OPTIMAL" if proven_secondary else "FILL_OPTIMAL"
    else:
        status = "FEASIBLE"
    unfilled = explain.explain_unfilled(problem, arr, candidates, assignments, workers=threads)
    km = [float(prep.pkm[p]) for p in state.assigned_pairs()] + state.locked_km(prep, problem)
    shifts_per_vol: dict[str, int] = defaultdict(int)
    for a in assignments:
        shifts_per_vol[a.volunteer_id] += 1
    offered = np.unique(prep.pv)
    counts = [shifts_per_vol.get(problem.volunteers[int(v)].id, 0) for v in offered]
    by_priority: dict[int, int] = defaultdict(int)
    for a in assignments:
        by_priority[problem.shift_by_id[a.shift_id].priority] += 1
    metrics = Metrics(
        demand=demand,
        filled=filled,
        upper_bound=upper_bound,
        status=status,
        solve_seconds=round(elapsed(), 3),
        mean_km=round(float(np.mean(km)), 3) if km else None,
        filled_by_priority=dict(sorted(by_priority.items())),
        fairness_spread=float(max(counts) - min(counts)) if counts else None,
        extra={
            **({} if flow_bound is None else {"flow_bound": flow_bound + overflow}),
            "candidate_pairs": len(candidates),
            "components_cpsat": components_cpsat,
            "bound_at_or_above_priority": _priority_bounds(prep, rank, overflow),
        },
    )
    say(f"done: {filled}/{demand} places, bound {upper_bound}, {status} ({elapsed():.1f} s)")
    return Solution(
        assignments=tuple(assignments),
        unfilled=tuple(unfilled),
        metrics=metrics,
        warnings=tuple(prep.warnings + state.warnings),
    )


def _secondary_model_size(prep: _Prepared, comp: _Component) -> int:
    """Variables of a component's secondary-cost model: one per (pair, position), plus the
    fairness steps (one per possible shift of a volunteer) and the same-institution flags."""
    pairs = comp.pairs
    if not len(pairs):
        return 0
    size = int(
        (
            np.searchsorted(prep.a_pair, pairs, side="right")
            - np.searchsorted(prep.a_pair, pairs, side="left")
        ).sum()
    )
    vols, per_vol = np.unique(prep.pv[pairs], return_counts=True)
    if prep.fairness_unit:
        cap = prep.v_ms_rem[vols]
        size += int(np.where(cap >= 0, np.minimum(cap, per_vol), per_vol).sum())
    if prep.same_institution_unit:
        codes = prep.pv[pairs] * len(prep.arr.i_lat) + prep.arr.s_inst[prep.ps[pairs]]
        size += len(np.unique(codes)) + len(vols)
    return size


def _cut_bound(
    prep: _Prepared,
    flow: _Flow,
    comp_of_pair: np.ndarray,
    comp_of_lock: np.ndarray,
    n_c: int,
    deadline: float = float("inf"),
) -> tuple[np.ndarray, dict[int, int]]:
    """A second proven bound per component, from the min cut with exact volunteer schedules.

    For any set C of positions, a valid roster fills at most cap(C) places in C, plus, for
    every volunteer, the most shifts they can work (rules 6 and 7 exactly) among those where
    they may take a position outside C, plus one per locked pair with a position outside C.
    With C the positions on the source side of the relaxation's min cut this is below the
    flow bound where the flow relaxed a volunteer's clashes or hours (and can be above it where
    the cut crosses a shift's off-skill budget arc: the caller keeps the least of the two).
    Volunteers whose term needs the exact hour-cap DP after `deadline` get a looser valid
    term instead (`_most_shifts_all`).
    """
    out = np.full(n_c, np.iinfo(np.int64).max, dtype=np.int64)
    most: dict[int, int] = {}
    closed = flow.closed
    if closed is None or n_c == 0:
        return out, most
    positions = prep.positions
    out[:] = 0
    pair_open = np.zeros(len(prep.pv), dtype=bool)
    open_arc = ~closed[prep.a_pos]
    pair_open[prep.a_pair[open_arc]] = True
    lock_open = np.zeros(len(prep.lk_v), dtype=bool)
    lock_open[prep.la_lock[~closed[prep.la_pos]]] = True
    np.add.at(out, comp_of_lock[lock_open], 1)
    # closed positions, by the component of a pair reaching them
    pos_comp = np.full(len(positions), -1, dtype=np.int64)
    pos_comp[prep.a_pos] = comp_of_pair[prep.a_pair]
    if len(prep.la_pos):
        pos_comp[prep.la_pos] = comp_of_lock[prep.la_lock]
    sel = closed & (pos_comp >= 0)
    np.add.at(out, pos_comp[sel], positions.capacity[sel])
    # volunteers: the most shifts they can work among their open pairs
    idx = np.flatnonzero(pair_open)
    if len(idx):
        pv_open = prep.pv[idx]
        vols, best = _most_shifts_all(
            pv_open,
            prep.pstart[idx],
            prep.pend_rest[idx],
            prep.pdur[idx],
            prep.v_ms_rem,
            prep.v_dur_rem,
            deadline,
        )
        first = np.searchsorted(pv_open, vols)
        np.add.at(out, comp_of_pair[idx[first]], best)
        most = dict(zip(vols.tolist(), best.tolist(), strict=True))
    return out, most


def _most_shifts_all(
    pv: np.ndarray,
    st: np.ndarray,
    er: np.ndarray,
    dur: np.ndarray,
    ms_rem: np.ndarray,
    dr_rem: np.ndarray,
    deadline: float = float("inf"),
) -> tuple[np.ndarray, np.ndarray]:
    """Per volunteer of `pv` (pairs sorted by volunteer and start): the most pairwise
    non-clashing intervals [st, er) within the remaining caps (`_most_shifts`, exactly).

    Returns (volunteers, counts). Vectorised: the greedy earliest-end schedule of every
    volunteer at once (one round per shift of the longest), its size k within max_shifts;
    where the hours cap binds, the k' shortest of the greedy schedule that fit are a valid
    schedule (a lower bound) and the most of all the volunteer's shortest intervals that fit
    is an upper one. Only volunteers where the two differ need `_most_shifts`' DP (Python);
    after `deadline` they get the upper bound (valid for a bound, only looser).
    """
    n = len(pv)
    ks, ke = _interval_keys(pv, st, er)
    # per position i: the interval of least end among those from i to the end of its
    # volunteer's run (later volunteers' keys are larger), by rank to get its index
    by_end = np.argsort(ke, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_end] = np.arange(n)
    least = by_end[np.minimum.accumulate(rank[::-1])[::-1]]
    first = np.flatnonzero(np.r_[True, pv[1:] != pv[:-1]])
    vols = pv[first]
    ends = np.r_[first[1:], n]
    cur = least[first]
    picked: list[np.ndarray] = []
    while len(cur):
        picked.append(cur)
        nxt = np.searchsorted(ks, ke[cur], side="left")  # first start at/after that end
        more = nxt < ends
        cur = least[nxt[more]]
        ends = ends[more]
    chosen = np.concatenate(picked)
    n_v = len(ms_rem)
    count = np.bincount(pv[chosen], minlength=n_v)[vols]
    ms = ms_rem[vols]
    k = np.where(ms >= 0, np.minimum(count, ms), count)
    dr = dr_rem[vols]
    capped = dr >= 0

    def shortest_fitting(sel: np.ndarray) -> np.ndarray:
        """Per volunteer of `vols`: how many of its shortest intervals in `sel` fit the hours."""
        if not len(sel):
            return np.zeros(len(vols), dtype=np.int64)
        sel = sel[np.lexsort((dur[sel], pv[sel]))]
        sv = pv[sel]
        csum = np.cumsum(dur[sel])
        run = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
        before = np.where(run > 0, csum[np.maximum(run - 1, 0)], 0)
        within = csum - np.repeat(before, np.diff(np.r_[run, len(sel)]))
        fits = within <= dr_rem[sv]
        return np.bincount(sv[fits], minlength=n_v)[vols]

    lower = np.where(capped, np.minimum(k, shortest_fitting(chosen)), k)
    # the upper bound only where the hours cut the greedy schedule short
    short = lower < k
    upper = k.copy()
    if short.any():
        runs = np.zeros(n_v, dtype=bool)
        runs[vols[short]] = True
        upper[short] = np.minimum(k, shortest_fitting(np.flatnonzero(runs[pv])))[short]
    best = lower.copy()
    open_at = np.flatnonzero(lower < upper)
    if len(open_at):
        bounds = np.r_[first, n]
        st_l, er_l, dur_l = st.tolist(), er.tolist(), dur.tolist()
        for j in open_at.tolist():
            if time.perf_counter() >= deadline:
                best[j] = upper[j]
                continue
            lo, hi = int(bounds[j]), int(bounds[j + 1])
            v = int(vols[j])
            best[j] = _most_shifts(
                st_l[lo:hi], er_l[lo:hi], dur_l[lo:hi], int(ms_rem[v]), int(dr_rem[v])
            )
    return vols, best


def _most_shifts(st: list[int], er: list[int], dur: list[int], ms: int, dr: int) -> int:
    """Most pairwise non-clashing intervals [st, er) with count <= ms and total dur <= dr
    (-1: no cap): greedy earliest end, or a DP over (intervals by end, count) of the least
    total duration when the hour cap binds."""
    order = sorted(range(len(st)), key=lambda i: (er[i], st[i]))
    chosen: list[int] = []
    last = None
    for i in order:
        if last is None or st[i] >= last:
            chosen.append(i)
            last = er[i]
    k_max = len(chosen) if ms < 0 else min(ms, len(chosen))
    if dr < 0 or sum(sorted(dur[i] for i in chosen)[:k_max]) <= dr:
        return k_max
    # least duration of k non-clashing intervals among the first j (by end)
    ends = [er[i] for i in order]
    inf = float("inf")
    prev_row = [0.0] + [inf] * k_max
    rows = [prev_row]
    for j, i in enumerate(order):
        p = bisect.bisect_right(ends, st[i], 0, j)  # intervals ending by this start
        base = rows[p]
        row = list(rows[j])
        d = dur[i]
        for k in range(1, k_max + 1):
            c = base[k - 1] + d
            if c < row[k]:
                row[k] = c
        rows.append(row)
    final = rows[-1]
    return max(k for k in range(k_max + 1) if final[k] <= dr)


def _priority_bounds(prep: _Prepared, rank: dict[int, int] | None, overflow: int) -> dict[str, int]:
    """Proven bound on places of each priority or higher (`rank`, by level), by priority."""
    if not rank:
        return {}
    priorities = np.unique(prep.arr.s_priority)
    return {
        str(int(p)): int(rank.get(lv, 0)) + overflow
        for lv, p in enumerate(priorities.tolist(), start=1)
    }


# ---------------------------------------------------------------------- preparation


def _prepare(problem: Problem, arr: cand.Arrays, c: cand.Candidates) -> _Prepared:
    rest_us = int(problem.settings.min_rest_minutes) * 60 * 10**6
    positions = cand.build_positions(arr)
    weights = problem.settings.weights
    warnings: list[str] = []
    n_v = arr.n_volunteers

    # locked pairs: deduplicated, in problem order
    vol_index = {v.id: i for i, v in enumerate(problem.volunteers)}
    shift_index = {s.id: i for i, s in enumerate(problem.shifts)}
    seen: set[tuple[int, int]] = set()
    lk: list[tuple[int, int]] = []
    for pair in problem.locked:
        vi = vol_index.get(pair.volunteer_id)
        si = shift_index.get(pair.shift_id)
        if vi is None or si is None:
            warnings.append(
                f"locked pair {pair.volunteer_id} on {pair.shift_id} names an unknown "
                "volunteer or shift and is ignored"
            )
            continue
        if (vi, si) not in seen:
            seen.add((vi, si))
            lk.append((vi, si))
    lk.sort()
    lk_v = np.array([p[0] for p in lk], dtype=np.int64)
    lk_s = np.array([p[1] for p in lk], dtype=np.int64)
    warnings.extend(_locked_warnings(problem, lk, rest_us))

    pv, ps, pkm = c.vol, c.shift, c.km
    keep = np.ones(len(pv), dtype=bool)
    v_locked = np.bincount(lk_v, minlength=n_v).astype(np.int64)
    if len(lk_v):
        lo = np.searchsorted(pv, lk_v, side="left")
        hi = np.searchsorted(pv, lk_v, side="right")
        owner, idx = cand.expand_ranges(lo, hi)
        ls = lk_s[owner]
        other = ps[idx]
        clashing = (arr.s_start[other] < arr.s_end[ls] + rest_us) & (
            arr.s_start[ls] < arr.s_end[other] + rest_us
        )
        keep[idx[clashing]] = False
    s_dur = arr.s_end - arr.s_start
    locked_dur = np.bincount(lk_v, weights=s_dur[lk_s], minlength=n_v).astype(np.int64)
    v_ms_rem = np.where(
        arr.v_max_shifts >= 0, np.maximum(arr.v_max_shifts - v_locked, 0), -1
    ).astype(np.int64)
    v_dur_rem = np.where(
        arr.v_max_hours_us >= 0, np.maximum(arr.v_max_hours_us - locked_dur, 0), -1
    ).astype(np.int64)
    keep &= v_ms_rem[pv] != 0
    keep &= (v_dur_rem[pv] < 0) | (s_dur[ps] <= v_dur_rem[pv])
    pv, ps, pkm = pv[keep], ps[keep], pkm[keep]

    # sort by (volunteer, start, shift): one integer key, shifts ranked by (start, index)
    srank = np.empty(arr.n_shifts, dtype=np.int64)
    srank[np.lexsort((np.arange(arr.n_shifts), arr.s_start))] = np.arange(arr.n_shifts)
    order = np.argsort(pv * max(arr.n_shifts, 1) + srank[ps], kind="stable")
    pv, ps, pkm = pv[order], ps[order], pkm[order]

    # secondary costs of the pairs (integers)
    prev_set = {
        (vol_index[p.volunteer_id], shift_index[p.shift_id])
        for p in problem.previous
        if p.volunteer_id in vol_index and p.shift_id in shift_index
    }
    prev = np.zeros(len(pv), dtype=bool)
    if prev_set:
        codes = pv * arr.n_shifts + ps
        prev_codes = np.array(sorted(a * arr.n_shifts + b for a, b in prev_set), dtype=np.int64)
        prev = np.isin(codes, prev_codes)
    pref = np.zeros(len(pv), dtype=np.float64)
    inst_ids = [i.id for i in problem.institutions]
    pref_vols = [i for i, v in enumerate(problem.volunteers) if v.preferences]
    if pref_vols:
        inst_index = {iid: k for k, iid in enumerate(inst_ids)}
        pv_codes = []
        pv_weights = []
        for vi in pref_vols:
            for iid, wgt in problem.volunteers[vi].preferences.items():
                k = inst_index.get(iid)
                if k is not None:
                    pv_codes.append(vi * len(inst_ids) + k)
                    pv_weights.append(float(wgt))
        if pv_codes:
            o = np.argsort(pv_codes)
            codes_sorted = np.asarray(pv_codes, dtype=np.int64)[o]
            w_sorted = np.asarray(pv_weights)[o]
            q = pv * len(inst_ids) + arr.s_inst[ps]
            loc = np.searchsorted(codes_sorted, q)
            loc_c = np.minimum(loc, len(codes_sorted) - 1)
            hit = codes_sorted[loc_c] == q
            pref = np.where(hit, w_sorted[loc_c], 0.0)
    no_show = arr.v_no_show[pv] if len(pv) else np.zeros(0, dtype=np.float64)
    cost = COST_SCALE * (
        weights.travel * pkm
        - weights.previous * prev
        - weights.preferences * pref
        + weights.reliability * no_show
    )
    pcost = np.rint(cost).astype(np.int64)

    a_pair, a_pos = cand.pair_positions(arr, positions, pv, ps)
    la_lock, la_pos = cand.pair_positions(arr, positions, lk_v, lk_s)
    la_lock, la_pos, la_off, off_budget = _locked_arcs(positions, la_lock, la_pos, lk_s)

    prios = arr.s_priority
    levels = np.unique(prios) if len(prios) else np.zeros(0, dtype=np.int64)
    level = np.searchsorted(levels, prios) + 1
    return _Prepared(
        arr=arr,
        positions=positions,
        rest_us=rest_us,
        pv=pv,
        ps=ps,
        pkm=pkm,
        pcost=pcost,
        pstart=arr.s_start[ps],
        pend_rest=arr.s_end[ps] + rest_us,
        pdur=s_dur[ps],
        a_pair=a_pair,
        a_pos=a_pos,
        lk_v=lk_v,
        lk_s=lk_s,
        la_lock=la_lock,
        la_pos=la_pos,
        la_off=la_off,
        off_budget=off_budget,
        v_locked=v_locked,
        v_ms_rem=v_ms_rem,
        v_dur_rem=v_dur_rem,
        level=level.astype(np.int64),
        n_levels=max(1, len(levels)),
        fairness_unit=round(COST_SCALE * weights.fairness),
        same_institution_unit=round(COST_SCALE * weights.same_institution),
        warnings=warnings,
    )


def _locked_warnings(problem: Problem, lk: list[tuple[int, int]], rest_us: int) -> list[str]:
    """Warnings for locked pairs that break a rule by themselves or together."""
    out: list[str] = []
    by_vol: dict[int, list[int]] = defaultdict(list)
    for vi, si in lk:
        vol = problem.volunteers[vi]
        sh = problem.shifts[si]
        reasons = pair_reasons(vol, sh, problem.institution_of(sh))
        if reasons:
            out.append(
                f"locked pair {vol.id} on {sh.id} breaks a rule ({', '.join(reasons)}); kept"
            )
        by_vol[vi].append(si)
    rest_min = problem.settings.min_rest_minutes
    for vi, sis in sorted(by_vol.items()):
        vol = problem.volunteers[vi]
        shifts = [problem.shifts[si] for si in sis]
        for a in range(len(shifts)):
            for b in range(a + 1, len(shifts)):
                sa, sb = shifts[a], shifts[b]
                if clash(sa.start, sa.end, sb.start, sb.end, rest_min):
                    for s in (sa, sb):
                        out.append(
                            f"locked pair {vol.id} on {s.id} clashes with another locked "
                            f"shift of the volunteer ({sa.id}, {sb.id}); kept"
                        )
        reasons = caps_reasons(vol, shifts)
        if reasons:
            for s in shifts:
                out.append(
                    f"locked pair {vol.id} on {s.id}: locked shifts exceed the volunteer's "
                    f"{' and '.join(reasons)}; kept"
                )
    return out


def _locked_arcs(
    positions: cand.Positions, la_lock: np.ndarray, la_pos: np.ndarray, lk_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, int]]:
    """Places each locked pair may take, and how many must take one they may not fill.

    A locked pair is kept whatever rule it breaks and never loses its place to a non-locked
    volunteer, yet a shift holds no more volunteers than places unless its locked pairs alone
    outnumber them. So where the most locked pairs of a shift that can take places they may
    fill (a small matching) are fewer than min(locked pairs, places), the difference (its
    budget) must take reserved places without the skill: those shifts' locked pairs get an
    arc to every position of the shift (`off` where the volunteer may not fill it), and no
    roster places more of them there than the budget. Elsewhere a locked pair keeps the
    places it may fill.
    """
    first = positions.first_of_shift
    proper: dict[int, list[int]] = defaultdict(list)
    for lk, q in zip(la_lock.tolist(), la_pos.tolist(), strict=True):
        proper[lk].append(q)
    by_shift: dict[int, list[int]] = defaultdict(list)
    for lk, s in enumerate(lk_s.tolist()):
        by_shift[s].append(lk)
    budget: dict[int, int] = {}
    extra_lock: list[int] = []
    extra_pos: list[int] = []
    for s, lks in sorted(by_shift.items()):
        qs = range(int(first[s]), int(first[s + 1]))
        places = int(positions.capacity[qs.start : qs.stop].sum())
        matched = sum(map(len, _locked_holders(lks, proper, positions.capacity).values()))
        short = min(len(lks), places) - matched
        if short <= 0:
            continue
        budget[s] = short
        for lk in lks:
            held = set(proper[lk])
            for q in qs:
                if q not in held:
                    extra_lock.append(lk)
                    extra_pos.append(q)
    la_off = np.r_[np.zeros(len(la_lock), dtype=bool), np.ones(len(extra_lock), dtype=bool)]
    la_lock = np.concatenate([la_lock, np.asarray(extra_lock, dtype=np.int64)])
    la_pos = np.concatenate([la_pos, np.asarray(extra_pos, dtype=np.int64)])
    order = np.lexsort((la_pos, la_lock))
    return la_lock[order], la_pos[order], la_off[order], budget


def _locked_holders(
    lks: list[int], proper: dict[int, list[int]], capacity: np.ndarray
) -> dict[int, list[int]]:
    """Most of the locked pairs `lks` (of one shift) placed on positions they may fill:
    position -> its locked pairs (a maximum matching)."""
    holders: dict[int, list[int]] = defaultdict(list)  # position -> locked pairs on it

    def place(lk: int, seen: set[int]) -> bool:
        for q in proper[lk]:
            if q in seen:
                continue
            seen.add(q)
            if len(holders[q]) < int(capacity[q]):
                holders[q].append(lk)
                return True
            for other in list(holders[q]):
                if place(other, seen):
                    holders[q].remove(other)
                    holders[q].append(lk)
                    return True
        return False

    for lk in lks:
        place(lk, set())
    return holders


# ---------------------------------------------------------------------- flow relaxation


@dataclass
class _Flow:
    total: int  # max flow = places of the relaxation (locked ones included)
    chosen_arcs: np.ndarray  # indices into prep.a_* of pair arcs with flow
    chosen_locked: np.ndarray  # indices into prep.la_* of locked arcs with flow
    overflow_to_open: dict[int, int]  # reserved position -> units passed on to the open one
    exact_costs: bool = True  # the min-cost flow carried every flow-expressible cost exactly
    rank: dict[int, int] | None = None  # level -> most places at that level or above (bound)
    closed: np.ndarray | None = None  # positions on the source side of the level-1 min cut
    vcap: np.ndarray | None = None  # per volunteer: most shifts (caps, clashes, hours)


def _interval_keys(pv: np.ndarray, *times: np.ndarray) -> list[np.ndarray]:
    """Integer keys `volunteer * span + time` (or the time's rank when that could overflow):
    ordered like (volunteer, time), so one sorted array holds every volunteer's timeline."""
    lo = min(int(t.min()) for t in times)
    hi = max(int(t.max()) for t in times)
    span = hi - lo + 1
    n_v = int(pv.max()) + 1
    if span * n_v < 2**62:
        base = pv * span
        return [base + (t - lo) for t in times]
    ranks = np.unique(np.concatenate(times))
    k = len(ranks) + 1
    return [pv * k + np.searchsorted(ranks, t) for t in times]


def _volunteer_structure(
    prep: _Prepared,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: clique group; per group: volunteer; per volunteer: capacity bound.

    Per pair also: whether its interval reaches past its group's point over the start of a
    later group's interval (two places the relaxation allows and the rules do not).

    Each volunteer's candidate intervals [start, end + rest) are covered by cliques greedily:
    the first point is the earliest end; every interval starting before it contains it (its
    end is not earlier), so they clash pairwise and form a group; the next point is the
    earliest end among the intervals starting at or after the point, and so on. A valid
    roster takes at most one shift per group. The points are pairwise disjoint intervals'
    ends, so their number is the most non-clashing shifts (the greedy interval scheduling
    optimum), and the volunteer takes at most min(remaining max_shifts, most shifts that fit
    the remaining hours, number of groups) shifts: all valid capacities of the relaxation.
    The points are found for all volunteers at once, one round per point of the busiest.
    """
    pv, st, er = prep.pv, prep.pstart, prep.pend_rest
    n = len(pv)
    n_v = prep.arr.n_volunteers
    if n == 0:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(n_v, np.int64), np.zeros(0, dtype=bool)
    # pairs are sorted by (volunteer, start): ks is sorted
    ks, ke = _interval_keys(pv, st, er)
    suffix_min_end = np.minimum.accumulate(ke[::-1])[::-1]  # later volunteers' keys are larger
    first = np.flatnonzero(np.r_[True, pv[1:] != pv[:-1]])
    last = np.r_[first[1:], n]  # end of each volunteer's run
    cur = suffix_min_end[first]
    ends = last
    vol_of = pv[first]
    points: list[np.ndarray] = []
    point_vol: list[np.ndarray] = []
    while len(cur):
        points.append(cur)
        point_vol.append(vol_of)
        idx = np.searchsorted(ks, cur, side="left")  # first interval starting at/after it
        more = idx < ends
        idx = idx[more]
        cur = suffix_min_end[idx]
        ends = ends[more]
        vol_of = vol_of[more]
    pts = np.concatenate(points)
    pvol = np.concatenate(point_vol)
    order = np.argsort(pts, kind="stable")
    pts = pts[order]
    gvol = pvol[order]
    # the group of an interval is its volunteer's first point after its start
    group = np.searchsorted(pts, ks, side="right")
    # an interval reaching past its group's point clashes with the later groups' intervals
    # starting before its end (the relaxation lets the volunteer take both): the first start
    # at or after the point comes before its end (other volunteers' keys are out of range)
    nxt = np.searchsorted(ks, pts, side="left")
    first_start_after = np.append(ks, np.iinfo(np.int64).max)[nxt]
    overhang = first_start_after[group] < ke
    cap = np.bincount(gvol, minlength=n_v).astype(np.int64)
    ms = prep.v_ms_rem
    cap = np.where(ms >= 0, np.minimum(cap, ms), cap)
    # most shifts that fit the remaining hours: shortest first
    # (pairs are sorted by volunteer: the runs stay where they are, sorted within by length)
    s_dur = prep.arr.s_end - prep.arr.s_start
    lengths = np.unique(s_dur)
    d_rank = np.searchsorted(lengths, s_dur)[prep.ps]
    keys = pv * len(lengths) + d_rank
    keys.sort()
    d_sorted = lengths[keys % len(lengths)]
    v_sorted = pv
    csum = np.cumsum(d_sorted)
    run_first = np.repeat(first, last - first)
    before = np.where(run_first > 0, csum[np.maximum(run_first - 1, 0)], 0)
    within = csum - before
    rem = prep.v_dur_rem[v_sorted]
    fits = (rem < 0) | (within <= rem)
    fit_count = np.bincount(v_sorted[fits], minlength=n_v)
    capped = prep.v_dur_rem >= 0
    cap = np.where(capped, np.minimum(cap, fit_count), cap)
    return group, gvol, cap, overhang


@dataclass
class _Network:
    """Arcs of the relaxation without the sink side (positions -> sink added per use)."""

    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    cap: np.ndarray
    cost: np.ndarray
    head_level: np.ndarray  # level of the arc's target position (0: not a position arc)
    pair_arcs: slice  # arcs i of this slice are prep.a_* rows pair_arc_ids[i]
    pair_arc_ids: np.ndarray
    lock_src_arcs: slice  # source -> locked node
    lock_arcs: slice  # locked node -> position; rows lock_arc_ids
    lock_arc_ids: np.ndarray
    off_in_arcs: slice  # locked node -> its shift's node of places it may not fill
    off_in_lock: np.ndarray  # ... the locked pair of each
    off_out_arcs: slice  # that node (after the budget arc) -> a position of the shift
    off_out_pos: np.ndarray  # ... the position of each
    spill_arcs: slice
    spill_from: np.ndarray
    pos_base: int
    lock_base: int
    vcap: np.ndarray  # per volunteer: most shifts (caps, clashes, hours)
    penalised: np.ndarray  # pairs whose arc cost carries the hour-cap penalty
    closed: np.ndarray | None = None  # positions on the source side of the level-1 min cut


SOURCE, SINK, LOCK_SOURCE = 0, 1, 2


def _build_network(prep: _Prepared, fairness: bool) -> _Network:
    arr, positions = prep.arr, prep.positions
    n_v = arr.n_volunteers
    n_pos = len(positions)
    group, gvol, vcap, overhang = _volunteer_structure(prep)
    n_groups = len(gvol)
    gsize = np.bincount(group, minlength=n_groups) if len(group) else np.zeros(0, np.int64)
    needed_groups = np.flatnonzero(gsize >= 2)
    group_node = np.full(n_groups, -1, dtype=np.int64)
    v_base = 3
    pos_base = v_base + n_v
    b_base = pos_base + n_pos
    group_node[needed_groups] = b_base + np.arange(len(needed_groups))
    l_base = b_base + len(needed_groups)
    n_locked = len(prep.lk_v)
    n_nodes = l_base + n_locked
    pos_level = prep.level[positions.shift] if n_pos else np.zeros(0, np.int64)

    # pair arcs: holders of a reserved skill reach the open position through the spill arc
    has_reserved_arc = np.zeros(len(prep.pv), dtype=bool)
    is_open = positions.skill_is_open[prep.a_pos]
    has_reserved_arc[prep.a_pair[~is_open]] = True
    arc_ids = np.flatnonzero(~(is_open & has_reserved_arc[prep.a_pair]))
    ap = prep.a_pair[arc_ids]
    pg = group[ap] if len(ap) else ap
    tail_pair = np.where(group_node[pg] >= 0, group_node[pg], v_base + prep.pv[ap])
    head_pair = pos_base + prep.a_pos[arc_ids]

    # locked arcs: holders reach the open position through the spill arc too
    proper = ~prep.la_off
    l_has_res = np.zeros(n_locked, dtype=bool)
    l_open = positions.skill_is_open[prep.la_pos]
    l_has_res[prep.la_lock[~l_open & proper]] = True
    l_use = np.flatnonzero(proper & ~(l_open & l_has_res[prep.la_lock]))
    # ... and where a shift's locked pairs must take places they may not fill, through one
    # node pair per shift whose middle arc carries exactly that budget: locked node -> in
    # (pairs with such a place) -> out (cap budget) -> every position of the shift
    off_shifts = np.array(sorted(prep.off_budget), dtype=np.int64)
    off_in = n_nodes + np.arange(len(off_shifts))
    off_out = off_in + len(off_shifts)
    n_nodes += 2 * len(off_shifts)
    node_of_shift = dict(zip(off_shifts.tolist(), off_in.tolist(), strict=True))
    off_lock = np.unique(prep.la_lock[prep.la_off])
    off_in_tail = l_base + off_lock
    off_in_head = np.array(
        [node_of_shift[int(s)] for s in prep.lk_s[off_lock].tolist()], dtype=np.int64
    )
    budgets = np.array([prep.off_budget[int(s)] for s in off_shifts.tolist()], dtype=np.int64)
    o_owner, o_pos = cand.expand_ranges(
        positions.first_of_shift[off_shifts], positions.first_of_shift[off_shifts + 1]
    )

    # on big networks (where the min-cost flow is pruned anyway) steer it, never the bound,
    # away from rosters the repair would have to break: a pair of a volunteer with an hour
    # cap pays per hour its shift is longer than the volunteer's remaining hours per shift
    # of their capacity, and a pair reaching past its clique group's point into a later
    # group's shifts (the relaxation lets the volunteer take both) pays CLASH_PENALTY
    # (small networks keep exact costs: their flow optimum proves them)
    penalty = np.zeros(len(ap), dtype=np.int64)
    if len(prep.a_pair) > MCF_PRUNE_ABOVE:
        pv_arc = prep.pv[ap]
        rem = prep.v_dur_rem[pv_arc]
        share = rem // np.maximum(vcap[pv_arc], 1)
        over = np.where(rem >= 0, np.maximum(prep.pdur[ap] - share, 0), 0)
        penalty = np.rint(HOURS_PENALTY * over / HOUR_US).astype(np.int64)
        penalty += CLASH_PENALTY * overhang[ap]

    vs = np.flatnonzero(vcap > 0)
    if fairness and prep.fairness_unit:
        fv, k = cand.expand_ranges(np.zeros(len(vs), np.int64), vcap[vs])
        fvol = vs[fv]
        f_cost = prep.fairness_unit * (2 * (prep.v_locked[fvol] + k + 1) - 1)
        f_cap = np.ones(len(fvol), dtype=np.int64)
    else:
        fvol = vs
        f_cost = np.zeros(len(vs), dtype=np.int64)
        f_cap = vcap[vs]

    reserved = np.flatnonzero(~positions.skill_is_open)
    spill = reserved[positions.open_of_shift[positions.shift[reserved]] >= 0]
    spill_to = positions.open_of_shift[positions.shift[spill]]
    parts = [
        # (tail, head, cap, cost, head level)
        (np.full(len(fvol), SOURCE), v_base + fvol, f_cap, f_cost, 0),
        (v_base + gvol[needed_groups], group_node[needed_groups], 1, 0, 0),
        (tail_pair, head_pair, 1, prep.pcost[ap] + penalty, pos_level[prep.a_pos[arc_ids]]),
        (np.full(n_locked, LOCK_SOURCE), l_base + np.arange(n_locked), 1, 0, 0),
        (
            l_base + prep.la_lock[l_use],
            pos_base + prep.la_pos[l_use],
            1,
            0,
            pos_level[prep.la_pos[l_use]],
        ),
        (off_in_tail, off_in_head, 1, 0, 0),
        (off_in, off_out, budgets, 0, 0),
        (off_out[o_owner], pos_base + o_pos, positions.capacity[o_pos], 0, pos_level[o_pos]),
        (
            pos_base + spill,
            pos_base + spill_to,
            positions.capacity[spill_to],
            0,
            pos_level[spill_to],
        ),
    ]
    tails, heads, caps, costs, levels = [], [], [], [], []
    for tl, hd, cp_, co, lv in parts:
        n = len(tl)
        tails.append(np.asarray(tl, dtype=np.int64))
        heads.append(np.asarray(hd, dtype=np.int64))
        caps.append(np.broadcast_to(np.asarray(cp_, dtype=np.int64), (n,)))
        costs.append(np.broadcast_to(np.asarray(co, dtype=np.int64), (n,)))
        levels.append(np.broadcast_to(np.asarray(lv, dtype=np.int64), (n,)))
    off = np.cumsum([0] + [len(x) for x in tails])
    return _Network(
        n_nodes=n_nodes,
        tail=np.concatenate(tails),
        head=np.concatenate(heads),
        cap=np.concatenate(caps),
        cost=np.concatenate(costs),
        head_level=np.concatenate(levels),
        pair_arcs=slice(off[2], off[3]),
        pair_arc_ids=arc_ids,
        lock_src_arcs=slice(off[3], off[4]),
        lock_arcs=slice(off[4], off[5]),
        lock_arc_ids=l_use,
        off_in_arcs=slice(off[5], off[6]),
        off_in_lock=off_lock,
        off_out_arcs=slice(off[7], off[8]),
        off_out_pos=o_pos,
        spill_arcs=slice(off[8], off[9]),
        spill_from=spill,
        pos_base=pos_base,
        lock_base=l_base,
        vcap=vcap,
        penalised=np.flatnonzero(np.bincount(ap[penalty > 0], minlength=len(prep.pv))),
    )


def _max_flow(
    net: _Network, prep: _Prepared, min_level: int, locked_only: bool = False
) -> tuple[int, np.ndarray]:
    """Max flow of the relaxation restricted to positions of level >= min_level, and which
    arcs of the network carry flow in it."""
    positions = prep.positions
    n_pos = len(positions)
    pos_level = prep.level[positions.shift] if n_pos else np.zeros(0, np.int64)
    keep = (net.head_level == 0) | (net.head_level >= min_level)
    if locked_only:
        keep &= np.zeros(len(keep), dtype=bool) | _in_slices(
            len(keep),
            net.lock_src_arcs,
            net.lock_arcs,
            slice(net.off_in_arcs.start, net.off_out_arcs.stop),
            net.spill_arcs,
        )
    sink_pos = np.flatnonzero(pos_level >= min_level)
    tail = np.concatenate([net.tail[keep], net.pos_base + sink_pos, [SOURCE]])
    head = np.concatenate([net.head[keep], np.full(len(sink_pos), SINK), [LOCK_SOURCE]])
    cap = np.concatenate([net.cap[keep], positions.capacity[sink_pos], [max(1, len(prep.lk_v))]])
    used = np.zeros(len(net.tail), dtype=bool)
    if not len(tail):
        return 0, used
    mf = max_flow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(tail, head, cap)
    status = mf.solve(SOURCE, SINK)
    if status != mf.OPTIMAL:
        raise RuntimeError(f"max flow failed with status {status}")
    n_keep = int(keep.sum())
    used[np.flatnonzero(keep)] = mf.flows(np.arange(n_keep)) > 0
    if min_level == 1 and not locked_only:
        side = np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)
        q = side[(side >= net.pos_base) & (side < net.pos_base + n_pos)] - net.pos_base
        closed = np.zeros(n_pos, dtype=bool)
        closed[q] = True
        net.closed = closed
    return int(mf.optimal_flow()), used


def _in_slices(n: int, *slices: slice) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    for s in slices:
        out[s] = True
    return out


def _solve_flow(
    prep: _Prepared,
    alongside: Callable[[], _T] | None = None,
    threads: int = 1,
    on_rank: Callable[[dict[int, int]], None] | None = None,
) -> tuple[_Flow, _T | None]:
    """Proven fill bound by max flow, then the cheapest roster with that lexicographic fill.

    `alongside` (optional) is called once while the min-cost flow runs (in a second thread
    when `threads` allows: OR-Tools releases the GIL while it solves) and its result is
    returned with the flow; it must not depend on the flow. With two threads the locked and
    higher-level max flows also run beside the first level's. `on_rank` (optional) receives
    the bounds by level (`_Flow.rank`) as soon as the max flows have them.

    Per-level fill counts come from max flows restricted to the positions of level >= l (the
    fillable position sets of a flow network form a matroid, so the greedy counts by level are
    simultaneously optimal); the min-cost flow then routes exactly those counts through one
    node per level, with the locked pairs fed from their own source carrying exactly the most
    locked pairs that can take a place.
    """
    positions = prep.positions
    n_pos = len(positions)
    side: list[_T] = []

    def run_alongside() -> None:
        if alongside is not None and not side:
            side.append(alongside())

    def finish(flow: _Flow) -> tuple[_Flow, _T | None]:
        run_alongside()
        return flow, (side[0] if side else None)

    if n_pos == 0 or (len(prep.pv) == 0 and len(prep.lk_v) == 0):
        return finish(_Flow(0, np.zeros(0, np.int64), np.zeros(0, np.int64), {}, True))
    fairness = len(prep.a_pair) <= FAIRNESS_FLOW_MAX_ARCS
    net = _build_network(prep, fairness)

    def other_flows() -> tuple[int, list[tuple[int, np.ndarray]]]:
        """The locked pairs' max flow and those of the levels above the first."""
        locked = _max_flow(net, prep, 1, locked_only=True)[0] if len(prep.lk_v) else 0
        return locked, [_max_flow(net, prep, lv) for lv in range(2, prep.n_levels + 1)]

    if threads >= 2:  # the smaller max flows beside the first one (separate solver objects)
        (total, used), (locked_max, level_flows) = _beside(
            lambda: _max_flow(net, prep, 1), other_flows
        )
    else:
        total, used = _max_flow(net, prep, 1)
        locked_max, level_flows = other_flows() if total else (0, [])
    if total == 0:
        return finish(_Flow(0, np.zeros(0, np.int64), np.zeros(0, np.int64), {}, True))
    rank = {1: total}
    for lv, (places, used_lv) in enumerate(level_flows, start=2):
        rank[lv] = places
        used |= used_lv
    if on_rank is not None:
        on_rank(dict(rank))
    count = {lv: rank[lv] - rank.get(lv + 1, 0) for lv in rank}
    pruned = _prune(net, prep, used)

    pos_level = prep.level[positions.shift]
    level_base = net.n_nodes
    n_nodes = level_base + prep.n_levels + 1
    sink_tail = np.concatenate(
        [net.pos_base + np.arange(n_pos), level_base + np.arange(1, prep.n_levels + 1)]
    )
    sink_head = np.concatenate([level_base + pos_level, np.full(prep.n_levels, SINK)])
    sink_cap = np.concatenate(
        [positions.capacity, [count[lv] for lv in range(1, prep.n_levels + 1)]]
    ).astype(np.int64)
    attempts = (
        [(pruned, True), (None, True), (None, False)]
        if pruned is not None
        else [
            (None, True),
            (None, False),
        ]
    )
    for arcs, force_locked in attempts:
        sel = np.arange(len(net.tail)) if arcs is None else arcs
        tail = np.concatenate([net.tail[sel], sink_tail])
        head = np.concatenate([net.head[sel], sink_head])
        cap = np.concatenate([net.cap[sel], sink_cap])
        cost = np.concatenate([net.cost[sel], np.zeros(len(sink_tail), dtype=np.int64)])
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
        supplies = np.zeros(n_nodes, dtype=np.int64)
        if force_locked:
            supplies[LOCK_SOURCE] = locked_max
            supplies[SOURCE] = total - locked_max
        else:
            # fallback: locked pairs compete like the others (never seen; kept for safety)
            smcf.add_arc_with_capacity_and_unit_cost(SOURCE, LOCK_SOURCE, len(prep.lk_v), -1)
            supplies[SOURCE] = total
        supplies[SINK] = -total
        smcf.set_nodes_supplies(np.arange(n_nodes), supplies)
        if threads >= 2 and alongside is not None and not side:
            _, status = _beside(run_alongside, smcf.solve)
        else:
            status = smcf.solve()
        if status == smcf.OPTIMAL:
            break
    else:
        raise RuntimeError(f"min cost flow failed with status {status}")
    flows = np.zeros(len(net.tail), dtype=np.int64)
    flows[sel] = smcf.flows(np.arange(len(sel)))
    pair_flow = flows[net.pair_arcs]
    lock_flow = flows[net.lock_arcs]
    spill_flow = flows[net.spill_arcs]
    flow = _Flow(
        total=total,
        chosen_arcs=net.pair_arc_ids[pair_flow > 0],
        chosen_locked=np.sort(
            np.concatenate(
                [
                    net.lock_arc_ids[lock_flow > 0],
                    _off_locked_arcs(
                        prep,
                        net.off_in_lock[flows[net.off_in_arcs] > 0],
                        np.repeat(net.off_out_pos, flows[net.off_out_arcs]),
                    ),
                ]
            )
        ),
        overflow_to_open={
            int(q): int(f)
            for q, f in zip(net.spill_from.tolist(), spill_flow.tolist(), strict=True)
            if f
        },
        exact_costs=(fairness or not prep.fairness_unit)
        and arcs is None
        and not len(net.penalised),
        rank=rank,
        closed=net.closed,
        vcap=net.vcap,
    )
    return finish(flow)


def _off_locked_arcs(prep: _Prepared, locks: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Locked arcs (rows of prep.la_*) of the flow through the shifts' budget nodes: the
    locked pairs and the places that carried it, matched in order within each shift (any
    match is a valid roster: every locked pair of such a shift has an arc to every place)."""
    if not len(locks):
        return np.zeros(0, dtype=np.int64)
    shift_of_place = prep.positions.shift[places]
    order_l = np.argsort(prep.lk_s[locks], kind="stable")
    order_p = np.argsort(shift_of_place, kind="stable")
    lk, q = locks[order_l], places[order_p]
    assert np.array_equal(prep.lk_s[lk], shift_of_place[order_p])
    # the rows are sorted by (locked pair, position): one key each, found by bisection
    n_pos = len(prep.positions)
    rows = np.searchsorted(prep.la_lock * n_pos + prep.la_pos, lk * n_pos + q)
    assert np.array_equal(prep.la_lock[rows], lk) and np.array_equal(prep.la_pos[rows], q)
    return rows


_A = TypeVar("_A")
_B = TypeVar("_B")


def _beside(here: Callable[[], _A], there: Callable[[], _B]) -> tuple[_A, _B]:
    """Run `there` in a second thread while `here` runs in this one (OR-Tools' solvers release
    the GIL); both results, after both have ended."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        other = pool.submit(there)
        try:
            mine = here()
        finally:
            theirs = other.result()
    return mine, theirs


def _prune(net: _Network, prep: _Prepared, used: np.ndarray) -> np.ndarray | None:
    """Arcs for a faster min-cost flow on big networks, or None to use them all.

    Keeps every arc that is not a pair arc, every arc some max flow used (so the level counts
    stay reachable in practice; the caller falls back to all arcs otherwise) and the cheapest
    pair arcs of each position. The bound never depends on this: it comes from the max flows.
    """
    pair = net.pair_arcs
    n_pair = pair.stop - pair.start
    if n_pair <= MCF_PRUNE_ABOVE:
        return None
    keep = np.ones(len(net.tail), dtype=bool)
    keep[pair] = used[pair]
    ids = np.arange(pair.start, pair.stop)
    heads = net.head[ids]
    costs = net.cost[ids]
    c_lo = int(costs.min()) if len(costs) else 0
    c_span = (int(costs.max()) - c_lo + 1) if len(costs) else 1
    n_keys = c_span * (int(heads.max()) + 1 if len(heads) else 1)
    if n_keys < 2**62:
        # one integer key (head, cost); the stable sort keeps ids in order within ties
        order = cand.stable_argsort(heads * c_span + (costs - c_lo), n_keys)
    else:
        order = np.lexsort((ids, costs, heads))
    hs = heads[order]
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])  # first arc of each position
    rank = np.arange(len(hs)) - np.repeat(starts, np.diff(np.r_[starts, len(hs)]))
    cap = prep.positions.capacity[hs - net.pos_base]
    cheap = ids[order][rank < np.maximum(MCF_KEEP_PER_POSITION, MCF_KEEP_PER_PLACE * cap)]
    keep[cheap] = True
    # drop the volunteer side of volunteers and groups left without a pair arc (no flow can
    # pass them): their source and group arcs only slow the min-cost flow down
    alive = np.zeros(net.n_nodes, dtype=bool)
    alive[net.tail[ids[keep[pair]]]] = True
    head_side = np.arange(pair.start)
    to_group = head_side[net.tail[head_side] != SOURCE]
    keep[to_group] = alive[net.head[to_group]]
    alive[net.tail[to_group[keep[to_group]]]] = True
    from_source = head_side[net.tail[head_side] == SOURCE]
    keep[from_source] = alive[net.head[from_source]]
    return np.flatnonzero(keep)


# ---------------------------------------------------------------------- components


@dataclass
class _Component:
    pairs: np.ndarray  # pair indices
    locked: np.ndarray  # locked indices
    shifts: np.ndarray
    vols: np.ndarray

    @property
    def n_pairs(self) -> int:
        return len(self.pairs) + len(self.locked)


@dataclass
class _Structure:
    """Connected components and the component of every pair, locked pair and shift."""

    comp_of_pair: np.ndarray
    comp_of_lock: np.ndarray
    comp_of_shift: np.ndarray  # -1: the shift has no pair
    comps: list[_Component]


def _components(
    prep: _Prepared, flow: _Flow, structure: _Structure | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[_Component]]:
    """Per component the flow bound (places of the relaxed optimum inside it), then the
    component of every pair, locked pair and shift, and the components (`_structure`)."""
    st = structure or _structure(prep)
    n_c = len(st.comps)
    bound = np.zeros(n_c, dtype=np.int64)
    if len(flow.chosen_arcs):
        np.add.at(bound, st.comp_of_pair[prep.a_pair[flow.chosen_arcs]], 1)
    if len(flow.chosen_locked):
        np.add.at(bound, st.comp_of_lock[prep.la_lock[flow.chosen_locked]], 1)
    return bound, st.comp_of_pair, st.comp_of_lock, st.comp_of_shift, st.comps


def _structure(prep: _Prepared) -> _Structure:
    """Connected components of volunteers and shifts linked by candidate or locked pairs.

    Only components with at least one pair are listed, numbered by their first volunteer or
    shift; members are ascending within a component.
    """
    n_v = prep.arr.n_volunteers
    n_s = prep.arr.n_shifts
    a = np.concatenate([prep.pv, prep.lk_v])
    b = np.concatenate([prep.ps, prep.lk_s]) + n_v
    graph = sparse.csr_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_v + n_s, n_v + n_s))
    _, label = csgraph.connected_components(graph, directed=False)
    label = label.astype(np.int64)
    linked = np.zeros(n_v + n_s, dtype=bool)
    linked[a] = True
    linked[b] = True
    used = np.unique(label[linked])  # labels number components by their first node
    n_c = len(used)
    comp_of_node = np.where(linked, np.searchsorted(used, label), -1)
    comp_of_pair = comp_of_node[prep.pv]
    comp_of_lock = comp_of_node[prep.lk_v]
    comp_of_shift = comp_of_node[n_v:]

    def members(comp_of: np.ndarray) -> list[np.ndarray]:
        """Indices grouped by component, ascending within each (unlinked ones left out)."""
        ids = np.flatnonzero(comp_of >= 0)
        order = ids[cand.stable_argsort(comp_of[ids], n_c)]
        cut = np.searchsorted(comp_of[order], np.arange(n_c + 1))
        return [order[cut[c] : cut[c + 1]] for c in range(n_c)]

    pairs_of, locked_of = members(comp_of_pair), members(comp_of_lock)
    vols_of, shifts_of = members(comp_of_node[:n_v]), members(comp_of_shift)
    comps = [
        _Component(pairs=pairs_of[c], locked=locked_of[c], shifts=shifts_of[c], vols=vols_of[c])
        for c in range(n_c)
    ]
    return _Structure(comp_of_pair, comp_of_lock, comp_of_shift, comps)


# ---------------------------------------------------------------------- roster state


@dataclass
class _ArcIndex:
    """Pair arcs grouped by position (ascending pair within one) and pairs by volunteer."""

    arcs_by_pos: np.ndarray
    arcs_pos_bounds: np.ndarray
    pair_bounds: np.ndarray

    @classmethod
    def build(cls, prep: _Prepared) -> _ArcIndex:
        # arcs are sorted by pair: a stable sort by position keeps pairs ascending within one
        order = cand.stable_argsort(prep.a_pos, len(prep.positions))
        return cls(
            arcs_by_pos=order,
            arcs_pos_bounds=np.searchsorted(prep.a_pos[order], np.arange(len(prep.positions) + 1)),
            pair_bounds=np.searchsorted(prep.pv, np.arange(prep.arr.n_volunteers + 1)),
        )


def _ints(values: np.ndarray) -> memoryview:
    """Element access to an integer array that returns Python ints."""
    return memoryview(np.ascontiguousarray(values, dtype=np.int64))


class _State:
    """The current roster: non-locked pairs with positions, locked pairs with positions."""

    def __init__(self, prep: _Prepared, index: _ArcIndex | None = None) -> None:
        self.prep = prep
        self.pos_fill = np.zeros(len(prep.positions), dtype=np.int64)
        self.pair_pos: dict[int, int] = {}  # pair -> position
        self.vol_pairs: dict[int, set[int]] = defaultdict(set)
        self.vol_hours: dict[int, int] = defaultdict(int)  # duration of each one's pairs
        self.locked_pos: dict[int, int] = {}  # locked index -> position (placed ones)
        self.warnings: list[str] = []
        self.flow_fill = self.pos_fill
        # arcs grouped by position (for augmenting searches) and by pair
        index = index or _ArcIndex.build(prep)
        self.arcs_by_pos = index.arcs_by_pos
        self.arcs_pos_bounds = index.arcs_pos_bounds
        self.pair_bounds = index.pair_bounds
        # the repair and augmenting searches index these one element at a time: memoryviews
        # give Python ints as fast as lists do, without copying millions of pairs
        self.st_l = _ints(prep.pstart)
        self.er_l = _ints(prep.pend_rest)
        self.dur_l = _ints(prep.pdur)
        self.ps_l = _ints(prep.ps)
        self.pv_l = _ints(prep.pv)
        self.ms_l = _ints(prep.v_ms_rem)
        self.dr_l = _ints(prep.v_dur_rem)
        self.a_pair_l = _ints(prep.a_pair)
        self.double_placed: set[int] = set()
        self.arcs_cache: dict[int, list[int]] = {}
        self.lagrangian_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.moves = 0  # places taken so far: a search need not run again on the same roster
        self.unfinished: list[int] | None = None  # positions a stopped chains pass had left

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_flow(cls, prep: _Prepared, flow: _Flow, index: _ArcIndex | None = None) -> _State:
        st = cls(prep, index)
        positions = prep.positions
        overflow = dict(flow.overflow_to_open)
        flow_fill = np.zeros(len(positions), dtype=np.int64)
        # locked, then pairs, then locked pairs on a place they may not fill; relabel the last
        # `overflow` holders of a reserved position (so those locked pairs move first)
        entries: dict[int, list[tuple[int, int]]] = defaultdict(list)  # pos -> (kind, idx)
        for la in flow.chosen_locked.tolist():
            entries[int(prep.la_pos[la])].append(
                (2 if prep.la_off[la] else 0, int(prep.la_lock[la]))
            )
        for a in flow.chosen_arcs.tolist():
            entries[int(prep.a_pos[a])].append((1, int(prep.a_pair[a])))
        for q in sorted(entries):
            items = sorted(entries[q], key=lambda item: item[0])
            spill = overflow.get(q, 0)
            for j, (kind, idx) in enumerate(items):
                target = q
                if spill and j >= len(items) - spill:
                    target = int(positions.open_of_shift[positions.shift[q]])
                flow_fill[target] += 1
                if kind != 1:
                    st.locked_pos[idx] = target
                    st.pos_fill[target] += 1
                elif idx in st.pair_pos:
                    # the relaxation let the volunteer take two places of one shift
                    st.double_placed.add(int(prep.pv[idx]))
                else:
                    st._add(idx, target)
        st.flow_fill = flow_fill
        return st

    @classmethod
    def from_greedy(cls, prep: _Prepared, index: _ArcIndex | None = None) -> _State:
        """A roster without the flow: the locked pairs placed like the flow places them (the
        most on places they may fill, then a shift's budget on its other free places; among
        places, those fewest others could fill first), then `_anytime.greedy` on the places
        left."""
        st = cls(prep, index)
        positions = prep.positions
        takers = np.diff(st.arcs_pos_bounds).tolist()  # candidate arcs into each position
        proper: dict[int, list[int]] = defaultdict(list)
        off: dict[int, list[int]] = defaultdict(list)
        for lk, q, is_off in zip(
            prep.la_lock.tolist(), prep.la_pos.tolist(), prep.la_off.tolist(), strict=True
        ):
            (off if is_off else proper)[lk].append(q)
        # a locked pair tries first the place others could least fill (fewest takers
        # beyond its places): a holder of two skills leaves the other to its holders
        capacity = positions.capacity.tolist()
        for qs in proper.values():
            qs.sort(key=lambda q: (takers[q] - capacity[q], q))
        by_shift: dict[int, list[int]] = defaultdict(list)
        for lk, s in enumerate(prep.lk_s.tolist()):
            by_shift[s].append(lk)
        for s, lks in sorted(by_shift.items()):
            for q, holders in sorted(_locked_holders(lks, proper, positions.capacity).items()):
                for lk in holders:
                    st.locked_pos[lk] = q
                    st.pos_fill[q] += 1
            budget = prep.off_budget.get(s, 0)
            for lk in lks:
                if not budget:
                    break
                if lk in st.locked_pos:
                    continue
                # the free place others could least fill: fewest takers beyond its room
                room = {
                    q: int(positions.capacity[q] - st.pos_fill[q])
                    for q in off[lk]
                    if st.pos_fill[q] < positions.capacity[q]
                }
                q = min(room, key=lambda q: (takers[q] - room[q], q), default=None)
                if q is not None:
                    st.locked_pos[lk] = q
                    st.pos_fill[q] += 1
                    budget -= 1
        pairs, places = _anytime.greedy(
            prep.a_pair,
            prep.a_pos,
            prep.pcost,
            prep.pv,
            prep.pstart,
            prep.pend_rest,
            prep.pdur,
            prep.v_ms_rem,
            prep.v_dur_rem,
            positions.capacity - st.pos_fill,
            prep.level[positions.shift],
        )
        for pair, q in zip(pairs, places, strict=True):
            st._add(pair, q)
        st.flow_fill = st.pos_fill.copy()
        return st

    def _add(self, pair: int, pos: int) -> None:
        self.pair_pos[pair] = pos
        v = self.pv_l[pair]
        self.vol_pairs[v].add(pair)
        self.vol_hours[v] += self.dur_l[pair]
        self.pos_fill[pos] += 1
        self.moves += 1

    def _remove(self, pair: int) -> int:
        pos = self.pair_pos.pop(pair)
        v = self.pv_l[pair]
        self.vol_pairs[v].discard(pair)
        self.vol_hours[v] -= self.dur_l[pair]
        self.pos_fill[pos] -= 1
        return pos

    # -- rules ----------------------------------------------------------------------
    def _feasible(self, v: int, pairs: list[int]) -> bool:
        """The volunteer's non-locked pairs keep rules 1, 6 and 7 (locked clashes pruned)."""
        if not pairs:
            return True
        ms = self.ms_l[v]
        if ms >= 0 and len(pairs) > ms:
            return False
        dr = self.dr_l[v]
        dur = self.dur_l
        if dr >= 0 and sum(dur[p] for p in pairs) > dr:
            return False
        if len(pairs) == 1:
            return True
        st, er = self.st_l, self.er_l
        ordered = sorted(pairs, key=st.__getitem__)
        return all(st[b] >= er[a] for a, b in itertools.pairwise(ordered))

    def repair(self, prep: _Prepared) -> list[int]:
        """Keep each broken volunteer's best feasible subset; return the broken volunteers.

        Best: the most places by level, then the places fewest candidates could take instead
        (the freed ones are refilled next, and a place many may take is the easiest to
        refill), then the cheapest.
        """
        broken = [
            v
            for v in sorted(self.vol_pairs)
            if v in self.double_placed or not self._feasible(v, list(self.vol_pairs[v]))
        ]
        n_levels = prep.n_levels
        takers = np.diff(self.arcs_pos_bounds)  # candidate arcs into each position

        def scarce(p: int) -> int:
            return int(takers[self.pair_pos[p]])

        for v in broken:
            pairs = sorted(self.vol_pairs[v])

            def value(p: int) -> tuple[int, ...]:
                """What keeping pair p adds: a place at its level, its scarcity, its cost."""
                counts = [0] * (n_levels + 2)
                counts[n_levels - int(prep.level[prep.ps[p]])] = 1
                counts[n_levels] = -scarce(p)
                counts[n_levels + 1] = -int(prep.pcost[p])
                return tuple(counts)

            best: tuple[int, ...] = ()
            if len(pairs) <= BRUTE_FORCE_SUBSET:
                best = self._best_subset(v, pairs, [value(p) for p in pairs])
            else:
                chosen: list[int] = []
                for p in sorted(
                    pairs,
                    key=lambda p: (-int(prep.level[prep.ps[p]]), scarce(p), int(prep.pcost[p]), p),
                ):
                    if self._feasible(v, [*chosen, p]):
                        chosen.append(p)
                best = tuple(chosen)
            keep_shifts: set[int] = set()
            for p in pairs:
                if p not in best or int(prep.ps[p]) in keep_shifts:
                    self._remove(p)
                else:
                    keep_shifts.add(int(prep.ps[p]))
        return broken

    def _best_subset(
        self, v: int, pairs: list[int], values: list[tuple[int, ...]]
    ) -> tuple[int, ...]:
        """The subset of `pairs` (sorted) the volunteer can keep (rules 1, 6 and 7) with the
        greatest sum of the pairs' `values`, the first in the order of subset bitmasks among
        equals (the empty one first). Every feasible subset is visited once, depth first
        with the pairs by start (a pair fits after the last kept one when it starts at or
        after that one's end plus rest); infeasible branches are cut at once."""
        st, er, dur = self.st_l, self.er_l, self.dur_l
        ms, dr = self.ms_l[v], self.dr_l[v]
        n = len(pairs)
        order = sorted(range(n), key=lambda i: st[pairs[i]])
        width = len(values[0]) if values else 0
        best_key: tuple[tuple[int, ...], int] = ((0,) * width, 0)
        best_mask = 0

        def visit(t0: int, last_end: int | None, count: int, hours: int, val, mask: int) -> None:
            nonlocal best_key, best_mask
            key = (val, -mask)
            if key > best_key:
                best_key, best_mask = key, mask
            if ms >= 0 and count >= ms:
                return
            for t in range(t0, n):
                i = order[t]
                p = pairs[i]
                if last_end is not None and st[p] < last_end:
                    continue
                h = hours + dur[p]
                if dr >= 0 and h > dr:
                    continue
                w = values[i]
                visit(
                    t + 1,
                    er[p],
                    count + 1,
                    h,
                    tuple(a + b for a, b in zip(val, w, strict=True)),
                    mask | 1 << i,
                )

        visit(0, None, 0, 0, (0,) * width, 0)
        return tuple(p for i, p in enumerate(pairs) if best_mask >> i & 1)

    # -- augmenting chains ---------------------------------------------------------
    def _moves(self, v: int, pair: int) -> list[int] | None:
        """How volunteer `v` can add `pair` and keep rules 1, 6 and 7: None when directly,
        else the pairs (sorted) each of which they could give up for it.

        Their current pairs keep the rules, so only the new pair is checked against each of
        them (another place of the same shift, or a clash: [start, end + rest) intervals
        that intersect), then the caps on the new totals. Two clashing pairs: no single one
        given up helps; one: only that one, if the caps then hold; none: any whose hours
        make room (the count is then unchanged).
        """
        mine = self.vol_pairs.get(v)
        if not mine:
            return None  # a candidate pair alone keeps the caps (pruned in _prepare)
        ps, st, er, dur = self.ps_l, self.st_l, self.er_l, self.dur_l
        s, a0, a1 = ps[pair], st[pair], er[pair]
        clash = [p for p in mine if ps[p] == s or (st[p] < a1 and a0 < er[p])]
        count, hours = len(mine) + 1, self.vol_hours[v] + dur[pair]
        ms, dr = self.ms_l[v], self.dr_l[v]
        if not clash and (ms < 0 or count <= ms) and (dr < 0 or hours <= dr):
            return None
        if len(clash) > 1 or (ms >= 0 and count - 1 > ms):
            return []
        if clash:
            d = clash[0]
            return [d] if dr < 0 or hours - dur[d] <= dr else []
        return sorted(p for p in mine if dr < 0 or hours - dur[p] <= dr)

    def augment(
        self,
        prep: _Prepared,
        deadline: float = float("inf"),
        *,
        every_free: bool = False,
        stop: Callable[[], bool] | None = None,
        resume: bool = False,
    ) -> int:
        """Refill the places the repair freed through chains of moves that keep every rule
        (with `every_free`, every free place, those the relaxed flow left free too); return
        the places won (stops at the deadline, or once `stop()` is true). With `resume`, a
        pass that was stopped goes on from the position it stopped at instead of starting
        again (where the positions before it would be searched again first)."""
        positions = prep.positions
        target = positions.capacity if every_free else self.flow_fill
        won = 0
        if resume and self.unfinished is not None:
            order = self.unfinished
        else:
            free = np.flatnonzero(self.pos_fill < target)
            order = sorted(free.tolist(), key=lambda q: (-int(prep.level[positions.shift[q]]), q))
        self.unfinished = None

        def over() -> bool:
            # (a search takes microseconds to milliseconds: the clock is cheap beside it)
            return time.perf_counter() >= deadline or (stop is not None and stop())

        for i, q in enumerate(order):
            while self.pos_fill[q] < min(positions.capacity[q], target[q]):
                if over() or not self._augment_one(q):
                    break
                won += 1
            if over():
                self.unfinished = order[i:]
                break
        return won

    def _arcs_at(self, q: int) -> list[int]:
        arcs = self.arcs_cache.get(q)
        if arcs is None:
            lo, hi = int(self.arcs_pos_bounds[q]), int(self.arcs_pos_bounds[q + 1])
            arcs = self.arcs_cache[q] = self.arcs_by_pos[lo:hi].tolist()
        return arcs

    def _augment_one(self, q0: int) -> bool:
        parent: dict[int, tuple[int, int, int, int]] = {}  # pos -> (prev pos, vol, pair, drop)
        seen_pos = {q0}
        seen_vol: set[int] = set()
        queue: deque[int] = deque([q0])
        visits = 0
        while queue:
            q = queue.popleft()
            for a in self._arcs_at(q):
                pair = self.a_pair_l[a]
                v = self.pv_l[pair]
                if v in seen_vol:
                    continue
                if pair in self.pair_pos:
                    # the volunteer is on this shift already: switch position, refill the old one
                    dq = self.pair_pos[pair]
                    if dq != q and dq not in seen_pos:
                        seen_pos.add(dq)
                        parent[dq] = (q, v, pair, pair)
                        queue.append(dq)
                    continue
                visits += 1
                if visits > AUGMENT_MAX_VISITS:
                    return False
                drops = self._moves(v, pair)
                if drops is None:
                    self._apply_chain(parent, q, v, pair)
                    return True
                seen_vol.add(v)
                for drop in drops:
                    dq = self.pair_pos[drop]
                    if dq in seen_pos:
                        continue
                    seen_pos.add(dq)
                    parent[dq] = (q, v, pair, drop)
                    queue.append(dq)
        return False

    def _apply_chain(self, parent: dict, q: int, v: int, pair: int) -> None:
        self._add(pair, q)
        while q in parent:
            prev_q, _u, u_pair, drop = parent[q]
            self._remove(drop)
            self._add(u_pair, prev_q)
            q = prev_q

    # -- components and CP-SAT --------------------------------------------------------
    def pairs_of_vol_all(self, v: int) -> np.ndarray:
        return np.arange(int(self.pair_bounds[v]), int(self.pair_bounds[v + 1]))

    def places_by_component(
        self, comp_of_pair: np.ndarray, comp_of_lock: np.ndarray, n_c: int
    ) -> np.ndarray:
        out = np.zeros(n_c, dtype=np.int64)
        for p in self.pair_pos:
            out[comp_of_pair[p]] += 1
        for lk in self.locked_pos:
            out[comp_of_lock[lk]] += 1
        return out

    def places_in(self, comp: _Component) -> int:
        return sum(1 for p in comp.pairs.tolist() if p in self.pair_pos) + sum(
            1 for lk in comp.locked.tolist() if lk in self.locked_pos
        )

    def multi_institution_components(self, prep: _Prepared, comp_of_pair: np.ndarray) -> set[int]:
        """Components where some volunteer works at two institutions (same-institution cost)."""
        out: set[int] = set()
        inst = prep.arr.s_inst
        locked_insts: dict[int, set[int]] = defaultdict(set)
        for lk in self.locked_pos:
            locked_insts[int(prep.lk_v[lk])].add(int(inst[prep.lk_s[lk]]))
        for v, pairs in self.vol_pairs.items():
            insts = {int(inst[prep.ps[p]]) for p in pairs} | locked_insts.get(v, set())
            if len(insts) > 1 and pairs:
                out.add(int(comp_of_pair[next(iter(pairs))]))
        return out

    def solve_component(
        self,
        prep: _Prepared,
        comp: _Component,
        *,
        seed: int,
        workers: int,
        dtime: float,
        deadline: float,
        hold_fill: bool = False,
        overrides: dict[str, object] | None = None,
    ) -> _cpsat.ComponentResult:
        pairs = comp.pairs
        local = {int(p): i for i, p in enumerate(pairs.tolist())}
        # arcs of the component's pairs
        _, sel = cand.expand_ranges(
            np.searchsorted(prep.a_pair, pairs, side="left"),
            np.searchsorted(prep.a_pair, pairs, side="right"),
        )
        arc_pair = np.array([local[int(p)] for p in prep.a_pair[sel].tolist()], dtype=np.int64)
        arc_pos = prep.a_pos[sel]
        _, lsel = cand.expand_ranges(
            np.searchsorted(prep.la_lock, comp.locked, side="left"),
            np.searchsorted(prep.la_lock, comp.locked, side="right"),
        )
        lk_local = {int(lk): i for i, lk in enumerate(comp.locked.tolist())}
        locked_arc_lock = np.array(
            [lk_local[int(x)] for x in prep.la_lock[lsel].tolist()], dtype=np.int64
        )
        locked_arc_pos = prep.la_pos[lsel]
        off_arcs: dict[int, list[int]] = defaultdict(list)
        for i in np.flatnonzero(prep.la_off[lsel]).tolist():
            off_arcs[int(prep.lk_s[prep.la_lock[lsel[i]]])].append(i)
        pos_ids = np.unique(np.concatenate([arc_pos, locked_arc_pos]))
        positions = prep.positions
        vols = sorted(set(prep.pv[pairs].tolist()))
        hint_arcs = {
            i
            for i, a in enumerate(sel.tolist())
            if self.pair_pos.get(int(prep.a_pair[a])) == int(prep.a_pos[a])
        }
        hint_locked = {
            i
            for i, a in enumerate(lsel.tolist())
            if self.locked_pos.get(int(prep.la_lock[a])) == int(prep.la_pos[a])
        }
        model = _cpsat.ComponentModel(
            pair_vol=prep.pv[pairs],
            pair_shift=prep.ps[pairs],
            pair_start=prep.pstart[pairs],
            pair_end_rest=prep.pend_rest[pairs],
            pair_dur=prep.pdur[pairs],
            pair_cost=prep.pcost[pairs],
            pair_inst=prep.arr.s_inst[prep.ps[pairs]],
            arc_pair=arc_pair,
            arc_pos=arc_pos,
            locked_vol=prep.lk_v[comp.locked],
            locked_inst=prep.arr.s_inst[prep.lk_s[comp.locked]],
            locked_arc_lock=locked_arc_lock,
            locked_arc_pos=locked_arc_pos,
            locked_placed=sum(1 for lk in comp.locked.tolist() if lk in self.locked_pos),
            pos_capacity={int(q): int(positions.capacity[q]) for q in pos_ids},
            pos_level={int(q): int(prep.level[positions.shift[q]]) for q in pos_ids},
            vol_max_shifts={v: int(prep.v_ms_rem[v]) for v in vols},
            vol_max_dur={v: int(prep.v_dur_rem[v]) for v in vols},
            vol_locked_count={int(v): int(prep.v_locked[v]) for v in comp.vols.tolist()},
            fairness_unit=prep.fairness_unit,
            same_institution_unit=prep.same_institution_unit,
            hint_arcs=hint_arcs,
            hint_locked_arcs=hint_locked,
            locked_off_budget=[(a, prep.off_budget[s]) for s, a in sorted(off_arcs.items())],
        )
        hold: dict[int, int] | None = None
        if hold_fill:
            counts = self._places_by_level(
                prep,
                (p for p in pairs.tolist() if p in self.pair_pos),
                (lk for lk in comp.locked.tolist() if lk in self.locked_pos),
            )
            hold = {lv: n for lv, n in enumerate(counts) if lv and n}
        res = _cpsat.solve_component(
            model,
            seed=seed,
            workers=workers,
            deterministic_time=dtime,
            deadline=deadline,
            hold_levels=hold,
            overrides=overrides,
        )
        new_pairs = [int(prep.a_pair[int(sel[i])]) for i in res.arcs]
        new_locked = [int(prep.la_lock[int(lsel[i])]) for i in res.locked_arcs]
        old_pairs = [p for p in pairs.tolist() if p in self.pair_pos]
        old_locked = [lk for lk in comp.locked.tolist() if lk in self.locked_pos]
        old_key = self._roster_key(prep, old_pairs, old_locked)
        new_key = self._roster_key(prep, new_pairs, new_locked)
        if res.improved and new_key > old_key:
            for p in list(self.pair_pos):
                if p in local:
                    self._remove(p)
            for lk in comp.locked.tolist():
                if lk in self.locked_pos:
                    self.pos_fill[self.locked_pos.pop(lk)] -= 1
            for i in res.arcs:
                a = int(sel[i])
                self._add(int(prep.a_pair[a]), int(prep.a_pos[a]))
            for i in res.locked_arcs:
                a = int(lsel[i])
                lk = int(prep.la_lock[a])
                self.locked_pos[lk] = int(prep.la_pos[a])
                self.pos_fill[int(prep.la_pos[a])] += 1
        return res

    def neighbourhood_search(
        self, prep: _Prepared, *, seed: int, workers: int, deadline: float, max_rounds: int
    ) -> int:
        """Re-solve small neighbourhoods of places the repair freed with CP-SAT, everything
        outside held fixed; return the places won."""
        positions = prep.positions
        won = 0
        free = np.flatnonzero(self.pos_fill < self.flow_fill)
        order = sorted(free.tolist(), key=lambda q: (-int(prep.level[positions.shift[q]]), q))
        for q in order[:max_rounds]:
            if time.perf_counter() >= deadline:
                break
            if self.pos_fill[q] >= self.flow_fill[q]:
                continue
            before = int(self.pos_fill.sum())
            self._solve_neighbourhood(prep, q, seed=seed, workers=workers, deadline=deadline)
            won += int(self.pos_fill.sum()) - before
        return won

    def closure_search(
        self,
        prep: _Prepared,
        closed: np.ndarray,
        most_open: dict[int, int],
        *,
        seed: int,
        workers: int,
        deadline: float,
        max_rounds: int,
    ) -> int:
        """Re-solve regions around volunteers with slack in the cut bound; return places won.

        A volunteer has slack when the cut bound credits them with more shifts on positions
        outside the cut than they work there. The region grows by alternating steps (the
        positions outside the cut the volunteer may fill, the volunteers working those
        positions, their positions, ...) and is re-solved by CP-SAT with everything else fixed.
        """
        if time.perf_counter() >= deadline:
            return 0  # (the index below takes seconds at 12 M pairs)
        a_bounds = _ints(np.searchsorted(prep.a_pair, np.arange(len(prep.pv) + 1)))
        a_pos = _ints(prep.a_pos)
        closed_l = closed.tolist()

        def slack(v: int) -> int:
            works = sum(1 for p in self.vol_pairs.get(v, ()) if not closed_l[self.pair_pos[p]])
            return most_open.get(v, 0) - works

        seeds = [v for v in sorted(most_open) if slack(v) > 0]
        won = 0
        workers_of: dict[int, list[int]] | None = None
        tried: set[int] = set()
        for v0 in seeds:
            if len(tried) >= max_rounds or time.perf_counter() >= deadline:
                break
            if v0 in tried or slack(v0) <= 0:
                continue
            if workers_of is None:
                workers_of = defaultdict(list)
                for p, q in self.pair_pos.items():
                    workers_of[q].append(self.pv_l[p])
            # alternating BFS from v0: the positions outside the cut a volunteer may fill,
            # the volunteers working them, ...; the region holds all their candidate shifts
            vols = [v0]
            seen_v = {v0}
            seen_q: set[int] = set()
            size = 0
            i = 0
            while i < len(vols) and size < CLOSURE_MAX_PAIRS:
                v = vols[i]
                i += 1
                lo, hi = int(self.pair_bounds[v]), int(self.pair_bounds[v + 1])
                size += hi - lo
                for p in range(lo, hi):
                    for q in a_pos[a_bounds[p] : a_bounds[p + 1]]:
                        if closed_l[q] or q in seen_q:
                            continue
                        seen_q.add(q)
                        for u in sorted(workers_of.get(q, ())):
                            if u not in seen_v:
                                seen_v.add(u)
                                vols.append(u)
            vols = sorted(vols[:i])
            tried.update(vols)
            shifts = sorted(
                {
                    self.ps_l[p]
                    for v in vols
                    for p in range(int(self.pair_bounds[v]), int(self.pair_bounds[v + 1]))
                }
            )
            gained = self._solve_region(
                prep,
                shifts,
                vols,
                seed=seed,
                workers=workers,
                deadline=deadline,
                dtime=CLOSURE_DTIME,
            )
            if gained:
                won += gained
                workers_of = None
        return won

    def lagrangian_index(
        self, comp_of_pair: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arcs by pair (bounds), and the component of every position and volunteer (-1:
        none), built once."""
        if self.lagrangian_cache is None:
            prep = self.prep
            a_bounds = np.searchsorted(prep.a_pair, np.arange(len(prep.pv) + 1))
            comp_of_pos = np.full(len(prep.positions), -1, dtype=np.int64)
            comp_of_pos[prep.a_pos] = comp_of_pair[prep.a_pair]
            comp_of_vol = np.full(prep.arr.n_volunteers, -1, dtype=np.int64)
            comp_of_vol[prep.pv] = comp_of_pair
            self.lagrangian_cache = (a_bounds, comp_of_pos, comp_of_vol)
        return self.lagrangian_cache

    def lagrangian_search(
        self,
        prep: _Prepared,
        flow: _Flow,
        comp_of_pair: np.ndarray,
        comp_of_lock: np.ndarray,
        cut: np.ndarray,
        most_open: dict[int, int],
        bound: np.ndarray,
        *,
        seed: int,
        workers: int,
        deadline: float,
        region: np.ndarray | None = None,
        scope: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """Tighten `bound` (in place) by the Lagrangian bound over a region of positions,
        then the best roster of the master LP's columns (a packing; where it wins nothing,
        CP-SAT on those columns' pairs). Returns (places won, bound lowered).

        The region is by default the positions outside the cut that the cut bound's slack
        volunteers (credited with more shifts there than they work) may take, and the cut's
        positions with a free place: the cut bound is loose exactly there, and few volunteers
        reach them, so the master LP stays small. `scope` (optional) holds all pairs of every
        volunteer with a position in the region (e.g. a component's pairs), to spare a pass
        over all pairs.
        """
        closed = flow.closed
        if closed is None or flow.vcap is None or time.perf_counter() >= deadline:
            return 0, 0
        n_c = len(bound)
        filled = self.places_by_component(comp_of_pair, comp_of_lock, n_c)
        short = filled < bound
        closed_l = closed.tolist()
        works: dict[int, int] = defaultdict(int)
        for p, q in self.pair_pos.items():
            if not closed_l[q]:
                works[self.pv_l[p]] += 1
        a_bounds, comp_of_pos, comp_of_vol = self.lagrangian_index(comp_of_pair)
        if region is None:
            slack = np.array(
                [
                    v
                    for v, m in sorted(most_open.items())
                    if m > works.get(v, 0) and short[comp_of_pair[self.pair_bounds[v]]]
                ],
                dtype=np.int64,
            )
            region = self._open_positions_of(slack, a_bounds, closed)
            # ... and the cut's positions with a free place (the cut bound counts them full)
            free = closed & (self.pos_fill < prep.positions.capacity) & (comp_of_pos >= 0)
            free[free] = short[comp_of_pos[free]]
            region = np.union1d(region, np.flatnonzero(free))
            # ... and the open positions of every volunteer who may take one of those, a few
            # steps out: their multipliers at 0 are what holds the bound up there
            # (each step from the positions the last one added: the volunteers who may take
            # the older ones have given theirs already)
            fresh = region
            for _ in range(LAGRANGIAN_REGION_STEPS):
                _, arcs = cand.expand_ranges(
                    self.arcs_pos_bounds[fresh], self.arcs_pos_bounds[fresh + 1]
                )
                reach = np.unique(prep.pv[prep.a_pair[self.arcs_by_pos[arcs]]])
                fresh = np.setdiff1d(self._open_positions_of(reach, a_bounds, closed), region)
                if not len(fresh):
                    break
                region = np.union1d(region, fresh)
        if not len(region):
            return 0, 0
        in_region = np.zeros(len(prep.positions), dtype=bool)
        in_region[region] = True
        if scope is None:
            arcs = np.arange(len(prep.a_pair))
        else:
            _, arcs = cand.expand_ranges(a_bounds[scope], a_bounds[scope + 1])
        arc_pair, arc_pos = prep.a_pair[arcs], prep.a_pos[arcs]
        touching = in_region[arc_pos]
        vols = np.unique(prep.pv[arc_pair[touching]])
        # locked pairs with a position in the region: their term moves with the multipliers
        lock_touch: dict[int, list[int]] = defaultdict(list)
        for lk, q in zip(prep.la_lock.tolist(), prep.la_pos.tolist(), strict=True):
            lock_touch[lk].append(q)
        locked_arcs = [
            (int(comp_of_lock[lk]), qs)
            for lk, qs in sorted(lock_touch.items())
            if any(in_region[q] for q in qs)
        ]
        # the part of each touched component's cut bound the region does not change
        comps = sorted(set(comp_of_pos[region].tolist()))
        base = {c: float(cut[c]) for c in comps}
        for q in region.tolist():
            base[int(comp_of_pos[q])] -= float(closed[q]) * float(prep.positions.capacity[q])
        for v in vols.tolist():
            base[int(comp_of_vol[v])] -= most_open.get(v, 0)
        for c, qs in locked_arcs:
            base[c] -= float(any(not closed[q] for q in qs))
        # a pair weighs something only through a position that is outside the cut or in the
        # region (the others keep multiplier 1)
        weighs = np.zeros(len(prep.pv), dtype=bool)
        weighs[arc_pair[~closed[arc_pos] | touching]] = True
        sched = _colgen.Schedules.build(
            vols,
            self.pair_bounds,
            prep.pstart,
            prep.pend_rest,
            prep.pdur,
            flow.vcap,
            prep.v_dur_rem,
            keep=weighs,
        )
        local = np.full(len(prep.pv), -1, dtype=np.int64)
        local[sched.pairs] = np.arange(len(sched.pairs))
        current: dict[int, list[tuple[int, int]]] = {}
        for i, v in enumerate(vols.tolist()):
            mine = sorted(self.vol_pairs.get(v, ()))
            if mine:
                current[i] = [(int(local[p]), self.pair_pos[p]) for p in mine]
        res = _colgen.region_bound(
            sched=sched,
            a_bounds=a_bounds,
            a_pos=prep.a_pos,
            capacity=prep.positions.capacity,
            closed=closed,
            region=region,
            comp_of_vol=comp_of_vol,
            comp_of_pos=comp_of_pos,
            locked_arcs=locked_arcs,
            base=base,
            filled={c: int(filled[c]) for c in comps},
            current=current,
            deadline=deadline,
        )
        lowered = 0
        for c, b in res.bound.items():
            if b < bound[c]:
                lowered += int(bound[c] - b)
                bound[c] = b
        filled = self.places_by_component(comp_of_pair, comp_of_lock, n_c)
        if not res.support or not (filled[comps] < bound[comps]).any():
            return 0, lowered
        # the master's columns hold a roster as good as the bound where it is integral or
        # nearly so: first the best packing of whole columns (a MIP); when it wins nothing,
        # CP-SAT on the pairs of the columns the master uses and on those of every column
        # generated, everything else fixed
        won = self.column_search(prep, res.schedules, seed=seed, workers=workers, deadline=deadline)
        filled = self.places_by_component(comp_of_pair, comp_of_lock, n_c)
        if won or not (filled[comps] < bound[comps]).any():
            # (after a packing that won, the next pass, priced around the new roster, finds
            # more sooner than CP-SAT on these columns: 3 000 x 900 reaches its bound in the
            # whole-component step by 7-9 s, was by 14-16 s in the searches again, or not)
            return won, lowered
        for pairs in (res.support, res.generated):
            if time.perf_counter() >= deadline:
                break
            allowed = set(pairs)
            r_vols = sorted({self.pv_l[p] for p in allowed})
            r_shifts = sorted(
                {self.ps_l[p] for p in allowed}
                | {self.ps_l[p] for v in r_vols for p in self.vol_pairs.get(v, ())}
            )
            won += self._solve_region(
                prep,
                r_shifts,
                r_vols,
                seed=seed,
                workers=workers,
                deadline=deadline,
                dtime=LAGRANGIAN_DTIME,
                allowed=allowed,
            )
            filled = self.places_by_component(comp_of_pair, comp_of_lock, n_c)
            if not (filled[comps] < bound[comps]).any():
                break
        return won, lowered

    def column_search(
        self,
        prep: _Prepared,
        schedules: list[tuple[int, list[tuple[int, int]]]],
        *,
        seed: int,
        workers: int,
        deadline: float,
    ) -> int:
        """The best roster made of whole columns of a Lagrangian master: every volunteer
        keeps their current places or takes one of their priced schedules (pair, position;
        with the current places that fit beside it), the others' places fixed, at least as
        many places at or above every priority level, the most places in all
        (`_colgen.pack_columns`). A better one (its schedules checked again) is placed by
        CP-SAT on those pairs and the current ones, started from it (`_solve_region` with
        `hint`), and kept when it is better by priority and in places. Returns the places
        won."""
        by_vol: dict[int, set[tuple[tuple[int, int], ...]]] = defaultdict(set)
        for v, entries in schedules:
            if entries:
                by_vol[v].add(self._with_current_places(v, entries))
        vols = sorted(by_vol)
        columns: list[tuple[int, list[tuple[int, int]]]] = []
        hint: list[int] = []
        for v in vols:
            mine = tuple(sorted((p, self.pair_pos[p]) for p in self.vol_pairs.get(v, ())))
            if mine:
                hint.append(len(columns))
                columns.append((v, list(mine)))
            columns.extend((v, list(e)) for e in sorted(by_vol[v] - {mine}))
        if len(columns) == len(hint):
            return 0
        current = [p for v in vols for p in self.vol_pairs.get(v, ())]
        touched = {q for _v, entries in columns for _p, q in entries}
        capacity = self._places_left(prep, touched, current)
        level = prep.level
        ps = self.ps_l

        def level_of(p: int) -> int:
            return int(level[ps[p]])

        # places at or above each level but the lowest (the total is the objective)
        at_or_above = list(itertools.accumulate(self._places_by_level(prep, current)[::-1]))[::-1]
        hold = {lv: at_or_above[lv] for lv in range(2, prep.n_levels + 1)}
        chosen = _colgen.pack_columns(columns, capacity, level_of, hold, hint, deadline)
        if chosen is None:
            return 0
        new = {p: q for i in chosen for p, q in columns[i][1]}
        if len(new) <= len(current):
            return 0
        # each chosen schedule keeps its volunteer's rules (the pricing's own, checked again)
        schedule: dict[int, list[int]] = defaultdict(list)
        for p in new:
            schedule[self.pv_l[p]].append(p)
        if not all(self._feasible(v, pairs) for v, pairs in schedule.items()):
            return 0
        return self._solve_region(
            prep,
            sorted({ps[p] for p in new} | {ps[p] for p in current}),
            vols,
            seed=seed,
            workers=workers,
            deadline=deadline,
            dtime=LAGRANGIAN_DTIME,
            allowed=set(new),
            hint=new,
        )

    def _with_current_places(
        self, v: int, entries: list[tuple[int, int]]
    ) -> tuple[tuple[int, int], ...]:
        """A priced schedule of volunteer v (pair, position) with v's current places that fit
        beside it added (in pair order; each keeps its position): the pricing leaves out pairs
        the region's multipliers do not price (closed positions outside it count full there),
        so a schedule alone would give those places up, and the packing would count the loss.
        """
        pairs = [p for p, _q in entries]
        have = set(pairs)
        kept = list(entries)
        for p in sorted(self.vol_pairs.get(v, ())):
            if p not in have and self._feasible(v, [*pairs, p]):
                pairs.append(p)
                kept.append((p, self.pair_pos[p]))
        return tuple(sorted(kept))

    def _places_left(
        self, prep: _Prepared, positions: Iterable[int], moving: Iterable[int]
    ) -> dict[int, int]:
        """Places of each position that the `moving` pairs may take: its capacity less the
        places held by everyone else (locked pairs included; `pos_fill` counts them all)."""
        left = {q: int(prep.positions.capacity[q]) - int(self.pos_fill[q]) for q in positions}
        for p in moving:
            q = self.pair_pos.get(p)
            if q in left:
                left[q] += 1
        return {q: max(n, 0) for q, n in left.items()}

    def _open_positions_of(
        self, vols: np.ndarray, a_bounds: np.ndarray, closed: np.ndarray
    ) -> np.ndarray:
        """Positions outside the cut that any of `vols` may take (sorted)."""
        _, pairs = cand.expand_ranges(self.pair_bounds[vols], self.pair_bounds[vols + 1])
        _, arcs = cand.expand_ranges(a_bounds[pairs], a_bounds[pairs + 1])
        found = np.unique(self.prep.a_pos[arcs])
        return found[~closed[found]]

    def _neighbourhood(self, prep: _Prepared, q0: int) -> tuple[list[int], list[int]]:
        """Shifts and volunteers around position q0: volunteers who may fill a place of a
        shift, the shifts they work, the volunteers of those shifts, and so on (BFS)."""
        positions = prep.positions
        shifts: list[int] = [int(positions.shift[q0])]
        seen_s = set(shifts)
        vols: list[int] = []
        seen_v: set[int] = set()
        pairs_count = 0
        i = 0
        while i < len(shifts) and pairs_count < LNS_MAX_PAIRS:
            s = shifts[i]
            i += 1
            lo, hi = int(positions.first_of_shift[s]), int(positions.first_of_shift[s + 1])
            cands: list[int] = []
            for q in range(lo, hi):
                for a in self._arcs_at(q):
                    v = self.pv_l[self.a_pair_l[a]]
                    if v not in seen_v:
                        seen_v.add(v)
                        cands.append(v)
            for v in sorted(cands):
                vols.append(v)
                mine = sorted(self.ps_l[p] for p in self.vol_pairs.get(v, ()))
                pairs_count += int(self.pair_bounds[v + 1] - self.pair_bounds[v]) // 4 + 1
                for s2 in mine:
                    if s2 not in seen_s:
                        seen_s.add(s2)
                        shifts.append(s2)
                if pairs_count >= LNS_MAX_PAIRS:
                    break
        return shifts, vols

    def _solve_neighbourhood(
        self, prep: _Prepared, q0: int, *, seed: int, workers: int, deadline: float
    ) -> None:
        shifts, vols = self._neighbourhood(prep, q0)
        self._solve_region(
            prep, shifts, vols, seed=seed, workers=workers, deadline=deadline, dtime=LNS_DTIME
        )

    def _solve_region(
        self,
        prep: _Prepared,
        shifts: list[int],
        vols: list[int],
        *,
        seed: int,
        workers: int,
        deadline: float,
        dtime: float,
        allowed: set[int] | None = None,
        hint: dict[int, int] | None = None,
    ) -> int:
        """Re-solve the places of `shifts` open to `vols` by CP-SAT for fill, everything else
        held fixed; keep the result when it fills more places. Returns the places won.
        With `allowed`, only those pairs (and the current roster's) may be chosen; `hint`
        (pair -> position) starts CP-SAT from that roster instead of the current one."""
        s_set = set(shifts)
        positions = prep.positions
        # variable pairs: the volunteers' candidate pairs to the neighbourhood's shifts that
        # clash with none of their fixed shifts outside it
        var_pairs: list[int] = []
        ms: dict[int, int] = {}
        dr: dict[int, int] = {}
        st, er, dur = self.st_l, self.er_l, self.dur_l
        for v in vols:
            outside = [p for p in self.vol_pairs.get(v, ()) if self.ps_l[p] not in s_set]
            m = self.ms_l[v]
            ms[v] = -1 if m < 0 else max(m - len(outside), 0)
            d = self.dr_l[v]
            dr[v] = -1 if d < 0 else max(d - sum(dur[p] for p in outside), 0)
            for p in range(int(self.pair_bounds[v]), int(self.pair_bounds[v + 1])):
                if self.ps_l[p] not in s_set:
                    continue
                if allowed is not None and p not in allowed and p not in self.pair_pos:
                    continue
                if any(st[p] < er[o] and st[o] < er[p] for o in outside):
                    continue
                var_pairs.append(p)
        if not var_pairs:
            return 0
        pairs = np.array(sorted(var_pairs), dtype=np.int64)
        local = {int(p): i for i, p in enumerate(pairs.tolist())}
        _, sel = cand.expand_ranges(
            np.searchsorted(prep.a_pair, pairs, side="left"),
            np.searchsorted(prep.a_pair, pairs, side="right"),
        )
        arc_pos = prep.a_pos[sel]
        pos_ids = np.unique(arc_pos).tolist()
        v_set = set(vols)
        var_set = set(local)
        current = [p for p in var_pairs if p in self.pair_pos]
        lost = [
            p
            for v in vols
            for p in self.vol_pairs.get(v, ())
            if self.ps_l[p] in s_set and p not in var_set
        ]
        if lost:
            return 0  # a current pair would be dropped: never happens, the rules are the same
        model = _cpsat.ComponentModel(
            pair_vol=prep.pv[pairs],
            pair_shift=prep.ps[pairs],
            pair_start=prep.pstart[pairs],
            pair_end_rest=prep.pend_rest[pairs],
            pair_dur=prep.pdur[pairs],
            pair_cost=prep.pcost[pairs],
            pair_inst=prep.arr.s_inst[prep.ps[pairs]],
            arc_pair=np.array([local[int(p)] for p in prep.a_pair[sel].tolist()], dtype=np.int64),
            arc_pos=arc_pos,
            locked_vol=np.zeros(0, np.int64),
            locked_inst=np.zeros(0, np.int64),
            locked_arc_lock=np.zeros(0, np.int64),
            locked_arc_pos=np.zeros(0, np.int64),
            locked_placed=0,
            pos_capacity=self._places_left(prep, pos_ids, current),
            pos_level={q: int(prep.level[positions.shift[q]]) for q in pos_ids},
            vol_max_shifts=ms,
            vol_max_dur=dr,
            vol_locked_count={v: int(prep.v_locked[v]) for v in v_set},
            fairness_unit=0,
            same_institution_unit=0,
            hint_arcs={
                i
                for i, a in enumerate(sel.tolist())
                if (self.pair_pos if hint is None else hint).get(self.a_pair_l[a])
                == int(prep.a_pos[a])
            },
        )
        before = len(current)
        res = _cpsat.solve_component(
            model,
            seed=seed,
            workers=workers,
            deterministic_time=dtime,
            deadline=deadline,
            fill_only=True,
        )
        chosen = [int(sel[i]) for i in res.arcs]
        if (hint is None and not res.improved) or len(chosen) <= before:
            return 0
        if hint is not None:
            # not started from the current roster: better only when better by priority too
            taken = self._places_by_level(prep, (self.a_pair_l[a] for a in chosen))
            if taken[::-1] <= self._places_by_level(prep, current)[::-1]:
                return 0
        for p in current:
            self._remove(p)
        for a in chosen:
            self._add(self.a_pair_l[a], int(prep.a_pos[a]))
        return len(chosen) - before

    @staticmethod
    def _places_by_level(
        prep: _Prepared, pairs: Iterable[int], locked: Iterable[int] = ()
    ) -> list[int]:
        """Places of the pairs and locked pairs per priority level (index 0 unused)."""
        levels = [0] * (prep.n_levels + 1)
        for p in pairs:
            levels[int(prep.level[prep.ps[p]])] += 1
        for lk in locked:
            levels[int(prep.level[prep.lk_s[lk]])] += 1
        return levels

    def _roster_key(self, prep: _Prepared, pairs: list[int], locked: list[int]) -> tuple[int, ...]:
        """Lexicographic value of a component's roster: locked placed, places by level from
        the highest, then minus the secondary cost (the objective CP-SAT optimises)."""
        levels = self._places_by_level(prep, pairs, locked)
        cost = sum(int(prep.pcost[p]) for p in pairs)
        count: dict[int, int] = defaultdict(int)
        insts: dict[int, set[int]] = defaultdict(set)
        for p in pairs:
            v = int(prep.pv[p])
            count[v] += 1
            insts[v].add(int(prep.arr.s_inst[prep.ps[p]]))
        for lk in range(len(prep.lk_v)):
            v = int(prep.lk_v[lk])
            if v in count:
                insts[v].add(int(prep.arr.s_inst[prep.lk_s[lk]]))
        for v, n in count.items():
            base = int(prep.v_locked[v])
            cost += prep.fairness_unit * ((base + n) ** 2 - base**2)
            cost += prep.same_institution_unit * (len(insts[v]) - 1)
        return (len(locked), *reversed(levels[1:]), -cost)

    # -- output -----------------------------------------------------------------------
    def assigned_pairs(self) -> list[int]:
        return sorted(self.pair_pos)

    def locked_km(self, prep: _Prepared, problem: Problem) -> list[float]:
        arr = prep.arr
        inst = arr.s_inst[prep.lk_s]
        return cand.haversine_np(
            arr.v_lat[prep.lk_v], arr.v_lon[prep.lk_v], arr.i_lat[inst], arr.i_lon[inst]
        ).tolist()

    def assignments(self, prep: _Prepared) -> tuple[list[Assignment], int]:
        """All assignments (locked ones included) and how many locked pairs overflow."""
        problem = prep.arr.problem
        positions = prep.positions
        rows: list[tuple[int, int, str | None]] = []
        for p, q in self.pair_pos.items():
            rows.append((int(prep.ps[p]), int(prep.pv[p]), positions.skill[q]))
        overflow = 0
        for lk in range(len(prep.lk_v)):
            v, s = int(prep.lk_v[lk]), int(prep.lk_s[lk])
            if lk in self.locked_pos:
                q = self.locked_pos[lk]
                rows.append((s, v, positions.skill[q]))
                self._warn_off_skill(lk, q)
                continue
            overflow += 1
            rows.append((s, v, self._overflow_position(lk)))
        rows.sort(key=lambda r: (r[0], r[1]))
        out = [
            Assignment(problem.volunteers[v].id, problem.shifts[s].id, pos) for s, v, pos in rows
        ]
        return out, overflow

    def _locked_rows(self, lk: int) -> range:
        prep = self.prep
        lo = int(np.searchsorted(prep.la_lock, lk, side="left"))
        return range(lo, int(np.searchsorted(prep.la_lock, lk, side="right")))

    def _warn_off_skill(self, lk: int, q: int) -> None:
        """Warn for a locked pair on a reserved place it may not fill (the shift's budget),
        unless it may fill no place of the shift (already warned as breaking `skills`)."""
        prep = self.prep
        rows = self._locked_rows(lk)
        if not any(prep.la_pos[r] == q and prep.la_off[r] for r in rows):
            return
        if all(prep.la_off[r] for r in rows):
            return
        problem = prep.arr.problem
        vol, sh = problem.volunteers[int(prep.lk_v[lk])], problem.shifts[int(prep.lk_s[lk])]
        self.warnings.append(
            f"locked pair {vol.id} on {sh.id} fills a {prep.positions.skill[q]!r} place "
            f"without that skill: the shift's other places are held by locked volunteers; kept"
        )

    def _overflow_position(self, lk: int) -> str | None:
        """Position of a locked pair left without a place: one of its positions, all of whose
        holders are locked pairs (the most locked pairs take a place, so one exists)."""
        prep = self.prep
        positions = prep.positions
        problem = prep.arr.problem
        v, s = int(prep.lk_v[lk]), int(prep.lk_s[lk])
        rows = self._locked_rows(lk)
        options = sorted(int(prep.la_pos[r]) for r in rows if not prep.la_off[r]) + sorted(
            int(prep.la_pos[r]) for r in rows if prep.la_off[r]
        )
        if not options:  # the volunteer may fill no place of the shift: any place
            first = positions.first_of_shift
            options = list(range(int(first[s]), int(first[s + 1])))
        non_locked = set(self.pair_pos.values())
        pure = [q for q in options if q not in non_locked]
        q = (pure or options or [None])[0]
        sh = problem.shifts[s]
        if q is None:
            self.warnings.append(
                f"locked pair {problem.volunteers[v].id} on {sh.id}: the shift has no place; kept"
            )
            return None
        chosen = positions.skill[q]
        holders = [int(prep.lk_v[o]) for o, oq in self.locked_pos.items() if oq == q]
        for vi in [v, *sorted(holders)]:
            self.warnings.append(
                f"locked pair {problem.volunteers[vi].id} on {sh.id}: more locked volunteers "
                f"than {'open' if chosen is None else repr(chosen)} places; kept"
            )
        return chosen
