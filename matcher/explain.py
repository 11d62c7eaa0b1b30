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
"""

from __future__ import annotations

import math
import multiprocessing
from collections import Counter
from collections.abc import Iterable

import numpy as np

from matcher import candidates as cand
from matcher.eligibility import DISTANCE_EPS_KM, REASONS
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
    filled: Counter[tuple[str, str | None]] = Counter()
    for a in assignments:
        filled[(a.shift_id, a.position)] += 1
    inst_index = {inst.id: i for i, inst in enumerate(problem.institutions)}
    # by institution, so that one distance vector serves all of its shifts
    order = sorted(
        range(len(problem.shifts)),
        key=lambda i: (inst_index[problem.shifts[i].institution_id], i),
    )
    todo: list[tuple[int, list[tuple[str | None, int]]]] = []
    for si in order:
        shift = problem.shifts[si]
        places: list[tuple[str | None, int]] = [
            (k, int(c)) for k, c in sorted(shift.required_skills.items()) if c > 0
        ]
        if shift.open_places > 0:
            places.append((None, shift.open_places))
        short = [(k, c - filled[(shift.id, k)]) for k, c in places if c > filled[(shift.id, k)]]
        if short:
            todo.append((si, short))
    workers = max(1, min(workers, 4))
    if (
        workers < 2
        or len(todo) < PARALLEL_MIN_SHORT
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        out = _explain(problem, arr, assignments, todo)
    else:
        global _FORKED
        cuts = [len(todo) * k // workers for k in range(workers + 1)]
        chunks = [todo[cuts[k] : cuts[k + 1]] for k in range(workers)]
        _FORKED = (problem, arr, assignments)
        try:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(workers - 1) as pool:
                pending = pool.map_async(_explain_part, chunks[1:])
                out = _explain(problem, arr, assignments, chunks[0])
                for part in pending.get():
                    out.extend(part)
        finally:
            _FORKED = None
    out.sort(key=lambda item: item[0])
    return [u for _, u in out]


PARALLEL_MIN_SHORT = 200  # short shifts below which one process explains them all
_FORKED: tuple[Problem, cand.Arrays, list[Assignment]] | None = None


def _explain_part(
    todo: list[tuple[int, list[tuple[str | None, int]]]],
) -> list[tuple[int, Unfilled]]:
    assert _FORKED is not None
    problem, arr, assignments = _FORKED
    return _explain(problem, arr, assignments, todo)


def _explain(
    problem: Problem,
    arr: cand.Arrays,
    assignments: list[Assignment],
    todo: list[tuple[int, list[tuple[str | None, int]]]],
) -> list[tuple[int, Unfilled]]:
    roster = _Roster(arr, problem, assignments)
    rest_us = problem.settings.min_rest_minutes * 60 * 10**6
    n_v = arr.n_volunteers
    all_v = np.arange(n_v, dtype=np.int64)
    km_cache: dict[str, np.ndarray] = {}
    out: list[tuple[int, Unfilled]] = []
    for si, short in todo:
        shift = problem.shifts[si]
        inst = problem.institution_of(shift)
        km = km_cache.get(inst.id)
        if km is None:
            km_cache.clear()
            km = km_cache[inst.id] = cand.haversine_np(
                arr.v_lat, arr.v_lon, np.full(n_v, inst.lat), np.full(n_v, inst.lon)
            )
        # only volunteers available or near enough can fail a single rule: the others fail
        # availability and distance at least, and count under availability
        covered = cand.availability_ok_np(arr, all_v, np.full(n_v, si, dtype=np.int64))
        near = km <= arr.v_radius + DISTANCE_EPS_KM + cand.DISTANCE_RECHECK_KM * (1 + km)
        sub = np.flatnonzero(covered | near)
        static = cand.static_reasons(arr, sub, np.full(len(sub), si, dtype=np.int64), km[sub])[
            :, : cand.R_SKILLS
        ]
        first = np.where(static.any(axis=1), static.argmax(axis=1), cand.ELIGIBLE)
        n_fail = static.sum(axis=1)
        sched = roster.codes(si, rest_us, sub)
        for position, missing in short:
            holds = _holders(arr, position)[sub]
            reasons: Counter[str] = Counter()
            reasons["availability"] += n_v - len(sub)
            codes, counts = np.unique(first[first != cand.ELIGIBLE], return_counts=True)
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                reasons[REASONS[code]] += count
            eligible = first == cand.ELIGIBLE
            if position is not None:
                lacking = int((eligible & ~holds).sum())
                if lacking:
                    reasons["skills"] += lacking
                eligible &= holds
            codes, counts = np.unique(sched[eligible], return_counts=True)
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                reasons[SCHEDULE_LABELS[code]] += count
            suggestions = _suggestions(
                problem,
                shift,
                position,
                missing,
                matrix=static,
                n_fail=n_fail,
                first=first,
                holds=holds,
                km=km[sub],
                sched=sched,
                vol_ids=sub,
            )
            ordered = {r: reasons[r] for r in (*REASONS, *SCHEDULE_ORDER) if reasons[r]}
            out.append(
                (
                    si,
                    Unfilled(
                        shift_id=shift.id,
                        position=position,
                        missing=missing,
                        reasons=ordered,
                        suggestions=tuple(suggestions),
                    ),
                )
            )
    return out


FREE, HERE, OVERLAP, REST, CAPS = range(5)
SCHEDULE_LABELS = ("available", "assigned_here", "taken_elsewhere", "schedule", "caps")


class _Roster:
    """The solution's shifts per volunteer as arrays, for vectorised schedule checks."""

    def __init__(self, arr: cand.Arrays, problem: Problem, assignments: list[Assignment]):
        vol_index = {v.id: i for i, v in enumerate(problem.volunteers)}
        shift_index = {s.id: i for i, s in enumerate(problem.shifts)}
        av = np.array([vol_index[a.volunteer_id] for a in assignments], dtype=np.int64)
        ash = np.array([shift_index[a.shift_id] for a in assignments], dtype=np.int64)
        order = np.lexsort((ash, av))
        self.arr = arr
        self.av, self.ash = av[order], ash[order]
        n_v = arr.n_volunteers
        self.ptr = np.searchsorted(self.av, np.arange(n_v + 1))
        self.count = np.diff(self.ptr)
        dur = arr.s_end - arr.s_start
        self.total_us = np.bincount(self.av, weights=dur[self.ash], minlength=n_v).astype(np.int64)

    def codes(self, s: int, rest_us: int, vols: np.ndarray) -> np.ndarray:
        """Per volunteer of `vols`: FREE, HERE, OVERLAP, REST or CAPS for adding shift s (the
        first that applies). Same rules as :func:`matcher.eligibility.schedule_reasons`.
        """
        arr = self.arr
        n_v = len(vols)
        owner, idx = cand.expand_ranges(self.ptr[vols], self.ptr[vols + 1])
        other = self.ash[idx]
        s_start, s_end = arr.s_start[s], arr.s_end[s]
        here = other == s
        overlap = (arr.s_start[other] < s_end) & (s_start < arr.s_end[other]) & ~here
        gap = np.maximum(arr.s_start[other] - s_end, s_start - arr.s_end[other])
        rest = ~overlap & ~here & (gap < rest_us)
        code = np.full(n_v, FREE, dtype=np.int64)
        ms = arr.v_max_shifts
        cap_us = arr.v_max_hours_us
        dur = int(s_end - s_start)
        ms, cap_us = ms[vols], cap_us[vols]
        caps = ((ms >= 0) & (self.count[vols] + 1 > ms)) | (
            (cap_us >= 0) & (self.total_us[vols] + dur > cap_us)
        )
        code[caps] = CAPS
        code[owner[rest]] = REST
        code[owner[overlap]] = OVERLAP
        code[owner[here]] = HERE
        return code


