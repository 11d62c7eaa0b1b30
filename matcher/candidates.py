"""Vectorised (numpy) generation of eligible (volunteer, shift) pairs and their positions.

The rules themselves live in :mod:`matcher.eligibility`; this module evaluates exactly the same
rules on arrays. Where floating point could make a vectorised value differ from the scalar one
(great-circle distance next to a travel radius), the pair is decided by the scalar function.

Candidate generation never looks at all volunteers x shifts:

1. volunteers are joined to the institutions inside their travel radius through a latitude-cell
   index with a longitude range search (a conservative bounding box), then exact haversine;
2. each (volunteer, institution) pair is joined to the institution's shifts that start inside
   each of the volunteer's windows (shifts sorted by (institution, start), two searchsorted
   calls per window), keeping those that also end inside it;
3. the remaining static rules (gender, age, credentials, languages, skills) are array masks.

So the work grows with the number of nearby (volunteer, institution) pairs and of candidate
pairs, not with volunteers x shifts.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from matcher import eligibility
from matcher.eligibility import DISTANCE_EPS_KM, EARTH_RADIUS_KM, REASONS
from matcher.model import Problem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
NO_EXPIRY = np.iinfo(np.int64).max
UNKNOWN_AGE = -(2**62)
LAT_CELL_DEG = 0.2
# |vectorised - scalar| distance is a few ulp; pairs this close to the radius go to the scalar rule
DISTANCE_RECHECK_KM = 1e-6

R_AVAILABILITY, R_GENDER, R_AGE, R_CREDENTIALS, R_LANGUAGES, R_DISTANCE, R_SKILLS = range(7)
ELIGIBLE = len(REASONS)  # "first failing reason" code of an eligible pair


def to_us(moment: datetime) -> int:
    """Exact integer microseconds since the Unix epoch of an aware datetime."""
    return (moment - EPOCH) // ONE_US


class Vocabulary:
    """Names (skills, languages, credentials) numbered for bitsets of uint64 words."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        self.index = {name: i for i, name in enumerate(self.names)}
        self.words = max(1, (len(self.names) + 63) // 64)

    def bitsets(self, groups: list[Iterable[str]]) -> np.ndarray:
        """One row of `words` uint64 per group; names outside the vocabulary are ignored."""
        out = np.zeros((len(groups), self.words), dtype=np.uint64)
        for row, names in enumerate(groups):
            for name in names:
                i = self.index.get(name)
                if i is not None:
                    out[row, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
        return out

    def bit(self, name: str) -> tuple[int, np.uint64]:
        i = self.index[name]
        return i >> 6, np.uint64(1) << np.uint64(i & 63)


def _intersects(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: do the bitsets share a bit?"""
    return np.bitwise_and(a, b).any(axis=1)


def _subset(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise: is every bit of a also in b?"""
    return ~np.bitwise_and(a, ~b).any(axis=1)


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): (index of the range, position) of every element, in order."""
    counts = np.maximum(hi - lo, 0).astype(np.int64)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts - lo.astype(np.int64), counts)
    return owner, pos


def haversine_np(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray):
    """Vectorised :func:`matcher.eligibility.haversine_km` (same formula, same constant)."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


@dataclass
class Arrays:
    """The problem as flat numpy arrays (built once per solve)."""

    problem: Problem
    # volunteers
    v_lat: np.ndarray
    v_lon: np.ndarray
    v_radius: np.ndarray
    v_gender: np.ndarray
    v_age: np.ndarray
    v_skills: np.ndarray
    v_langs: np.ndarray
    v_max_shifts: np.ndarray  # -1 = no cap
    v_max_hours_us: np.ndarray  # -1 = no cap; allowed total duration in microseconds
    v_no_show: np.ndarray  # no_show_rate 0..1
    w_vol: np.ndarray  # windows, sorted by volunteer
    w_start: np.ndarray
    w_end: np.ndarray
    v_wptr: np.ndarray  # windows of volunteer v: w_*[v_wptr[v]:v_wptr[v+1]]
    c_vol: np.ndarray  # credentials, sorted by volunteer
    c_word: np.ndarray
    c_bit: np.ndarray
    c_expires: np.ndarray
    v_cptr: np.ndarray
    # shifts
    s_inst: np.ndarray
    s_start: np.ndarray
    s_end: np.ndarray
    s_gender: np.ndarray  # -2 = any
    s_min_age: np.ndarray
    s_creds: np.ndarray
    s_has_creds: np.ndarray
    s_unknown_cred: np.ndarray  # requires a credential nobody holds
    s_langs: np.ndarray
    s_has_langs: np.ndarray
    s_reserved: np.ndarray  # skills with a reserved place (count > 0)
    s_open: np.ndarray
    s_needed: np.ndarray
    s_priority: np.ndarray
    # institutions
    i_lat: np.ndarray
    i_lon: np.ndarray
    skills: Vocabulary
    languages: Vocabulary
    credentials: Vocabulary

    @property
    def n_volunteers(self) -> int:
        return len(self.v_lat)

    @property
    def n_shifts(self) -> int:
        return len(self.s_start)


GENDER_ANY = -2
GENDER_NONE = -1


def build_arrays(problem: Problem) -> Arrays:
    """Flatten a problem into :class:`Arrays`."""
    vols = problem.volunteers
    shifts = problem.shifts
    insts = problem.institutions
    inst_index = {inst.id: i for i, inst in enumerate(insts)}
    genders: dict[str, int] = {}

    def gender_code(g: str | None) -> int:
        if g is None:
            return GENDER_NONE
        return genders.setdefault(g, len(genders))

    skills = Vocabulary(
        [k for v in vols for k in v.skills]
        + [k for s in shifts for k, c in s.required_skills.items() if c > 0]
    )
    languages = Vocabulary([x for v in vols for x in v.languages])
    credentials = Vocabulary([c.name for v in vols for c in v.credentials])

    n_v = len(vols)
    v_lat = np.fromiter((v.lat for v in vols), np.float64, n_v)
    v_lon = np.fromiter((v.lon for v in vols), np.float64, n_v)
    v_radius = np.fromiter((v.max_travel_km for v in vols), np.float64, n_v)
    v_gender = np.fromiter((gender_code(v.gender) for v in vols), np.int64, n_v)
    v_age = np.fromiter((UNKNOWN_AGE if v.age is None else v.age for v in vols), np.int64, n_v)
    v_max_shifts = np.fromiter(
        (-1 if v.max_shifts is None else v.max_shifts for v in vols), np.int64, n_v
    )
    v_max_hours_us = np.fromiter(
        (-1 if v.max_hours is None else hours_cap_us(v.max_hours) for v in vols), np.int64, n_v
    )
    counts = np.fromiter((len(v.availability) for v in vols), np.int64, n_v)
    v_wptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    w_vol = np.repeat(np.arange(n_v, dtype=np.int64), counts)
    w_start = np.fromiter((to_us(w.start) for v in vols for w in v.availability), np.int64)
    w_end = np.fromiter((to_us(w.end) for v in vols for w in v.availability), np.int64)

    ccounts = np.fromiter((len(v.credentials) for v in vols), np.int64, n_v)
    v_cptr = np.concatenate([[0], np.cumsum(ccounts)]).astype(np.int64)
    c_vol = np.repeat(np.arange(n_v, dtype=np.int64), ccounts)
    c_idx = np.fromiter((credentials.index[c.name] for v in vols for c in v.credentials), np.int64)
    c_word = c_idx >> 6
    c_bit = np.left_shift(np.uint64(1), (c_idx & 63).astype(np.uint64))
    c_expires = np.fromiter(
        (NO_EXPIRY if c.expires is None else to_us(c.expires) for v in vols for c in v.credentials),
        np.int64,
    )

    n_s = len(shifts)
    s_creds = credentials.bitsets([s.required_credentials for s in shifts])
    # a required name nobody holds can never be met: give it an impossible bit
    unknown_cred = np.fromiter(
        (any(c not in credentials.index for c in s.required_credentials) for s in shifts),
        bool,
        n_s,
    )
    return Arrays(
        problem=problem,
        v_lat=v_lat,
        v_lon=v_lon,
        v_radius=v_radius,
        v_gender=v_gender,
        v_age=v_age,
        v_skills=skills.bitsets([v.skills for v in vols]),
        v_langs=languages.bitsets([v.languages for v in vols]),
        v_max_shifts=v_max_shifts,
        v_max_hours_us=v_max_hours_us,
        v_no_show=np.fromiter((v.no_show_rate for v in vols), np.float64, n_v),
        w_vol=w_vol,
        w_start=w_start,
        w_end=w_end,
        v_wptr=v_wptr,
        c_vol=c_vol,
        c_word=c_word,
        c_bit=c_bit,
        c_expires=c_expires,
        v_cptr=v_cptr,
        s_inst=np.fromiter((inst_index[s.institution_id] for s in shifts), np.int64, n_s),
        s_start=np.fromiter((to_us(s.start) for s in shifts), np.int64, n_s),
        s_end=np.fromiter((to_us(s.end) for s in shifts), np.int64, n_s),
        s_gender=np.fromiter(
            (GENDER_ANY if s.gender == "any" else gender_code(s.gender) for s in shifts),
            np.int64,
            n_s,
        ),
        s_min_age=np.fromiter((s.min_age for s in shifts), np.int64, n_s),
        s_creds=s_creds,
        s_has_creds=np.fromiter((bool(s.required_credentials) for s in shifts), bool, n_s),
        s_unknown_cred=unknown_cred,
        s_langs=languages.bitsets([s.languages for s in shifts]),
        s_has_langs=np.fromiter((bool(s.languages) for s in shifts), bool, n_s),
        s_reserved=skills.bitsets(
            [[k for k, c in s.required_skills.items() if c > 0] for s in shifts]
        ),
        s_open=np.fromiter((s.open_places for s in shifts), np.int64, n_s),
        s_needed=np.fromiter((s.needed for s in shifts), np.int64, n_s),
        s_priority=np.fromiter((s.priority for s in shifts), np.int64, n_s),
        i_lat=np.fromiter((i.lat for i in insts), np.float64, len(insts)),
        i_lon=np.fromiter((i.lon for i in insts), np.float64, len(insts)),
        skills=skills,
        languages=languages,
        credentials=credentials,
    )


def hours_cap_us(max_hours: float) -> int:
    """Largest total duration in microseconds that keeps ``max_hours`` (eligibility's epsilon)."""
    limit_s = max_hours * 3600.0 + eligibility.HOURS_EPS_S
    us = math.floor(limit_s * 1e6)
    # floating point: settle the boundary with the rule's own comparison on seconds
    while us / 1e6 > limit_s:
        us -= 1
    while (us + 1) / 1e6 <= limit_s:
        us += 1
    return max(us, 0)


# ------------------------------------------------------------------ per-pair rule masks


def distance_ok_np(arr: Arrays, v: np.ndarray, i: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Rule 4 on arrays, settled by the scalar rule next to the radius."""
    limit = arr.v_radius[v] + DISTANCE_EPS_KM
    ok = km <= limit
    close = np.flatnonzero(np.abs(km - limit) <= DISTANCE_RECHECK_KM * (1.0 + np.abs(limit)))
    if len(close):
        vols = arr.problem.volunteers
        insts = arr.problem.institutions
        for k in close.tolist():
            ok[k] = eligibility.distance_ok(vols[int(v[k])], insts[int(i[k])])
    return ok


def availability_ok_np(arr: Arrays, v: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Rule 2 on arrays: some window of v holds shift s wholly."""
    n_v = arr.n_volunteers
    if len(v) == n_v and n_v and (s == s[0]).all() and np.array_equal(v, np.arange(n_v)):
        # every volunteer against one shift: one pass over all windows
        inside = (arr.w_start <= arr.s_start[s[0]]) & (arr.s_end[s[0]] <= arr.w_end)
        return np.bincount(arr.w_vol[inside], minlength=n_v) > 0
    owner, w = expand_ranges(arr.v_wptr[v], arr.v_wptr[v + 1])
    inside = (arr.w_start[w] <= arr.s_start[s[owner]]) & (arr.s_end[s[owner]] <= arr.w_end[w])
    return np.bincount(owner[inside], minlength=len(v)) > 0


def credentials_ok_np(arr: Arrays, v: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Every required credential held and unexpired at the shift's start."""
    ok = np.ones(len(v), dtype=bool)
    need = np.flatnonzero(arr.s_has_creds[s])
    if not len(need):
        return ok
    vv, ss = v[need], s[need]
    owner, c = expand_ranges(arr.v_cptr[vv], arr.v_cptr[vv + 1])
    valid_rec = arr.c_expires[c] > arr.s_start[ss[owner]]
    held = np.zeros((len(need), arr.credentials.words), dtype=np.uint64)
    for word in range(arr.credentials.words):
        sel = valid_rec & (arr.c_word[c] == word)
        np.bitwise_or.at(held[:, word], owner[sel], arr.c_bit[c[sel]])
    good = _subset(arr.s_creds[ss], held) & ~arr.s_unknown_cred[ss]
    ok[need] = good
    return ok


def static_reasons(
    arr: Arrays, v: np.ndarray, s: np.ndarray, km: np.ndarray | None = None
) -> np.ndarray:
    """Boolean matrix (pairs x REASONS): which static rules each pair breaks."""
    v = np.asarray(v, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    out = np.zeros((len(v), len(REASONS)), dtype=bool)
    if not len(v):
        return out
    out[:, R_AVAILABILITY] = ~availability_ok_np(arr, v, s)
    sg = arr.s_gender[s]
    out[:, R_GENDER] = ~((sg == GENDER_ANY) | (arr.v_gender[v] == sg))
    min_age = arr.s_min_age[s]
    out[:, R_AGE] = ~((min_age <= 0) | (arr.v_age[v] >= min_age))
    out[:, R_CREDENTIALS] = ~credentials_ok_np(arr, v, s)
    out[:, R_LANGUAGES] = ~(~arr.s_has_langs[s] | _intersects(arr.v_langs[v], arr.s_langs[s]))
    inst = arr.s_inst[s]
    if km is None:
        km = haversine_np(arr.v_lat[v], arr.v_lon[v], arr.i_lat[inst], arr.i_lon[inst])
    out[:, R_DISTANCE] = ~distance_ok_np(arr, v, inst, km)
    out[:, R_SKILLS] = ~((arr.s_open[s] > 0) | _intersects(arr.v_skills[v], arr.s_reserved[s]))
    return out


def first_reason(matrix: np.ndarray) -> np.ndarray:
    """Code of the first failing reason per row (ELIGIBLE when none fails)."""
    any_fail = matrix.any(axis=1)
    return np.where(any_fail, matrix.argmax(axis=1), ELIGIBLE)


# ------------------------------------------------------------------ candidate generation


@dataclass
class Candidates:
    """Eligible pairs sorted by (volunteer, shift), with the home-institution distance."""

    vol: np.ndarray
    shift: np.ndarray
    km: np.ndarray

    def __len__(self) -> int:
        return len(self.vol)


def _nearby_institutions(
    arr: Arrays, inst_mask: np.ndarray, vol_range: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(volunteer, institution, km) for institutions within each volunteer's radius
    (volunteers of `vol_range` only, when given)."""
    inst_ids = np.flatnonzero(inst_mask)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    if not len(inst_ids) or not arr.n_volunteers:
        return empty
    ilat = arr.i_lat[inst_ids]
    ilon = arr.i_lon[inst_ids]
    lon_index = bool(np.all(np.abs(ilon) <= 180.0) and np.all(np.abs(ilat) <= 90.0))
    lat_min_cell = math.floor(float(ilat.min()) / LAT_CELL_DEG)
    icell = np.floor(ilat / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
    lon_key = (ilon + 190.0) if lon_index else np.zeros_like(ilon)
    order = np.lexsort((lon_key, icell))
    inst_sorted = inst_ids[order]
    key = icell[order].astype(np.float64) * 400.0 + lon_key[order]
    n_cells = int(icell.max()) + 1

    # conservative bounding box per volunteer (see module docs)
    radius = np.maximum(arr.v_radius, 0.0) + DISTANCE_EPS_KM + 1e-6
    ang = radius / EARTH_RADIUS_KM  # radians
    dlat = np.degrees(np.minimum(ang, math.pi)) * (1 + 1e-9) + 1e-9
    lat = arr.v_lat
    cell_lo = np.floor((lat - dlat) / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
    cell_hi = np.floor((lat + dlat) / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
    cell_lo = np.clip(cell_lo, 0, n_cells)
    cell_hi = np.clip(cell_hi, -1, n_cells - 1)
    phi_max = np.radians(np.minimum(np.abs(lat) + dlat, 90.0))
    cos_prod = np.cos(np.radians(np.clip(lat, -90, 90))) * np.cos(phi_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            (cos_prod > 1e-12) & (ang < math.pi),
            np.sin(np.minimum(ang, math.pi) / 2.0) ** 2 / cos_prod,
            np.inf,
        )
    full = ~(ratio < 0.999999) | ~np.isfinite(arr.v_lon) | (not lon_index)
    dlon = np.degrees(2.0 * np.arcsin(np.sqrt(np.minimum(ratio, 1.0)))) * (1 + 1e-9) + 1e-9
    lon_lo = arr.v_lon - dlon
    lon_hi = arr.v_lon + dlon
    full |= (lon_lo < -180.0) | (lon_hi > 180.0)
    lon_lo = np.where(full, -180.0, lon_lo) + 190.0
    lon_hi = np.where(full, 180.0, lon_hi) + 190.0
    if not lon_index:
        lon_lo = np.full_like(lon_lo, -1.0)
        lon_hi = np.full_like(lon_hi, 1.0)

    v_lo, v_hi = vol_range if vol_range is not None else (0, arr.n_volunteers)
    vq, cq = expand_ranges(cell_lo[v_lo:v_hi], cell_hi[v_lo:v_hi] + 1)
    vq += v_lo
    lo = np.searchsorted(key, cq * 400.0 + lon_lo[vq], side="left")
    hi = np.searchsorted(key, cq * 400.0 + lon_hi[vq], side="right")
    owner, pos = expand_ranges(lo, hi)
    vv = vq[owner]
    ii = inst_sorted[pos]
    km = haversine_np(arr.v_lat[vv], arr.v_lon[vv], arr.i_lat[ii], arr.i_lon[ii])
    keep = distance_ok_np(arr, vv, ii, km)
    return vv[keep], ii[keep], km[keep]


PARALLEL_MIN_VOLUNTEERS = 20_000  # below this, one process generates the candidates
_FORKED: Arrays | None = None  # the arrays a forked worker reads (inherited, never pickled)


def _generate_part(vol_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert _FORKED is not None
    c = generate(_FORKED, vol_range=vol_range)
    return c.vol, c.shift, c.km


def generate_parallel(arr: Arrays, workers: int) -> Candidates:
    """:func:`generate` with the volunteers split between this process and forked ones.

    The result is the same as ``generate(arr)``: each part is sorted by (volunteer, shift) and
    the parts are consecutive volunteer ranges. Used only where fork exists, with at least two
    workers and many volunteers.
    """
    global _FORKED
    n = arr.n_volunteers
    workers = min(workers, 4)
    if (
        workers < 2
        or n < PARALLEL_MIN_VOLUNTEERS
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return generate(arr)
    # balance the parts by windows (the work follows volunteers x windows)
    cuts = np.searchsorted(arr.v_wptr, np.linspace(0, arr.v_wptr[-1], workers + 1)[1:-1])
    bounds = [0, *np.minimum(cuts, n).tolist(), n]
    ranges = [(bounds[k], bounds[k + 1]) for k in range(workers)]
    _FORKED = arr
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers - 1) as pool:
            pending = pool.map_async(_generate_part, ranges[1:])
            mine = generate(arr, vol_range=ranges[0])
            parts = [(mine.vol, mine.shift, mine.km), *pending.get()]
    finally:
        _FORKED = None
    return Candidates(
        vol=np.concatenate([p[0] for p in parts]),
        shift=np.concatenate([p[1] for p in parts]),
        km=np.concatenate([p[2] for p in parts]),
    )


def generate(
    arr: Arrays, shift_mask: np.ndarray | None = None, vol_range: tuple[int, int] | None = None
) -> Candidates:
    """All eligible (volunteer, shift) pairs (every rule of pair_reasons holds), sorted by
    (volunteer, shift); only volunteers of `vol_range` when given."""
    n_s = arr.n_shifts
    shifts = np.arange(n_s) if shift_mask is None else np.flatnonzero(shift_mask)
    empty = Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    if not len(shifts) or not arr.n_volunteers:
        return empty
    inst_mask = np.zeros(len(arr.i_lat), dtype=bool)
    inst_mask[arr.s_inst[shifts]] = True
    vi_v, vi_i, vi_km = _nearby_institutions(arr, inst_mask, vol_range)
    if not len(vi_v):
        return empty

    # shifts sorted by (institution, start rank)
    uniq_starts = np.unique(arr.s_start[shifts])
    n_ranks = len(uniq_starts)
    rank = np.searchsorted(uniq_starts, arr.s_start[shifts])
    skey = arr.s_inst[shifts] * n_ranks + rank
    order = np.argsort(skey, kind="stable")
    skey_sorted = skey[order]
    shift_sorted = shifts[order]

    # (volunteer, institution) x windows of the volunteer
    owner, w = expand_ranges(arr.v_wptr[vi_v], arr.v_wptr[vi_v + 1])
    inst = vi_i[owner]
    lo_key = inst * n_ranks + np.searchsorted(uniq_starts, arr.w_start[w], side="left")
    hi_key = inst * n_ranks + np.searchsorted(uniq_starts, arr.w_end[w], side="right")
    lo = np.searchsorted(skey_sorted, lo_key, side="left")
    hi = np.searchsorted(skey_sorted, hi_key, side="left")
    q, pos = expand_ranges(lo, hi)
    s = shift_sorted[pos]
    inside = arr.s_end[s] <= arr.w_end[w[q]]
    s = s[inside]
    pair_owner = owner[q[inside]]
    v = vi_v[pair_owner]
    km = vi_km[pair_owner]

    # remaining static rules
    sg = arr.s_gender[s]
    ok = (sg == GENDER_ANY) | (arr.v_gender[v] == sg)
    min_age = arr.s_min_age[s]
    ok &= (min_age <= 0) | (arr.v_age[v] >= min_age)
    ok &= ~arr.s_has_langs[s] | _intersects(arr.v_langs[v], arr.s_langs[s])
    ok &= (arr.s_open[s] > 0) | _intersects(arr.v_skills[v], arr.s_reserved[s])
    v, s, km = v[ok], s[ok], km[ok]
    cred = credentials_ok_np(arr, v, s)
    v, s, km = v[cred], s[cred], km[cred]

    # a pair found through two overlapping windows appears twice
    code = v * n_s + s
    code, first = np.unique(code, return_index=True)
    return Candidates(vol=v[first], shift=s[first], km=km[first])


# ------------------------------------------------------------------ positions


@dataclass
class Positions:
    """Places of every shift grouped by position: reserved skill places, then open places."""

    shift: np.ndarray  # position -> shift index
    skill: list[str | None]  # position -> skill name (None = open)
    capacity: np.ndarray  # places of the position
    open_of_shift: np.ndarray  # shift -> its open position index or -1
    first_of_shift: np.ndarray  # shift -> first position index (positions of a shift adjacent)
    skill_is_open: np.ndarray  # position -> True for the open position of its shift
    bit_word: np.ndarray  # position -> word of its skill in the skills bitset (0 when open)
    bit_mask: np.ndarray  # position -> bit of its skill (0 when open)

    def __len__(self) -> int:
        return len(self.shift)


def build_positions(arr: Arrays) -> Positions:
    """Number the positions of every shift (sorted reserved skills, then the open position)."""
    shift_idx: list[int] = []
    skill: list[str | None] = []
    cap: list[int] = []
    open_of = np.full(arr.n_shifts, -1, dtype=np.int64)
    first_of = np.zeros(arr.n_shifts + 1, dtype=np.int64)
    for si, sh in enumerate(arr.problem.shifts):
        first_of[si] = len(shift_idx)
        for name in sorted(k for k, c in sh.required_skills.items() if c > 0):
            shift_idx.append(si)
            skill.append(name)
            cap.append(int(sh.required_skills[name]))
        if sh.open_places > 0:
            open_of[si] = len(shift_idx)
            shift_idx.append(si)
            skill.append(None)
            cap.append(sh.open_places)
    first_of[arr.n_shifts] = len(shift_idx)
    index = [arr.skills.index[k] if k is not None else -1 for k in skill]
    return Positions(
        shift=np.asarray(shift_idx, dtype=np.int64),
        skill=skill,
        capacity=np.asarray(cap, dtype=np.int64),
        open_of_shift=open_of,
        first_of_shift=first_of,
        skill_is_open=np.array([k is None for k in skill], dtype=bool),
        bit_word=np.array([max(i, 0) >> 6 for i in index], dtype=np.int64),
        bit_mask=np.array([0 if i < 0 else 1 << (i & 63) for i in index], dtype=np.uint64),
    )


def pair_positions(
    arr: Arrays, positions: Positions, v: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(pair index, position) of every position each pair's volunteer may fill.

    Same as :func:`matcher.eligibility.positions_for`: held reserved skills, then the open
    position when the shift has open places. Sorted by pair, then position.
    """
    v = np.asarray(v, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    pair_parts = []
    pos_parts = []
    lo = positions.first_of_shift[s]
    hi = positions.first_of_shift[s + 1]
    has_reserved = arr.s_reserved[s].any(axis=1)
    sel = np.flatnonzero(has_reserved)
    if len(sel):
        owner, pos = expand_ranges(lo[sel], hi[sel])
        pair = sel[owner]
        is_skill = positions.open_of_shift[s[pair]] != pos
        pair, pos = pair[is_skill], pos[is_skill]
        held = (arr.v_skills[v[pair], positions.bit_word[pos]] & positions.bit_mask[pos]) != 0
        pair_parts.append(pair[held])
        pos_parts.append(pos[held])
    has_open = positions.open_of_shift[s] >= 0
    sel = np.flatnonzero(has_open)
    pair_parts.append(sel)
    pos_parts.append(positions.open_of_shift[s[sel]])
    pair = np.concatenate(pair_parts)
    pos = np.concatenate(pos_parts)
    order = np.argsort(pair * max(len(positions), 1) + pos, kind="stable")
    return pair[order], pos[order]
