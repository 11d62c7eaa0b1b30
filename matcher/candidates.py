"""Vectorised (numpy) generation of eligible (volunteer, shift) pairs and their positions.

The rules themselves live in :mod:`matcher.eligibility`; this module evaluates exactly the same
rules on arrays. Where floating point could make a vectorised value differ from the scalar one
(great-circle distance next to a travel radius), the pair is decided by the scalar function.

Candidate generation never looks at all volunteers x shifts:

1. volunteers are joined to the institutions inside their travel radius through an index of
   latitude rows sorted by longitude: one longitude range per (volunteer, row), conservative
   for the row's latitudes. A pair whose haversine ``a`` is above the volunteer's bound (well
   past the radius) is dropped; the others get the exact :func:`haversine_np` distance;
2. each (volunteer, institution) pair is joined to the institution's shifts that start inside
   each of the volunteer's windows (shifts sorted by (institution, start rank), a table from
   (institution, rank) to the first such shift), keeping those that also end inside it;
3. the remaining static rules (gender, age, credentials, languages, skills) are array masks,
   each evaluated only on the pairs whose shift has the rule.

So the work grows with the number of nearby (volunteer, institution) pairs and of candidate
pairs, not with volunteers x shifts. It runs over ranges of volunteers small enough for the
intermediate arrays to stay in the CPU caches.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
WORD_MASK = (1 << 64) - 1
LAT_CELL_DEG = 0.05  # latitude rows of the institution index
BAND_PAD_DEG = 1e-7  # a row's latitude band is widened by this (floor() of lat / LAT_CELL_DEG)
BOX_PAD_KM = 1e-3  # the search box is for the radius plus this
# pairs whose haversine a exceeds that of (limit (1 + PREFILTER_REL) + PREFILTER_KM) are out
PREFILTER_REL = 1e-6
PREFILTER_KM = 1e-3
SHIFT_TABLE_MAX = 1 << 22  # (institution, start rank) -> first shift table, when this small
CHUNK_WORK = 1 << 19  # estimated (pair, window) work per volunteer range of generate
STATIC_TABLE_MAX = 1 << 20  # (volunteer profile, shift profile) table of rules, when this small
OUTPUT_MARGIN = 1.25  # output allocated for this many times the pairs expected
SORT_KEY_LIMIT = 1 << 62  # (volunteer, shift, index) keys packed in one int64 stay below
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
        memo: dict[frozenset[str], int] = {}  # the parser shares equal name sets
        index = self.index
        rows = []
        for names in groups:
            key = names if type(names) is frozenset else frozenset(names)
            bits = memo.get(key)
            if bits is None:
                bits = 0
                for name in key:
                    i = index.get(name)
                    if i is not None:
                        bits |= 1 << i
                memo[key] = bits
            rows.append(bits)
        out = np.zeros((len(groups), self.words), dtype=np.uint64)
        for word in range(self.words):
            shift = 64 * word
            out[:, word] = np.fromiter(
                ((b >> shift) & WORD_MASK for b in rows), np.uint64, len(rows)
            )
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


def stable_argsort(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Stable argsort of integer keys in [0, n_keys).

    numpy's radix sort when the keys fit in 16 bits (linear time); else, when key and index
    fit in one int64, a plain sort of `key << bits | index` (unique values, so any sort
    gives the stable order; about twice as fast as numpy's merge sort on millions of keys in
    no particular order, slower on nearly sorted ones, where the merge sort finds runs);
    else the merge sort.
    """
    n = len(keys)
    if n_keys <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    bits = max(n - 1, 1).bit_length()
    if n_keys <= 1 << (62 - bits):
        packed = np.asarray(keys).astype(np.int64) << bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        packed &= (1 << bits) - 1
        return packed
    return np.argsort(keys, kind="stable")


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): (index of the range, position) of every element, in order."""
    lo = np.asarray(lo).astype(np.int64, copy=False)
    counts = np.asarray(hi).astype(np.int64, copy=False) - lo
    np.maximum(counts, 0, out=counts)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    # position k of the output holds lo + (k - start) of its range
    offset = lo - ends
    offset += counts
    pos = np.arange(total, dtype=np.int64)
    pos += offset[owner]
    return owner, pos


def _haversine_a(
    phi1: np.ndarray,
    cos1: np.ndarray,
    lon1: np.ndarray,
    phi2: np.ndarray,
    cos2: np.ndarray,
    lon2: np.ndarray,
) -> np.ndarray:
    """The haversine ``a`` of :func:`haversine_np` from radians and cosines of the latitudes
    (same operations in the same order, so the same bits), computed in place in a new array."""
    s1 = np.asarray(phi2 - phi1)
    s1 *= 0.5
    np.sin(s1, out=s1)
    np.square(s1, out=s1)
    s2 = np.asarray(lon2 - lon1)
    if s2.dtype.kind == "f":
        np.radians(s2, out=s2)
    else:
        s2 = np.radians(s2)
    s2 *= 0.5
    np.sin(s2, out=s2)
    np.square(s2, out=s2)
    a = cos1 * cos2
    a *= s2
    a += s1
    return a


def _km_of_a(a: np.ndarray) -> np.ndarray:
    """``2 R asin(sqrt(min(1, a)))`` in place (the last step of :func:`haversine_np`)."""
    np.minimum(a, 1.0, out=a)
    np.sqrt(a, out=a)
    np.arcsin(a, out=a)
    a *= 2.0 * EARTH_RADIUS_KM
    return a


def haversine_np(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray):
    """Vectorised :func:`matcher.eligibility.haversine_km` (same formula, same constant):
    ``2 R asin(sqrt(min(1, a)))``, ``a = sin^2(dphi/2) + cos(phi1) cos(phi2) sin^2(dlambda/2)``.
    Arguments broadcast; the operations are those of the formula in its order, in place."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    if np.ndim(phi1) == 0 and np.ndim(phi2) == 0 and np.ndim(lon1) == 0 and np.ndim(lon2) == 0:
        dphi = phi2 - phi1
        dlmb = np.radians(lon2 - lon1)
        a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
        return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))
    return _km_of_a(_haversine_a(phi1, np.cos(phi1), lon1, phi2, np.cos(phi2), lon2))


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
    # gender codes in order of first appearance, volunteers then shifts ("any" is no gender)
    codes: dict[str, int] = {}
    for g in dict.fromkeys(v.gender for v in vols):
        if g is not None:
            codes.setdefault(g, len(codes))
    for g in dict.fromkeys(s.gender for s in shifts):
        if g is not None and g != "any":
            codes.setdefault(g, len(codes))
    genders: dict[str | None, int] = {**codes, None: GENDER_NONE}

    skills = Vocabulary(
        [k for v in vols for k in v.skills]
        + [k for s in shifts for k, c in s.required_skills.items() if c > 0]
    )
    languages = Vocabulary([x for v in vols for x in v.languages])
    credentials = Vocabulary([c.name for v in vols for c in v.credentials])

    n_v = len(vols)
    scalars = np.array(
        [(v.lat, v.lon, v.max_travel_km, v.no_show_rate) for v in vols], dtype=np.float64
    ).reshape(n_v, 4)
    v_lat, v_lon, v_radius, v_no_show = (np.ascontiguousarray(c) for c in scalars.T)
    v_gender = np.fromiter((genders[v.gender] for v in vols), np.int64, n_v)
    v_age = np.fromiter((UNKNOWN_AGE if v.age is None else v.age for v in vols), np.int64, n_v)
    v_max_shifts = np.fromiter(
        (-1 if v.max_shifts is None else v.max_shifts for v in vols), np.int64, n_v
    )
    caps: dict[float, int] = {}
    v_max_hours_us = np.fromiter(
        (
            -1
            if v.max_hours is None
            else caps[v.max_hours]
            if v.max_hours in caps
            else caps.setdefault(v.max_hours, eligibility.hours_cap_us(v.max_hours))
            for v in vols
        ),
        np.int64,
        n_v,
    )
    us = _Microseconds()
    counts = np.fromiter((len(v.availability) for v in vols), np.int64, n_v)
    v_wptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    w_vol = np.repeat(np.arange(n_v, dtype=np.int64), counts)
    # the parser shares equal windows: each distinct object is converted once
    number: dict[int, int] = {}
    w_code = np.fromiter(
        (number.setdefault(id(w), len(number)) for v in vols for w in v.availability),
        np.int64,
        int(counts.sum()),
    )
    distinct = list({id(w): w for v in vols for w in v.availability}.values())
    w_start = us.of(w.start for w in distinct)[w_code]
    w_end = us.of(w.end for w in distinct)[w_code]

    ccounts = np.fromiter((len(v.credentials) for v in vols), np.int64, n_v)
    v_cptr = np.concatenate([[0], np.cumsum(ccounts)]).astype(np.int64)
    c_vol = np.repeat(np.arange(n_v, dtype=np.int64), ccounts)
    c_idx = np.fromiter((credentials.index[c.name] for v in vols for c in v.credentials), np.int64)
    c_word = c_idx >> 6
    c_bit = np.left_shift(np.uint64(1), (c_idx & 63).astype(np.uint64))
    c_expires = np.fromiter(
        (NO_EXPIRY if c.expires is None else us(c.expires) for v in vols for c in v.credentials),
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
        v_no_show=v_no_show,
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
        s_start=us.of(s.start for s in shifts),
        s_end=us.of(s.end for s in shifts),
        s_gender=np.fromiter(
            (GENDER_ANY if s.gender == "any" else genders[s.gender] for s in shifts), np.int64, n_s
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


class _Microseconds:
    """:func:`to_us` with a cache (the parser shares equal datetimes)."""

    def __init__(self) -> None:
        self.cache: dict[datetime, int] = {}

    def __call__(self, moment: datetime) -> int:
        found = self.cache.get(moment)
        if found is None:
            found = self.cache[moment] = to_us(moment)
        return found

    def of(self, moments: Iterable[datetime]) -> np.ndarray:
        cache = self.cache
        return np.fromiter((cache[m] if m in cache else self(m) for m in moments), np.int64)


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


def _rows_numbered(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of one row of each distinct value, number of each row's value) of a 2-D array."""
    rows = np.ascontiguousarray(rows)
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, number = np.unique(as_bytes, return_index=True, return_inverse=True)
    return first, number.ravel()


class _Join:
    """What every volunteer range of :func:`generate` shares, built once per call.

    - institutions of the selected shifts sorted by latitude row and longitude, and for every
      volunteer one longitude range per row its travel radius reaches (a conservative bound,
      see :meth:`_queries`), already searched: ``q_lo``/``q_hi`` into the sorted institutions;
    - a per-volunteer bound ``h_max`` on the haversine ``a``: a pair above it is farther than
      the radius by much more than any rounding, so only pairs below it get a distance;
    - the selected shifts sorted by (institution, start rank), with a table from
      ``institution * n_ranks + rank`` to the first such shift, and the start ranks of every
      availability window that can hold a shift.
    """

    def __init__(self, arr: Arrays, shift_mask: np.ndarray | None) -> None:
        self.arr = arr
        shifts = np.arange(arr.n_shifts) if shift_mask is None else np.flatnonzero(shift_mask)
        self.empty = not len(shifts) or not arr.n_volunteers
        if self.empty:
            return
        inst_mask = np.zeros(len(arr.i_lat), dtype=bool)
        inst_mask[arr.s_inst[shifts]] = True
        self._queries(arr, np.flatnonzero(inst_mask))
        self.v_phi = np.radians(arr.v_lat)
        self.v_cos = np.cos(self.v_phi)
        self.i_phi = np.radians(arr.i_lat)
        self.i_cos = np.cos(self.i_phi)
        limit = arr.v_radius + DISTANCE_EPS_KM
        half = np.maximum((limit * (1.0 + PREFILTER_REL) + PREFILTER_KM) / (2 * EARTH_RADIUS_KM), 0)
        with np.errstate(invalid="ignore"):
            self.h_max = np.where(half < 1.5, np.sin(np.minimum(half, 1.5)) ** 2, np.inf)
        self._shift_table(arr, shifts)
        self._static_rules(arr)

    def _queries(self, arr: Arrays, inst_ids: np.ndarray) -> None:
        ilat = arr.i_lat[inst_ids]
        ilon = arr.i_lon[inst_ids]
        lon_index = bool(np.all(np.abs(ilon) <= 180.0) and np.all(np.abs(ilat) <= 90.0))
        lat_min_cell = math.floor(float(ilat.min()) / LAT_CELL_DEG)
        icell = np.floor(ilat / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
        lon_key = (ilon + 190.0) if lon_index else np.zeros_like(ilon)
        order = np.lexsort((lon_key, icell))
        self.inst_sorted = inst_ids[order]
        key = icell[order].astype(np.float64) * 400.0 + lon_key[order]
        n_cells = int(icell.max()) + 1

        # rows within the radius (plus a margin) of each volunteer's latitude
        radius = np.maximum(arr.v_radius, 0.0) + DISTANCE_EPS_KM + BOX_PAD_KM
        ang = np.minimum(radius / EARTH_RADIUS_KM, math.pi)  # radians
        dlat = np.degrees(ang) * (1 + 1e-9) + 1e-9
        lat = arr.v_lat
        cell_lo = np.floor((lat - dlat) / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
        cell_hi = np.floor((lat + dlat) / LAT_CELL_DEG).astype(np.int64) - lat_min_cell
        cell_lo = np.clip(cell_lo, 0, n_cells)
        cell_hi = np.clip(cell_hi, -1, n_cells - 1)
        q_vol, q_row = expand_ranges(cell_lo, cell_hi + 1)
        counts = np.maximum(cell_hi + 1 - cell_lo, 0)
        self.q_ptr = np.concatenate([[0], np.cumsum(counts)])

        # longitude half-width per (volunteer, row): for a point of the row within the radius,
        # sin^2(dlambda/2) <= (sin^2(ang/2) - sin^2(dphi_min/2)) / (cos(phi1) cos(phi_max)),
        # dphi_min the row's nearest latitude difference, phi_max its largest |latitude|
        band_lo = (q_row + lat_min_cell) * LAT_CELL_DEG - BAND_PAD_DEG
        band_hi = (q_row + lat_min_cell + 1) * LAT_CELL_DEG + BAND_PAD_DEG
        qlat = lat[q_vol]
        dphi_min = np.radians(np.maximum(np.maximum(band_lo - qlat, qlat - band_hi), 0.0))
        phi_max = np.radians(np.minimum(np.maximum(np.abs(band_lo), np.abs(band_hi)), 90.0))
        num = np.sin(ang / 2.0)[q_vol] ** 2 - np.sin(dphi_min / 2.0) ** 2
        den = np.cos(np.radians(np.clip(qlat, -90, 90))) * np.cos(phi_max)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(
                (den > 1e-12) & (ang[q_vol] < math.pi), np.maximum(num, 0.0) / den, np.inf
            )
        qlon = arr.v_lon[q_vol]
        full = ~(ratio < 0.999999) | ~np.isfinite(qlon) | (not lon_index)
        dlon = np.degrees(2.0 * np.arcsin(np.sqrt(np.minimum(ratio, 1.0)))) * (1 + 1e-9) + 1e-9
        lon_lo = qlon - dlon
        lon_hi = qlon + dlon
        full |= (lon_lo < -180.0) | (lon_hi > 180.0)
        if lon_index:
            lon_lo = np.where(full, -180.0, lon_lo) + 190.0
            lon_hi = np.where(full, 180.0, lon_hi) + 190.0
        else:
            lon_lo = np.full_like(lon_lo, -1.0)
            lon_hi = np.full_like(lon_hi, 1.0)
        row_key = q_row * 400.0
        self.q_vol = q_vol
        self.q_lo = np.searchsorted(key, row_key + lon_lo, side="left")
        self.q_hi = np.searchsorted(key, row_key + lon_hi, side="right")

    def _shift_table(self, arr: Arrays, shifts: np.ndarray) -> None:
        uniq_starts = np.unique(arr.s_start[shifts])
        n_ranks = len(uniq_starts)
        rank = np.searchsorted(uniq_starts, arr.s_start[shifts])
        skey = arr.s_inst[shifts] * n_ranks + rank
        order = np.argsort(skey, kind="stable")
        self.skey_sorted = skey[order]
        self.shift_sorted = shifts[order]
        self.end_sorted = arr.s_end[self.shift_sorted]
        self.n_ranks = n_ranks
        n_keys = len(arr.i_lat) * n_ranks + 1
        self.table = (
            np.searchsorted(self.skey_sorted, np.arange(n_keys), side="left")
            if n_keys <= SHIFT_TABLE_MAX
            else None
        )
        # windows that can hold a selected shift: some start inside and long enough
        w_lo = np.searchsorted(uniq_starts, arr.w_start, side="left")
        w_hi = np.searchsorted(uniq_starts, arr.w_end, side="right")
        shortest = int((arr.s_end[shifts] - arr.s_start[shifts]).min())
        useful = (w_hi > w_lo) & (arr.w_end - arr.w_start >= shortest)
        self.w_idx = np.flatnonzero(useful)
        self.w_lo_rank = w_lo[self.w_idx]
        self.w_hi_rank = w_hi[self.w_idx]
        self.w_end = arr.w_end[self.w_idx]
        per_vol = np.bincount(arr.w_vol[self.w_idx], minlength=arr.n_volunteers)
        self.wf_ptr = np.concatenate([[0], np.cumsum(per_vol)])

    def _static_rules(self, arr: Arrays) -> None:
        # age: min_age <= 0 admits everyone, unknown age included
        self.s_min_age = np.where(arr.s_min_age <= 0, np.iinfo(np.int64).min, arr.s_min_age)
        # gender, languages and skills depend on a few attributes: number the distinct
        # volunteer and shift profiles and tabulate the rules on them when the table is small
        v_profile = np.column_stack([arr.v_gender.astype(np.uint64), arr.v_langs, arr.v_skills])
        needs_langs = arr.s_has_langs
        needs_skills = arr.s_open <= 0
        s_profile = np.column_stack(
            [
                arr.s_gender.astype(np.uint64),
                needs_langs,
                needs_skills,
                arr.s_langs * needs_langs[:, None],
                arr.s_reserved * needs_skills[:, None],
            ]
        ).astype(np.uint64)
        v_rep, v_class = _rows_numbered(v_profile)
        s_rep, s_class = _rows_numbered(s_profile)
        self.table_static = None
        if len(v_rep) * len(s_rep) <= STATIC_TABLE_MAX:
            vr, sr = v_rep[:, None], s_rep[None, :]
            sg = arr.s_gender[sr]
            ok = (sg == GENDER_ANY) | (arr.v_gender[vr] == sg)
            ok &= ~needs_langs[sr] | (arr.v_langs[vr] & arr.s_langs[sr]).any(axis=-1)
            ok &= ~needs_skills[sr] | (arr.v_skills[vr] & arr.s_reserved[sr]).any(axis=-1)
            self.table_static = ok.ravel()
            self.v_class = v_class.ravel() * len(s_rep)
            self.s_class = s_class.ravel()
        rules = (
            (arr.s_gender != GENDER_ANY, lambda v, s: arr.v_gender[v] == arr.s_gender[s]),
            (needs_langs, lambda v, s: _intersects(arr.v_langs[v], arr.s_langs[s])),
            (needs_skills, lambda v, s: _intersects(arr.v_skills[v], arr.s_reserved[s])),
        )
        self.s_flags = np.zeros(arr.n_shifts, dtype=np.uint8)
        self.checks = []
        for k, (has, check) in enumerate(rules):
            if has.any():
                self.s_flags[has] |= np.uint8(1 << k)
                self.checks.append((np.uint8(1 << k), check))

    def _static_ok(self, v: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Age, gender, languages and skills of each pair (credentials apart)."""
        ok = self.arr.v_age[v] >= self.s_min_age[s]
        if self.table_static is not None:
            key = self.v_class[v]
            key += self.s_class[s]
            ok &= self.table_static[key]
            return ok
        flags = self.s_flags[s]
        for flag, check in self.checks:
            sub = np.flatnonzero(flags & flag)
            if len(sub):
                ok[sub] &= check(v[sub], s[sub])
        return ok

    def work(self) -> np.ndarray:
        """Cumulative estimated work by volunteer (length n + 1): box pairs times windows."""
        box = np.concatenate([[0], np.cumsum(self.q_hi - self.q_lo)])[self.q_ptr]
        box_v = np.diff(box)
        return np.concatenate([[0], np.cumsum(box_v * (1 + np.diff(self.wf_ptr)) + 1)])

    def chunks(self, v_lo: int, v_hi: int, cum: np.ndarray) -> list[tuple[int, int]]:
        """Consecutive volunteer ranges covering [v_lo, v_hi) of about CHUNK_WORK work each."""
        total = int(cum[v_hi] - cum[v_lo])
        n = max(1, -(-total // CHUNK_WORK))
        targets = cum[v_lo] + np.linspace(0, total, n + 1)[1:-1]
        cuts = np.searchsorted(cum, targets, side="left").tolist()
        bounds = sorted({v_lo, v_hi, *(min(max(c, v_lo), v_hi) for c in cuts)})
        return list(itertools.pairwise(bounds))

    def run(self, v_lo: int, v_hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(volunteer, shift, km) of the eligible pairs of volunteers [v_lo, v_hi), sorted."""
        vv, ii, km = self._near(v_lo, v_hi)
        s, pair = self._shifts(vv, ii)
        v = vv[pair]
        # remaining static rules
        ok = np.flatnonzero(self._static_ok(v, s))
        v, s, pair = v[ok], s[ok], pair[ok]
        cred = np.flatnonzero(credentials_ok_np(self.arr, v, s))
        v, s, pair = v[cred], s[cred], pair[cred]
        return self._sorted_unique(v, s, km[pair], v_lo, v_hi)

    def _near(self, v_lo: int, v_hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(volunteer, institution, km) of the institutions within each volunteer's radius."""
        arr = self.arr
        qa, qb = int(self.q_ptr[v_lo]), int(self.q_ptr[v_hi])
        q, pos = expand_ranges(self.q_lo[qa:qb], self.q_hi[qa:qb])
        vv = self.q_vol[qa:qb][q]
        ii = self.inst_sorted[pos]
        a = _haversine_a(
            self.v_phi[vv],
            self.v_cos[vv],
            arr.v_lon[vv],
            self.i_phi[ii],
            self.i_cos[ii],
            arr.i_lon[ii],
        )
        near = np.flatnonzero(a <= self.h_max[vv])
        vv, ii = vv[near], ii[near]
        km = _km_of_a(a[near])
        keep = np.flatnonzero(distance_ok_np(arr, vv, ii, km))
        return vv[keep], ii[keep], km[keep]

    def _shifts(self, vv: np.ndarray, ii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shift, index of the (volunteer, institution) pair) of the institution's shifts that
        one of the volunteer's windows holds (twice when two windows do)."""
        owner, w = expand_ranges(self.wf_ptr[vv], self.wf_ptr[vv + 1])
        hi_key = (ii * self.n_ranks)[owner]
        lo_key = hi_key + self.w_lo_rank[w]
        hi_key += self.w_hi_rank[w]
        if self.table is not None:
            lo, hi = self.table[lo_key], self.table[hi_key]
        else:
            lo = np.searchsorted(self.skey_sorted, lo_key, side="left")
            hi = np.searchsorted(self.skey_sorted, hi_key, side="left")
        del lo_key, hi_key
        t, pos = expand_ranges(lo, hi)
        del lo, hi
        inside = np.flatnonzero(self.end_sorted[pos] <= self.w_end[w[t]])
        return self.shift_sorted[pos[inside]], owner[t[inside]]

    def _sorted_unique(
        self, v: np.ndarray, s: np.ndarray, km: np.ndarray, v_lo: int, v_hi: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs sorted by (volunteer, shift), each once (a pair found through two windows
        appears twice): one sort of (volunteer, shift, index) packed in an int64."""
        n_s = self.arr.n_shifts
        code = v - v_lo
        code *= n_s
        code += s
        bits = max(len(v), 1).bit_length()
        if ((v_hi - v_lo) * n_s) << bits < SORT_KEY_LIMIT:
            code <<= bits
            code += np.arange(len(v), dtype=np.int64)
            code.sort()
            first = code & ((1 << bits) - 1)
            code >>= bits
            keep = np.ones(len(code), dtype=bool)
            np.not_equal(code[1:], code[:-1], out=keep[1:])
            first = first[keep]
        else:
            code, first = np.unique(code, return_index=True)
        return v[first], s[first], km[first]


class _Collector:
    """The parts of the volunteer ranges, in order, copied into one set of output arrays.

    The output is allocated once, from the pairs per unit of estimated work of the ranges seen
    so far (with a margin), grown when that was too little and cut to size at the end (in
    place): the parts are freed as they come, so the process never holds all pairs twice.
    At 100 000 volunteers that saves some 300 MB of fresh pages, which cost as much as the
    work itself on some machines.
    """

    def __init__(self, total_work: int) -> None:
        self.total_work = max(int(total_work), 1)
        self.work = 0
        self.size = 0
        self.arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, part: tuple[np.ndarray, np.ndarray, np.ndarray], work: int) -> None:
        self.work += int(work)
        n = len(part[0])
        end = self.size + n
        if self.arrays is None or end > len(self.arrays[0]):
            rate = end / max(self.work, 1)
            want = max(end, int(rate * self.total_work * OUTPUT_MARGIN) + 1024)
            if self.arrays is None:
                self.arrays = (
                    np.empty(want, np.int64),
                    np.empty(want, np.int64),
                    np.empty(want, np.float64),
                )
            else:
                for out in self.arrays:
                    out.resize(want, refcheck=False)
        for out, values in zip(self.arrays, part, strict=True):
            out[self.size : end] = values
        self.size = end

    def result(self) -> Candidates:
        if self.arrays is None:
            return Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
        for out in self.arrays:
            out.resize(self.size, refcheck=False)
        return Candidates(*self.arrays)


PARALLEL_MIN_VOLUNTEERS = 20_000  # below this, one thread generates the candidates


def generate_parallel(arr: Arrays, workers: int) -> Candidates:
    """:func:`generate` with the volunteer ranges shared by `workers` threads (at most 4).

    numpy releases the GIL in the work of a range, so threads run it in parallel without
    copying arrays between processes. The result is the same as ``generate(arr)``: every range
    is computed alone and the ranges are put together in order.
    """
    workers = min(workers, 4)
    if workers < 2 or arr.n_volunteers < PARALLEL_MIN_VOLUNTEERS:
        return generate(arr)
    return _generate(arr, None, None, workers)


def generate(
    arr: Arrays, shift_mask: np.ndarray | None = None, vol_range: tuple[int, int] | None = None
) -> Candidates:
    """All eligible (volunteer, shift) pairs (every rule of pair_reasons holds), sorted by
    (volunteer, shift); only volunteers of `vol_range` when given (only shifts of
    `shift_mask`)."""
    return _generate(arr, shift_mask, vol_range, 1)


def _generate(
    arr: Arrays, shift_mask: np.ndarray | None, vol_range: tuple[int, int] | None, workers: int
) -> Candidates:
    join = _Join(arr, shift_mask)
    if join.empty:
        return _Collector(1).result()
    v_lo, v_hi = vol_range if vol_range is not None else (0, arr.n_volunteers)
    cum = join.work()
    ranges = join.chunks(v_lo, v_hi, cum)
    out = _Collector(int(cum[v_hi] - cum[v_lo]))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * len(ranges)
    taken = itertools.count()  # next() is atomic under the GIL
    done = 0  # ranges already in `out`
    failed = False  # the calling thread stopped on an error: the helpers stop too

    def next_range() -> int | None:
        k = next(taken)
        return k if k < len(ranges) and not failed else None

    def compute() -> None:
        for k in iter(next_range, None):
            parts[k] = join.run(*ranges[k])

    def collect() -> None:
        nonlocal done
        while done < len(ranges) and (part := parts[done]) is not None:
            a, b = ranges[done]
            out.add(part, cum[b] - cum[a])
            parts[done] = None
            done += 1

    # this thread computes too (its temporaries reuse the main heap; each helper thread's
    # malloc arena costs fresh pages) and puts the finished ranges in order as it goes
    helpers = min(workers, len(ranges)) - 1
    with ThreadPoolExecutor(max(helpers, 1)) as pool:
        pending = [pool.submit(compute) for _ in range(helpers)]
        try:
            for k in iter(next_range, None):
                parts[k] = join.run(*ranges[k])
                collect()
        except BaseException:
            failed = True
            raise
        for future in pending:
            future.result()
    collect()
    return out.result()


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
    open_pos = positions.open_of_shift[s]  # -1: the shift has no open places
    count = (open_pos >= 0).astype(np.int64)
    # pairs on shifts with reserved places: every position of the shift, in order, kept where
    # it is the open one or a reserved skill the volunteer holds (the open one has no bit)
    sel = np.flatnonzero(arr.s_reserved.any(axis=1)[s])
    if len(sel):
        ss = s[sel]
        owner, pos = expand_ranges(positions.first_of_shift[ss], positions.first_of_shift[ss + 1])
        held = (arr.v_skills[v[sel[owner]], positions.bit_word[pos]] & positions.bit_mask[pos]) != 0
        keep = held | (pos == open_pos[sel][owner])
        owner, pos = owner[keep], pos[keep]
        count[sel] = np.bincount(owner, minlength=len(sel))
    # one row per (pair, position): the open position where that is the pair's only one, and
    # the kept positions of the pairs on shifts with reserved places in their rows (both are
    # in (pair, position) order)
    pair = np.repeat(np.arange(len(s), dtype=np.int64), count)
    out = np.repeat(open_pos, count)
    if len(sel):
        on_reserved = np.zeros(len(s), dtype=bool)
        on_reserved[sel] = True
        out[np.repeat(on_reserved, count)] = pos
    return pair, out
