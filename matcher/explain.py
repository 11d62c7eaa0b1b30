"""Why places stay open: reason counts and single-relaxation suggestions per unfilled position.

For every (shift, position) with missing places, every volunteer of the problem is counted once
under the first reason that keeps them off that place:

- a static rule, the first failing one in ``eligibility.REASONS`` order ("skills" for a
  reserved position also covers volunteers eligible for the shift who lack that skill);
- ``assigned_here``: already fills another place of the same shift;
- ``taken_elsewhere``: eligible, but works an overlapping shift;
- ``schedule``: eligible, but the rest gap to another of their shifts is too short;
- ``caps``: eligible, but one more shift would break max_shifts or max_hours;
- ``available``: eligible and free (only when the solver stopped before proving the fill).

Suggestions are strings ``"relax=<what>;value=<v>;count=<n>: <text>"`` (see
:func:`parse_suggestion`): each names one rule whose relaxation alone would let ``n`` free
volunteers take the place, best first, at most ``MAX_SUGGESTIONS``.

How, without classifying every volunteer for every position (the result is the same as that
per-volunteer classification, which ``tests/matcher/test_explain.py`` checks against
:mod:`matcher.eligibility`):

- availability once per distinct (start, end) of the short shifts, from the windows grouped by
  length and sorted by start; gender, age, credentials and languages on the available
  volunteers that kept the earlier rules only, once per distinct set of those fields (the
  first failing rule is what is counted);
- the distance rule once per institution: a volunteer is near when the haversine term
  (1 - dot of unit vectors) / 2 is below the one of its travel limit; within a margin of the
  limit :func:`matcher.candidates.distance_ok_np` decides, as in candidate generation.
  Available volunteers keeping the other rules but not near fail distance; volunteers
  breaking exactly one rule other than distance are near, so only those are looked at;
- the schedule rules from the roster's clashes, found per (start, end) through a time index;
- the distance suggestion's nearest free volunteers from growing grid boxes around the
  institution, trusted only when everything outside the box is farther.
"""

from __future__ import annotations

import math
import multiprocessing
import operator
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from matcher import candidates as cand
from matcher.eligibility import DISTANCE_EPS_KM, EARTH_RADIUS_KM, REASONS
from matcher.model import Assignment, Problem, Shift, Unfilled

SCHEDULE_ORDER = ("assigned_here", "taken_elsewhere", "schedule", "caps", "available")
MAX_SUGGESTIONS = 3


def parse_suggestion(text: str) -> dict[str, str | int | float]:
    """Split a suggestion string into its fields: relax, value, count and text."""
    head, _, human = text.partition(": ")
    out: dict[str, str | int | float] = {"text": human}
    for part in head.split(";"):
        key, _, value = part.partition("=")
        if key == "count":
            out[key] = int(value)
        elif key == "value":
            try:
                number = float(value)
                out[key] = int(number) if number.is_integer() else number
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


def _suggestion(relax: str, value: str | float | int, count: int, text: str) -> str:
    return f"relax={relax};value={value};count={count}: {text}"