def _holders(arr: cand.Arrays, position: str | None) -> np.ndarray:
    """Which volunteers hold the position's skill (everyone for an open position)."""
    n_v = arr.n_volunteers
    if position is None:
        return np.ones(n_v, dtype=bool)
    index = arr.skills.index.get(position)
    if index is None:
        return np.zeros(n_v, dtype=bool)
    word, bit = index >> 6, np.uint64(1) << np.uint64(index & 63)
    return (arr.v_skills[:, word] & bit) != 0


def _suggestions(
    problem: Problem,
    shift: Shift,
    position: str | None,
    missing: int,
    *,
    matrix: np.ndarray,
    n_fail: np.ndarray,
    first: np.ndarray,
    holds: np.ndarray,
    km: np.ndarray,
    sched: np.ndarray,
    vol_ids: np.ndarray,
) -> list[str]:
    """Single relaxations that would free volunteers (arrays are over `vol_ids`)."""
    found: list[tuple[int, int, str]] = []  # (-count, order, text)

    def free_among(vols: np.ndarray, order_key: np.ndarray | None = None) -> list[int]:
        if order_key is not None:
            vols = vols[np.lexsort((vols, order_key[vols]))]
        return vols[sched[vols] == FREE].tolist()

    # one static rule relaxed (the volunteer breaks only that one and holds the position)
    for code in (
        cand.R_DISTANCE,
        cand.R_AGE,
        cand.R_GENDER,
        cand.R_CREDENTIALS,
        cand.R_LANGUAGES,
        cand.R_AVAILABILITY,
    ):
        only = np.flatnonzero((n_fail == 1) & matrix[:, code] & holds)
        if not len(only):
            continue
        free = free_among(only, km)
        if not free:
            continue
        if code == cand.R_DISTANCE:
            chosen = free[:missing]
            radius = math.ceil(max(float(km[v]) for v in chosen) * 10.0) / 10.0
            text = (
                f"{len(chosen)} free volunteer(s) live within {radius:g} km of the institution "
                "but beyond their own travel radius"
            )
            found.append((-len(chosen), code, _suggestion("distance", radius, len(chosen), text)))
        elif code == cand.R_AGE:
            ages = sorted(
                (
                    problem.volunteers[int(vol_ids[v])].age
                    for v in free
                    if problem.volunteers[int(vol_ids[v])].age is not None
                ),
                reverse=True,
            )
            if not ages:
                continue
            chosen_ages = ages[:missing]
            value = min(chosen_ages)
            text = (
                f"lowering the minimum age from {shift.min_age} to {value} frees "
                f"{len(chosen_ages)} volunteer(s)"
            )
            found.append(
                (-len(chosen_ages), code, _suggestion("age", value, len(chosen_ages), text))
            )
        else:
            n = min(len(free), missing)
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
    if position is not None:
        lacking = np.flatnonzero((first == cand.ELIGIBLE) & ~holds)
        free = free_among(lacking, km)
        if free:
            n = min(len(free), missing)
            text = f"opening the {position!r} place to volunteers without it frees {n} volunteer(s)"
            found.append((-n, cand.R_SKILLS, _suggestion("skills", position, n, text)))
    # caps: eligible volunteers blocked only by max_shifts / max_hours
    capped = np.flatnonzero((first == cand.ELIGIBLE) & holds & (sched == CAPS))
    if len(capped):
        n = min(len(capped), missing)
        text = f"raising max_shifts/max_hours of {n} volunteer(s) would let them take it"
        found.append((-n, len(REASONS), _suggestion("caps", "raise", n, text)))
    found.sort()
    return [text for _, _, text in found[:MAX_SUGGESTIONS]]