def explain_unfilled(
    problem: Problem,
    arr: cand.Arrays,
    candidates: cand.Candidates,
    assignments: Iterable[Assignment],
    workers: int = 1,
) -> list[Unfilled]:
    """Unfilled entries (with reasons and suggestions) for every position left short.

    With several workers (and fork available) the short shifts are split between this
    process and forked ones; the result is the same.
    """
    assignments = list(assignments)
    filled = Counter(zip(map(_SHIFT_ID, assignments), map(_POSITION, assignments), strict=True))
    open_places = arr.s_open.tolist()
    # by institution, so that one set of nearby volunteers serves all of its shifts
    order = np.lexsort((np.arange(arr.n_shifts), arr.s_inst)).tolist()
    todo: list[tuple[int, list[tuple[str | None, int]]]] = []
    for si in order:
        shift = problem.shifts[si]
        short: list[tuple[str | None, int]] = []
        required = shift.required_skills
        if required:
            for skill in sorted(required):
                count = int(required[skill])
                got = filled.get((shift.id, skill), 0)
                if count > 0 and count > got:
                    short.append((skill, count - got))
        if open_places[si] > 0:
            got = filled.get((shift.id, None), 0)
            if open_places[si] > got:
                short.append((None, open_places[si] - got))
        if short:
            todo.append((si, short))
    if not todo:
        return []
    context = _Context(problem, arr, assignments)
    workers = max(1, min(workers, 4))
    if (
        workers < 2
        or len(todo) < PARALLEL_MIN_SHORT
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        out = _explain(context, todo)
    else:
        global _FORKED
        cuts = [len(todo) * k // workers for k in range(workers + 1)]
        chunks = [todo[cuts[k] : cuts[k + 1]] for k in range(workers)]
        _FORKED = context
        try:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers - 1) as pool:
                pending = pool.map_async(_explain_part, chunks[1:])
                out = _explain(context, chunks[0])
                for part in pending.get():
                    out.extend(part)
        finally:
            _FORKED = None
    out.sort(key=lambda item: item[0])
    return [u for _, u in out]


_SHIFT_ID = operator.attrgetter("shift_id")
_POSITION = operator.attrgetter("position")
_ID = operator.attrgetter("id")
_VOLUNTEER_ID = operator.attrgetter("volunteer_id")
PARALLEL_MIN_SHORT = 200  # short shifts below which one process explains them all
# per process: availability masks (bytes), and volunteers keeping the other rules or clashing
# with a shift's times (indices, int32)
CACHE_MASK_BYTES = 64_000_000
CACHE_INDICES = 8_000_000


class _Context:
    """What every short shift reads: the roster and the window and distance indexes, built
    once before forking so that forked workers inherit them."""

    def __init__(self, problem: Problem, arr: cand.Arrays, assignments: list[Assignment]):
        self.problem = problem
        self.arr = arr
        self.roster = _Roster(arr, problem, assignments)
        self.windows = _Intervals(arr.w_start, arr.w_end)
        self.near = _Near(arr)
        self.grid = _Grid(arr)


_FORKED: _Context | None = None


def _explain_part(
    todo: list[tuple[int, list[tuple[str | None, int]]]],
) -> list[tuple[int, Unfilled]]:
    assert _FORKED is not None
    return _explain(_FORKED, todo)


def _explain(
    context: _Context, todo: list[tuple[int, list[tuple[str | None, int]]]]
) -> list[tuple[int, Unfilled]]:
    arr, grid = context.arr, context.grid
    covered_cache = _Cache(CACHE_MASK_BYTES)
    kept_cache = _Cache(CACHE_INDICES)
    near_of = -1
    near = _Nearby(np.zeros(0, dtype=np.int64), grid)
    out: list[tuple[int, Unfilled]] = []
    for si, short in todo:
        inst = int(arr.s_inst[si])
        if inst != near_of:
            near, near_of = _Nearby(context.near.within(inst), grid), inst
        # availability depends on the times only, and is reused by every shift with them
        when = (int(arr.s_start[si]), int(arr.s_end[si]))
        covered = covered_cache.get(when)
        if covered is None:
            mask = np.zeros(arr.n_volunteers, dtype=bool)  # by rank
            mask[grid.w_rank[context.windows.holding(*when)]] = True
            covered = covered_cache.put(when, (int(np.count_nonzero(mask)), mask))
        # gender, age, credentials and languages depend on these fields (and the start, for
        # the expiry of credentials) only
        rules = (
            int(arr.s_gender[si]),
            int(arr.s_min_age[si]),
            bool(arr.s_has_creds[si]),
            bool(arr.s_unknown_cred[si]),
            arr.s_creds[si].tobytes(),
            when[0] if arr.s_has_creds[si] else None,
            bool(arr.s_has_langs[si]),
            arr.s_langs[si].tobytes(),
        )
        kept = kept_cache.get((when, rules))
        if kept is None:
            kept = _first_fails(arr, grid, si, np.flatnonzero(covered[1]))
            kept_cache.put((when, rules), kept)
        near_rules = near.rules.get(rules)
        if near_rules is None:
            near_rules = near.rules[rules] = near.breaking(arr, grid.credentials, si)
        out.extend(_explain_shift(context, si, short, covered, kept, near, near_rules))
    return out


class _Nearby:
    """The volunteers keeping the distance rule for one institution: sorted indices, their
    ranks and a mask by rank."""

    def __init__(self, vols: np.ndarray, grid: _Grid) -> None:
        self.vols = vols
        self.boxes: dict[int, tuple[np.ndarray, float] | None] = {}  # grid boxes by size
        self.ranks = grid.rank[vols]
        self.mask = np.zeros(len(grid.rank), dtype=bool)
        self.mask[self.ranks] = True
        self.rules: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def breaking(
        self, arr: cand.Arrays, credentials: _Credentials, s: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The near volunteers breaking at most one of gender, age, credentials, languages
        for shift s: indices, ranks and the rules broken as bits (see :func:`_rule_bits`)."""
        bits = _rule_bits(arr, credentials, s, self.vols)
        few = np.flatnonzero(_N_FAILS[bits] <= 1)
        return self.vols[few], self.ranks[few], bits[few]


class _Cache:
    """Arrays (or tuples holding arrays) by key; the oldest are dropped once the arrays hold
    more than `budget` elements in all."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.items: dict[object, Any] = {}

    def get(self, key: object) -> Any:
        return self.items.get(key)

    def put(self, key: object, value: Any) -> Any:
        size = _size(value)
        while self.items and self.size + size > self.budget:
            self.size -= _size(self.items.pop(next(iter(self.items))))
        self.items[key] = value
        self.size += size
        return value


def _size(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return len(value)
    return sum(len(v) for v in value if isinstance(v, np.ndarray))


def _first_fails(
    arr: cand.Arrays, grid: _Grid, s: int, covered: np.ndarray
) -> tuple[list[int], np.ndarray]:
    """Among the available volunteers (`covered`, ranks): how many break gender, age,
    credentials, languages first, and the ranks of those keeping all four. Each rule is checked
    on the volunteers that kept the previous ones only (the same masks as
    :func:`matcher.candidates.static_reasons`)."""
    counts = [0, 0, 0, 0]
    ranks = covered
    gender = arr.s_gender[s]
    if gender != cand.GENDER_ANY and len(ranks):
        kept = ranks[grid.gender[ranks] == gender]
        counts[0], ranks = len(ranks) - len(kept), kept
    min_age = arr.s_min_age[s]
    if min_age > 0 and len(ranks):
        kept = ranks[grid.age[ranks] >= min_age]
        counts[1], ranks = len(ranks) - len(kept), kept
    if arr.s_has_creds[s] and len(ranks):
        ok = grid.credentials.ok(s, grid.order[ranks])
        kept = ranks[ok]
        counts[2], ranks = len(ranks) - len(kept), kept
    if arr.s_has_langs[s] and len(ranks):
        kept = ranks[_any_common(grid.langs, ranks, arr.s_langs[s])]
        counts[3], ranks = len(ranks) - len(kept), kept
    return counts, ranks.astype(np.int32)  # cached: half the memory


def _rule_bits(arr: cand.Arrays, credentials: _Credentials, s: int, vols: np.ndarray) -> np.ndarray:
    """Per volunteer of `vols`: which of gender, age, credentials, languages it breaks for
    shift s, bit `code` set for rule ``REASONS[code]`` (the same masks as
    :func:`matcher.candidates.static_reasons`)."""
    bits = np.zeros(len(vols), dtype=np.uint8)
    if not len(vols):
        return bits
    gender = arr.s_gender[s]
    if gender != cand.GENDER_ANY:
        bits |= (arr.v_gender[vols] != gender).astype(np.uint8) << cand.R_GENDER
    min_age = arr.s_min_age[s]
    if min_age > 0:
        bits |= (arr.v_age[vols] < min_age).astype(np.uint8) << cand.R_AGE
    if arr.s_has_creds[s]:
        bits |= (~credentials.ok(s, vols)).astype(np.uint8) << cand.R_CREDENTIALS
    if arr.s_has_langs[s]:
        speaks = _any_common(arr.v_langs, vols, arr.s_langs[s])
        bits |= (~speaks).astype(np.uint8) << cand.R_LANGUAGES
    return bits


def _any_common(bitsets: np.ndarray, vols: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row-wise: does the bitset of each volunteer of `vols` share a bit with `wanted`?"""
    if bitsets.shape[1] == 1:
        return (bitsets[vols, 0] & wanted[0]) != 0
    return np.bitwise_and(bitsets[vols], wanted).any(axis=1)


# by rule bits (availability .. languages): how many rules fail, and which one when only one
_N_FAILS = np.array([bin(b).count("1") for b in range(32)], dtype=np.int64)
_ONLY_RULE = np.array([b.bit_length() - 1 if b and not b & (b - 1) else -1 for b in range(32)])


def _explain_shift(
    context: _Context,
    si: int,
    short: list[tuple[str | None, int]],
    covered: tuple[int, np.ndarray],
    kept: tuple[list[int], np.ndarray],
    near: _Nearby,
    near_rules: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> list[tuple[int, Unfilled]]:
    """The entries of one shift from its available volunteers and those within their radius.

    `covered`: how many volunteers are available and a mask of them by rank; `kept`:
    first-failure counts of gender, age, credentials and languages among them, and the ranks
    of those keeping all four; `near`: the volunteers keeping the distance rule, and
    `near_rules` those of them breaking at most one of the four (:meth:`_Nearby.breaking`),
    the only ones that can be eligible or break a single rule here. A volunteer
    neither available nor near breaks availability first and at least one more rule, so it
    only adds to the availability count; one that keeps everything else but is not near
    breaks distance first. Volunteers breaking exactly one rule (the suggestions) are near,
    but for those breaking distance only.
    """
    problem, arr, roster = context.problem, context.arr, context.roster
    shift = problem.shifts[si]
    n_covered, covered_mask = covered
    first_counts, passing = kept
    few, few_ranks, few_bits = near_rules
    bits = few_bits | ~covered_mask[few_ranks].view(np.uint8) & (1 << cand.R_AVAILABILITY)
    eligible = few[bits == 0]
    one = _N_FAILS[bits] == 1
    single = few[one]
    single_rule = _ONLY_RULE[bits[one]]
    n_e = len(eligible)
    # REASONS[:R_SKILLS]: not available, first of gender..languages, available but not near
    static = [arr.n_volunteers - n_covered, *first_counts, len(passing) - n_e]
    roster.mark(si)
    try:
        vols = np.concatenate([eligible, single])
        sched = roster.codes(vols)
        sched_e = sched[:n_e]
        out: list[tuple[int, Unfilled]] = []
        for position, missing in short:
            holds = _holds(arr, position, vols)
            held_e = holds[:n_e]
            reasons = {REASONS[code]: count for code, count in enumerate(static) if count}
            if position is not None:
                lacking = n_e - int(np.count_nonzero(held_e))
                if lacking:
                    reasons["skills"] = lacking
            by_code = np.bincount(sched_e[held_e], minlength=len(SCHEDULE_LABELS)).tolist()
            for label in SCHEDULE_ORDER:
                count = by_code[SCHEDULE_LABELS.index(label)]
                if count:
                    reasons[label] = count
            free = (sched == FREE) & holds
            nearest: list[float] = []
            if static[cand.R_DISTANCE]:
                nearest = _nearest_free(context, si, position, missing, passing, near)
            suggestions = _suggestions(
                shift,
                position,
                missing,
                single=single[free[n_e:]],
                single_rule=single_rule[free[n_e:]],
                ages_of=arr.v_age,
                nearest_km=nearest,
                lacking_free=(
                    int(np.count_nonzero((sched_e == FREE) & ~held_e))
                    if position is not None
                    else 0
                ),
                capped=int(np.count_nonzero(held_e & (sched_e == CAPS))),
            )
            out.append(
                (
                    si,
                    Unfilled(
                        shift_id=shift.id,
                        position=position,
                        missing=missing,
                        reasons=reasons,
                        suggestions=tuple(suggestions),
                    ),
                )
            )
    finally:
        roster.unmark()
    return out


NEAREST_FIRST = 32  # volunteers looked at first for the nearest free ones (then 4x more)
NEAREST_MARGIN_HAV = 1e-12  # + 1e-9 relative: far above the rounding of the chord test
NEAREST_CELLS = 2  # grid cells around the institution in the first box (then 4x more)
NEAREST_BOX_SHARE = 0.5  # a grid box holding more of the candidates: take them all instead


def _nearest_free(
    context: _Context,
    s: int,
    position: str | None,
    missing: int,
    passing: np.ndarray,
    near: _Nearby,
) -> list[float]:
    """Distances (km, ascending, ties by volunteer index) to the institution of shift s of
    the first `missing` volunteers free to take `position` among those breaking distance only
    (`passing` ranks not near; the roster is marked for s).

    Candidates come from growing grid boxes around the institution, then from all of them;
    they are ordered by the chord test value (a rounding away from the haversine term). Once
    `missing` free ones are found, every candidate up to that value plus a margin is measured
    exactly, and a box is only trusted when everything outside it is farther than that, so
    that no volunteer farther away can come first.
    """
    arr, roster, grid = context.arr, context.roster, context.grid
    inst = int(arr.s_inst[s])
    lat, lon = float(arr.i_lat[inst]), float(arr.i_lon[inst])
    pick: np.ndarray | None = None
    cells = NEAREST_CELLS
    while pick is None:
        box = near.boxes.get(cells)
        if box is None:
            box = near.boxes[cells] = grid.box(lat, lon, cells)
        if box is None:
            break
        ends, bound = box
        ab = np.searchsorted(passing, ends).tolist()
        a, b = ab[: len(ab) // 2], ab[len(ab) // 2 :]
        if sum(b) - sum(a) > NEAREST_BOX_SHARE * len(passing):
            break
        if len(a) > 8:
            ranks = passing[cand.expand_ranges(np.array(a), np.array(b))[1]]
        else:
            ranks = np.concatenate([passing[x:y] for x, y in zip(a, b, strict=True)])
        vols = grid.order[ranks[~near.mask[ranks]]]
        vols = vols[_holds(arr, position, vols)]
        vols = vols[roster.free(vols)]
        if len(vols) >= missing:
            hav = context.near.hav(inst, vols)
            cut = float(np.partition(hav, missing - 1)[missing - 1])
            limit = cut + NEAREST_MARGIN_HAV + 1e-9 * abs(cut)
            if limit < bound:
                pick = vols[hav <= limit]
        cells *= 4
    if pick is None:
        vols = grid.order[passing[~near.mask[passing]]]
        pick = _nearest_by_chord(context, inst, vols[_holds(arr, position, vols)], missing)
    n = len(pick)
    if not n:
        return []
    km = cand.haversine_np(arr.v_lat[pick], arr.v_lon[pick], np.full(n, lat), np.full(n, lon))
    return km[np.lexsort((pick, km))[:missing]].tolist()


def _nearest_by_chord(context: _Context, inst: int, vols: np.ndarray, missing: int) -> np.ndarray:
    """The volunteers of `vols` free for the marked shift that may be among the `missing`
    nearest free ones: taken by chord test value, more at a time until enough are free."""
    roster = context.roster
    if not len(vols):
        return vols
    hav = context.near.hav(inst, vols)
    pick = vols
    if not np.isnan(hav).any():  # odd coordinates: everyone is measured
        k = NEAREST_FIRST
        while k < len(vols):
            first = np.argpartition(hav, k - 1)[:k]
            free = first[roster.free(vols[first])]
            if len(free) >= missing:
                cut = float(np.partition(hav[free], missing - 1)[missing - 1])
                pick = vols[hav <= cut + NEAREST_MARGIN_HAV + 1e-9 * abs(cut)]
                break
            k *= 4
    return pick[roster.free(pick)]


class _Credentials:
    """The credential rule through, per required credential, the latest expiry of each
    volunteer's records of it (computed when first needed)."""

    def __init__(self, arr: cand.Arrays) -> None:
        self.arr = arr
        index = arr.c_word * 64 + np.log2(arr.c_bit.astype(np.float64)).astype(np.int64)
        order = np.argsort(index, kind="stable")
        self.rec = order
        self.ptr = np.searchsorted(index[order], np.arange(len(arr.credentials.names) + 1))
        self.latest: dict[int, np.ndarray] = {}

    def _latest(self, c: int) -> np.ndarray:
        out = self.latest.get(c)
        if out is None:
            arr = self.arr
            rec = self.rec[self.ptr[c] : self.ptr[c + 1]]
            out = np.full(arr.n_volunteers, np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(out, arr.c_vol[rec], arr.c_expires[rec])
            if len(self.latest) >= CREDENTIALS_CACHED:
                self.latest.pop(next(iter(self.latest)))
            self.latest[c] = out
        return out

    def ok(self, s: int, vols: np.ndarray) -> np.ndarray:
        """Same as :func:`matcher.candidates.credentials_ok_np` for shift s: every required
        credential held by a record that does not expire by the shift's start."""
        arr = self.arr
        if not arr.s_has_creds[s]:
            return np.ones(len(vols), dtype=bool)
        if arr.s_unknown_cred[s]:
            return np.zeros(len(vols), dtype=bool)
        start = arr.s_start[s]
        ok = np.ones(len(vols), dtype=bool)
        for word, bits in enumerate(arr.s_creds[s].tolist()):
            for bit in range(64):
                if bits >> bit & 1:
                    ok &= self._latest(word * 64 + bit)[vols] > start
        return ok


CREDENTIALS_CACHED = 16  # latest-expiry arrays (one per credential) kept per process
GRID_DEG = 0.05
GRID_COLUMNS = round(360 / GRID_DEG) + 2


class _Grid:
    """Volunteers numbered ("ranks") by grid cell: rows of GRID_DEG latitude, then columns of
    GRID_DEG longitude. Sets of ranks kept sorted are then sorted by cell, so that the members
    of a box of cells come from one slice per row."""

    def __init__(self, arr: cand.Arrays):
        lat, lon = arr.v_lat, arr.v_lon
        with np.errstate(invalid="ignore"):
            regular = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
            regular &= np.abs(lon) <= 180.0
        self.enabled = bool(regular.all())
        if self.enabled:
            row = np.floor(lat / GRID_DEG).astype(np.int64)
            col = np.floor((lon + 180.0) / GRID_DEG).astype(np.int64)
            key = row * GRID_COLUMNS + col
        else:  # boxes cannot be trusted: no grid
            key = np.zeros(arr.n_volunteers, dtype=np.int64)
        order = np.argsort(key, kind="stable")
        self.order = order  # rank -> volunteer
        self.rank = np.empty_like(order)  # volunteer -> rank
        self.rank[order] = np.arange(len(order))
        self.key = key[order]
        self.w_rank = self.rank[arr.w_vol]
        self.gender = arr.v_gender[order]
        self.age = arr.v_age[order]
        self.langs = arr.v_langs[order]
        self.credentials = _Credentials(arr)

    def box(self, lat: float, lon: float, cells: int) -> tuple[np.ndarray, float] | None:
        """Rank ranges [lo, hi) of the volunteers within `cells` cells of the point (the lo of
        every row, then the hi of every row), and a lower bound of the haversine term of any
        volunteer outside them; None when the box would leave the map (or there is no
        grid)."""
        if not (self.enabled and math.isfinite(lat) and math.isfinite(lon)):
            return None
        row = math.floor(lat / GRID_DEG)
        col = math.floor((lon + 180.0) / GRID_DEG)
        lat_lo, lat_hi = (row - cells) * GRID_DEG, (row + cells + 1) * GRID_DEG
        lon_lo = (col - cells) * GRID_DEG - 180.0
        lon_hi = (col + cells + 1) * GRID_DEG - 180.0
        if lat_lo <= -90.0 or lat_hi >= 90.0 or lon_lo <= -180.0 or lon_hi >= 180.0:
            return None
        keys = np.arange(row - cells, row + cells + 1, dtype=np.int64) * GRID_COLUMNS
        # [lo, hi) of each row: the first rank of the row's first and of the next cell
        ends = np.searchsorted(
            self.key, np.concatenate([keys + (col - cells), keys + (col + cells + 1)])
        )
        # outside the box a point is farther in latitude than the nearer edge, or beyond the
        # nearer edge meridian, whose great circle is asin(cos(lat) sin(dlon)) away
        d_lat = math.radians(min(lat - lat_lo, lat_hi - lat) - 1e-9)
        d_lon = math.radians(min(lon - lon_lo, lon_hi - lon, 90.0) - 1e-9)
        across = math.asin(max(0.0, min(1.0, math.cos(math.radians(lat)) * math.sin(d_lon))))
        d = max(0.0, min(d_lat, across))
        return ends, math.sin(d / 2.0) ** 2 * (1.0 - 1e-9) - 1e-15


FREE, HERE, OVERLAP, REST, CAPS = range(5)
SCHEDULE_LABELS = ("available", "assigned_here", "taken_elsewhere", "schedule", "caps")
NO_CAP = np.iinfo(np.int64).max
CAPPED_CACHED = 32  # per process: which volunteers a shift of each length would cap out


class _Roster:
    """The solution's shifts, for the schedule rules of one more shift per volunteer.

    :meth:`mark` finds, through an index of the assigned shifts by time, the volunteers
    already on the shift or on one overlapping it or too close to it; :meth:`codes` then
    classifies any volunteers (the same rules as
    :func:`matcher.eligibility.schedule_reasons`) until :meth:`unmark`.
    """

    def __init__(self, arr: cand.Arrays, problem: Problem, assignments: list[Assignment]):
        vol_index = dict(zip(map(_ID, problem.volunteers), range(arr.n_volunteers), strict=True))
        shift_index = dict(zip(map(_ID, problem.shifts), range(arr.n_shifts), strict=True))
        n_a = len(assignments)
        av = np.fromiter(map(vol_index.__getitem__, map(_VOLUNTEER_ID, assignments)), np.int64, n_a)
        ash = np.fromiter(map(shift_index.__getitem__, map(_SHIFT_ID, assignments)), np.int64, n_a)
        order = np.lexsort((ash, av))
        av, ash = av[order], ash[order]
        n_v = arr.n_volunteers
        self.arr = arr
        self.rest_us = problem.settings.min_rest_minutes * 60 * 10**6
        self.av, self.ash = av, ash
        self.a_start, self.a_end = arr.s_start[ash], arr.s_end[ash]
        self.busy = _Intervals(self.a_start, self.a_end)
        by_shift = np.argsort(ash, kind="stable")
        self.here_rows = by_shift
        self.here_ptr = np.searchsorted(ash[by_shift], np.arange(arr.n_shifts + 1))
        count = np.bincount(av, minlength=n_v)
        dur = arr.s_end - arr.s_start
        total_us = np.bincount(av, weights=dur[ash], minlength=n_v).astype(np.int64)
        ms, cap_us = arr.v_max_shifts, arr.v_max_hours_us
        # caps break when count + 1 > max_shifts or total + duration > max_hours
        self.no_shift_left = np.where(ms >= 0, ms - count, NO_CAP) < 1
        self.time_left = np.where(cap_us >= 0, cap_us - total_us, NO_CAP)
        self.capped_by: dict[int, np.ndarray] = {}  # by duration: would break a cap
        self.capped = self.no_shift_left
        self.code = np.zeros(n_v, dtype=np.int8)
        self.clash = _Cache(CACHE_INDICES)  # by (start, end): volunteers at REST, OVERLAP
        self.marked: tuple[np.ndarray, ...] = ()

    def mark(self, s: int) -> None:
        """Note which volunteers shift s would clash with (HERE, OVERLAP or REST)."""
        arr = self.arr
        start, end = int(arr.s_start[s]), int(arr.s_end[s])
        clash = self.clash.get((start, end))
        if clash is None:
            # a row of shift s itself counts as OVERLAP or REST here; HERE overrides it below
            reach = max(self.rest_us, 0)
            rows = self.busy.holding(end + reach, start - reach)  # every row that can clash
            vol, a_start, a_end = self.av[rows], self.a_start[rows], self.a_end[rows]
            overlap = (a_start < end) & (start < a_end)
            gap = np.maximum(a_start - end, start - a_end)
            rest = ~overlap & (gap < self.rest_us)
            clash = (vol[rest].astype(np.int32), vol[overlap].astype(np.int32))
            self.clash.put((start, end), clash)
        here = self.av[self.here_rows[self.here_ptr[s] : self.here_ptr[s + 1]]]
        code = self.code
        code[clash[0]] = REST
        code[clash[1]] = OVERLAP
        code[here] = HERE
        self.marked = (*clash, here)
        capped = self.capped_by.get(end - start)
        if capped is None:
            if len(self.capped_by) >= CAPPED_CACHED:
                self.capped_by.pop(next(iter(self.capped_by)))
            capped = self.capped_by[end - start] = self.no_shift_left | (
                self.time_left < end - start
            )
        self.capped = capped

    def unmark(self) -> None:
        for vols in self.marked:
            self.code[vols] = FREE
        self.marked = ()

    def codes(self, vols: np.ndarray) -> np.ndarray:
        """Per volunteer: FREE, HERE, OVERLAP, REST or CAPS for the marked shift (the first
        that applies)."""
        code = self.code[vols].astype(np.int64)
        code[(code == FREE) & self.capped[vols]] = CAPS
        return code

    def free(self, vols: np.ndarray) -> np.ndarray:
        """Which volunteers could take the marked shift."""
        return (self.code[vols] == FREE) & ~self.capped[vols]


class _Intervals:
    """Intervals grouped by length (powers of two hours), each group sorted by start, so that
    those starting by a time and ending from another come from a few slices."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        length = ends - starts
        bounds = 3600 * 10**6 * (np.int64(1) << np.arange(21, dtype=np.int64))
        group = np.searchsorted(bounds, length)
        order = np.lexsort((starts, group))
        cuts = np.flatnonzero(np.diff(group[order])) + 1
        self.groups = [
            (part, starts[part], ends[part], int(length[part].max()))
            for part in (np.split(order, cuts) if len(order) else [])
        ]

    def holding(self, start_by: int, end_from: int) -> np.ndarray:
        """Indices of the intervals with start <= start_by and end >= end_from (for
        availability windows: those holding [start_by, end_from] wholly)."""
        parts = []
        for rows, starts, ends, longest in self.groups:
            # start = end - length >= end_from - longest
            lo = int(np.searchsorted(starts, end_from - longest, side="left"))
            hi = int(np.searchsorted(starts, start_by, side="right"))
            if hi > lo:
                parts.append(rows[lo:hi][ends[lo:hi] >= end_from])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts)


# an institution this much (relative to the limit, in km) inside or outside a volunteer's limit
# is decided by the chord test; the rest by candidates.distance_ok_np (which settles the last
# few ulp with the scalar rule)
NEAR_MARGIN_REL = 1e-5
NEAR_MARGIN_HAV = 1e-13  # absolute margin on the haversine term (rounding of 1 - dot is ~1e-16)


def _hav_of_km(km: np.ndarray) -> np.ndarray:
    """sin^2(km / 2R): the haversine term of a distance (-1 below 0, 1 beyond half the globe)."""
    with np.errstate(invalid="ignore"):
        half = np.minimum(km, math.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM)
        return np.where(km < 0.0, -1.0, np.sin(half) ** 2)


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Unit vectors (3, n) of points on the sphere."""
    phi, lmb = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lmb), np.cos(phi) * np.sin(lmb), np.sin(phi)])


class _Near:
    """Which volunteers have an institution within their travel radius (the distance rule).

    The haversine term of two points is (1 - dot product of their unit vectors) / 2 (the
    squared half chord). Volunteers grouped by reach (travel limit in degrees), each group
    sorted by latitude: only those whose latitude is within the group's reach of the
    institution can be near; for them the chord test decides unless it is within a margin of
    the volunteer's limit; those, and volunteers with odd coordinates or radius, are decided
    by the same code as candidate generation.
    """

    def __init__(self, arr: cand.Arrays):
        self.arr = arr
        limit = arr.v_radius + DISTANCE_EPS_KM
        lat, lon = arr.v_lat, arr.v_lon
        finite = np.isfinite(lat) & np.isfinite(lon)
        with np.errstate(invalid="ignore"):
            self.unit = np.where(finite, _unit(lat, lon), np.nan)
            regular = finite & (np.abs(lat) <= 90.0) & np.isfinite(limit)
        reg = np.flatnonzero(regular)
        margin = NEAR_MARGIN_REL * (1.0 + np.abs(limit[reg]))
        hav_in = _hav_of_km(limit[reg] - margin) - NEAR_MARGIN_HAV
        hav_out = _hav_of_km(limit[reg] + margin) + NEAR_MARGIN_HAV
        reach = np.degrees(np.maximum(limit[reg] + margin, 0.0) / EARTH_RADIUS_KM)
        reach = reach * (1 + 1e-9) + 1e-9
        # by reach (doubling from 0.05 degrees), each by latitude
        group = np.searchsorted(0.05 * 2.0 ** np.arange(12), reach)
        order = np.lexsort((lat[reg], group))
        cuts = np.flatnonzero(np.diff(group[order])) + 1
        self.groups = []
        for part in np.split(order, cuts) if len(order) else []:
            vols = reg[part]
            self.groups.append(
                (
                    vols,
                    lat[vols],
                    *(np.ascontiguousarray(c) for c in self.unit[:, vols]),
                    hav_in[part],
                    hav_out[part],
                    float(reach[part].max()),
                )
            )
        self.odd = np.flatnonzero(~regular)

    def _point(self, inst: int) -> tuple[float, float, float]:
        phi = math.radians(float(self.arr.i_lat[inst]))
        lmb = math.radians(float(self.arr.i_lon[inst]))
        return math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)

    def hav(self, inst: int, vols: np.ndarray) -> np.ndarray:
        """The chord test value of volunteers `vols` and institution `inst` (NaN for
        coordinates that are not finite)."""
        px, py, pz = self._point(inst)
        dot = self.unit[0, vols] * px
        dot += self.unit[1, vols] * py
        dot += self.unit[2, vols] * pz
        return (1.0 - dot) * 0.5

    def within(self, inst: int) -> np.ndarray:
        """Sorted volunteers that keep the distance rule for institution `inst`."""
        arr = self.arr
        ilat, ilon = float(arr.i_lat[inst]), float(arr.i_lon[inst])
        on_map = math.isfinite(ilat) and math.isfinite(ilon) and abs(ilat) <= 90.0
        px, py, pz = self._point(inst)
        found, unsure = [self.odd[:0]], [self.odd]
        for vols, lat, x, y, z, hav_in, hav_out, reach in self.groups:
            lo, hi = 0, len(vols)
            if on_map:
                lo = int(np.searchsorted(lat, ilat - reach, side="left"))
                hi = int(np.searchsorted(lat, ilat + reach, side="right"))
            dot = x[lo:hi] * px
            dot += y[lo:hi] * py
            dot += z[lo:hi] * pz
            hav = (1.0 - dot) * 0.5
            inside = hav < hav_in[lo:hi]
            found.append(vols[lo:hi][inside])
            unsure.append(vols[lo:hi][~inside & ~(hav > hav_out[lo:hi])])
        check = np.concatenate(unsure)
        n = len(check)
        if n:
            km = cand.haversine_np(
                arr.v_lat[check], arr.v_lon[check], np.full(n, ilat), np.full(n, ilon)
            )
            ok = cand.distance_ok_np(arr, check, np.full(n, inst, dtype=np.int64), km)
            found.append(check[ok])
        return np.sort(np.concatenate(found))


def _holds(arr: cand.Arrays, position: str | None, vols: np.ndarray) -> np.ndarray:
    """Which volunteers of `vols` hold the position's skill (all of them for an open position)."""
    if position is None:
        return np.ones(len(vols), dtype=bool)
    index = arr.skills.index.get(position)
    if index is None:
        return np.zeros(len(vols), dtype=bool)
    word, bit = index >> 6, np.uint64(1) << np.uint64(index & 63)
    return (arr.v_skills[vols, word] & bit) != 0


def _suggestions(
    shift: Shift,
    position: str | None,
    missing: int,
    *,
    single: np.ndarray,
    single_rule: np.ndarray,
    ages_of: np.ndarray,
    nearest_km: list[float],
    lacking_free: int,
    capped: int,
) -> list[str]:
    """Single relaxations that would free volunteers.

    `single`: free holders of the position that break exactly one static rule (`single_rule`)
    other than distance (`ages_of`: age by volunteer, UNKNOWN_AGE when not known);
    `nearest_km`: distances of the nearest free holders (at most `missing`) that break
    distance only; `lacking_free`: free volunteers eligible for the shift without the
    position's skill; `capped`: eligible holders blocked only by max_shifts / max_hours.
    """
    found: list[tuple[int, int, str]] = []  # (-count, order, text)
    by_rule = np.bincount(single_rule, minlength=len(REASONS)).tolist()
    # one static rule relaxed (the volunteer breaks only that one and holds the position)
    for code in (
        cand.R_DISTANCE,
        cand.R_AGE,
        cand.R_GENDER,
        cand.R_CREDENTIALS,
        cand.R_LANGUAGES,
        cand.R_AVAILABILITY,
    ):
        if code == cand.R_DISTANCE:
            if nearest_km:
                n = len(nearest_km)
                radius = math.ceil(max(nearest_km) * 10.0) / 10.0
                text = (
                    f"{n} free volunteer(s) live within {radius:g} km of the institution "
                    "but beyond their own travel radius"
                )
                found.append((-n, code, _suggestion("distance", radius, n, text)))
            continue
        n_free = by_rule[code]
        if not n_free:
            continue
        if code == cand.R_AGE:
            ages = ages_of[single[single_rule == code]]
            ages = np.sort(ages[ages != cand.UNKNOWN_AGE])[::-1]
            if not len(ages):
                continue
            chosen_ages = ages[:missing]
            value = int(chosen_ages[-1])
            text = (
                f"lowering the minimum age from {shift.min_age} to {value} frees "
                f"{len(chosen_ages)} volunteer(s)"
            )
            found.append(
                (-len(chosen_ages), code, _suggestion("age", value, len(chosen_ages), text))
            )
        else:
            n = min(n_free, missing)
            relax, value, text = {
                cand.R_GENDER: (
                    "gender",
                    "any",
                    f"opening the shift to any gender frees {n} volunteer(s)",
                ),
                cand.R_CREDENTIALS: (
                    "credentials",
                    "none",
                    f"waiving the required credentials frees {n} volunteer(s)",
                ),
                cand.R_LANGUAGES: (
                    "languages",
                    "any",
                    f"dropping the language requirement frees {n} volunteer(s)",
                ),
                cand.R_AVAILABILITY: (
                    "availability",
                    "any",
                    f"{n} free volunteer(s) meet every "
                    "rule but are not available for the whole shift",
                ),
            }[code]
            found.append((-n, code, _suggestion(relax, value, n, text)))
    # a reserved place opened to everyone eligible
    if position is not None and lacking_free:
        n = min(lacking_free, missing)
        text = f"opening the {position!r} place to volunteers without it frees {n} volunteer(s)"
        found.append((-n, cand.R_SKILLS, _suggestion("skills", position, n, text)))
    # caps: eligible volunteers blocked only by max_shifts / max_hours
    if capped:
        n = min(capped, missing)
        text = f"raising max_shifts/max_hours of {n} volunteer(s) would let them take it"
        found.append((-n, len(REASONS), _suggestion("caps", "raise", n, text)))
    found.sort()
    return [text for _, _, text in found[:MAX_SUGGESTIONS]]
