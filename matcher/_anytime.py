"""The quick roster and simple bound used when the flow relaxation may not end in time.

The solver's roster starts from a flow relaxation whose time grows with the candidate pairs
(about 1.5-2 us a pair), so a short `--time-limit` on a big problem cannot wait for it. Then
the flows run in a forked process while this process builds a greedy roster (`greedy`), and
whichever is ready by the flow's deadline is used (`run_forked`); without the flows the
bound is `simple_bound`'s, looser but proven.
"""

from __future__ import annotations

import bisect
import itertools
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

import numpy as np

from matcher import candidates as cand

_T = TypeVar("_T")
GREEDY_BLOCK = 64  # positions between two passes that drop the full volunteers' arcs
GREEDY_FIRST_ARCS = 16  # arcs of a position read ahead (the rest only when they are needed)


def greedy(
    a_pair: np.ndarray,
    a_pos: np.ndarray,
    pair_cost: np.ndarray,
    pair_vol: np.ndarray,
    start: np.ndarray,
    end_rest: np.ndarray,
    duration: np.ndarray,
    max_shifts: np.ndarray,
    max_duration: np.ndarray,
    free: np.ndarray,
    position_level: np.ndarray,
) -> tuple[list[int], list[int]]:
    """A roster keeping every rule: (pairs, their positions).

    `a_pair`/`a_pos` are the candidate arcs (a pair may take a position), the pair arrays are
    indexed by pair and the volunteer arrays (`max_shifts`, `max_duration`: what is left after
    the locked shifts, -1 for no cap) by volunteer; `free` is the places of each position
    still open; every pair alone keeps its volunteer's caps. Positions are filled highest
    priority level first, then those with the fewest candidates (the others can wait), each
    by its cheapest candidates that can add the shift to what they hold: no two shifts of a
    volunteer closer than their `[start, end_rest)` intervals allow, at most one place of a
    shift, the caps on shifts and hours.
    """
    n_pos = len(free)
    out_pairs: list[int] = []
    out_pos: list[int] = []
    if n_pos == 0 or not len(a_pair):
        return out_pairs, out_pos
    cost = pair_cost[a_pair]
    lo = int(cost.min())
    span = int(cost.max()) - lo + 1
    # arcs by (position, cost); the stable sort keeps pairs ascending within equal costs
    order = cand.stable_argsort(a_pos * span + (cost - lo), span * n_pos)
    arc_pair = a_pair[order]
    arc_vol = pair_vol[arc_pair]
    bounds = np.searchsorted(a_pos[order], np.arange(n_pos + 1))
    takers = np.diff(bounds)
    todo = np.lexsort((np.arange(n_pos), takers, -position_level))
    todo = todo[free[todo] > 0]

    # a volunteer at their shift cap, or whose hours left hold none of their shifts, is
    # full: their arcs are dropped (with numpy) before each block of positions
    n_vol = len(max_shifts)
    shortest = np.full(n_vol, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(shortest, pair_vol, duration)
    full = np.zeros(n_vol, dtype=bool)
    ms, md, short = max_shifts.tolist(), max_duration.tolist(), shortest.tolist()
    starts: dict[int, list[int]] = {}  # volunteer -> starts of the shifts held, ascending
    ends: dict[int, list[int]] = {}  # ... and their end + rest, in the same order
    held: dict[int, int] = {}  # volunteer -> duration held
    taken: set[int] = set()
    need_of = free.tolist()
    for b in range(0, len(todo), GREEDY_BLOCK):
        block = todo[b : b + GREEDY_BLOCK]
        owner, arcs = cand.expand_ranges(bounds[block], bounds[block + 1])
        live = ~full[arc_vol[arcs]]
        owner, arcs = owner[live], arcs[live]
        pairs = arc_pair[arcs]
        cuts = np.searchsorted(owner, np.arange(len(block) + 1))
        # the first few live arcs of each position as Python rows; the rest when needed
        first = np.arange(len(owner)) - cuts[owner] < GREEDY_FIRST_ARCS
        head_cuts = np.searchsorted(owner[first], np.arange(len(block) + 1)).tolist()
        head = list(_rows(pairs[first], pair_vol, start, end_rest, duration))
        for j, q in enumerate(block.tolist()):
            need = need_of[q]
            rows: Iterable[tuple[int, ...]] = head[head_cuts[j] : head_cuts[j + 1]]
            if cuts[j + 1] - cuts[j] > GREEDY_FIRST_ARCS:
                rest = pairs[cuts[j] + GREEDY_FIRST_ARCS : cuts[j + 1]]
                rows = itertools.chain(
                    rows, _lazy(lambda rest=rest: _rows(rest, pair_vol, start, end_rest, duration))
                )
            for pair, v, s, e, d in rows:
                if pair in taken:
                    continue
                mine = starts.get(v)
                if mine is None:
                    starts[v], ends[v], held[v] = [s], [e], d
                    n = 1
                else:
                    n = len(mine)
                    if (ms[v] >= 0 and n >= ms[v]) or (md[v] >= 0 and held[v] + d > md[v]):
                        continue
                    i = bisect.bisect_left(mine, s)
                    # the intervals held are disjoint, so only the neighbours can overlap
                    if (i < n and mine[i] < e) or (i and ends[v][i - 1] > s):
                        continue
                    mine.insert(i, s)
                    ends[v].insert(i, e)
                    held[v] += d
                    n += 1
                if (ms[v] >= 0 and n >= ms[v]) or (md[v] >= 0 and held[v] + short[v] > md[v]):
                    full[v] = True
                taken.add(pair)
                out_pairs.append(pair)
                out_pos.append(q)
                need -= 1
                if not need:
                    break
    return out_pairs, out_pos


def simple_bound(
    capacity: np.ndarray,
    position_shift: np.ndarray,
    arc_pos: np.ndarray,
    shift_takers: np.ndarray,
    volunteer_most: int,
) -> tuple[np.ndarray, int]:
    """A proven bound on places without the flow: (per shift, in all).

    A shift fills at most min(capacity, arcs into it) of each position (a volunteer takes at
    most one place of a shift), at most its places and at most its distinct takers
    (`shift_takers`: candidate and locked pairs of the shift); in all, at most the sum of
    those and at most `volunteer_most` (the most places the volunteers can hold, however the
    caller counts them).
    """
    n_shifts = len(shift_takers)
    takers = np.bincount(arc_pos, minlength=len(capacity))
    by_position = np.minimum(capacity, takers)
    per_shift = np.minimum(
        np.bincount(position_shift, weights=by_position, minlength=n_shifts),
        np.bincount(position_shift, weights=capacity, minlength=n_shifts),
    )
    per_shift = np.minimum(per_shift, shift_takers).astype(np.int64)
    return per_shift, min(int(per_shift.sum()), int(volunteer_most))


def _rows(pairs: np.ndarray, *by_pair: np.ndarray) -> Iterator[tuple[int, ...]]:
    """(pair, and each array's value of it) for every pair, as Python ints."""
    return zip(pairs.tolist(), *(a[pairs].tolist() for a in by_pair), strict=True)


def _lazy(make: Callable[[], Iterator[_T]]) -> Iterator[_T]:
    """The items of `make()`, called only when the first one is asked for."""
    yield from make()


# ---------------------------------------------------------------------- forked work

Report = Callable[[object], None]


def can_fork() -> bool:
    """Whether work can run in a forked process: POSIX, and not inside a daemonic process
    (a `multiprocessing.Pool` worker, which may not have children)."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def _child(call: Callable[[Report], object], conn: Connection) -> None:
    """The forked process: `call`'s reports, then its result or its error, down the pipe."""
    # the caller's handlers are not ours: a host that handles SIGTERM itself (graceful
    # shutdown) must not keep this process alive, nor a SIGINT meant for it stop this one
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = call(lambda item: conn.send(("report", item)))
    except BaseException as exc:  # the parent raises it
        conn.send(("error", exc))
    else:
        conn.send(("result", result))
    finally:
        conn.close()


class Forked(Generic[_T]):
    """A call running in a forked process: what it reported so far, and its result."""

    def __init__(
        self, process: BaseProcess | None, conn: Connection | None, error: str | None = None
    ) -> None:
        self._process = process
        self._conn = conn
        self._done = False
        self._result: _T | None = None
        self.reports: list[object] = []  # what the call reported so far, in order
        self.error = error  # why the process could not be started (then nothing comes)

    def _read(self, timeout: float) -> None:
        """Take in what the process sent, waiting up to `timeout` seconds for its end."""
        if self._conn is None:
            return
        end = time.monotonic() + max(timeout, 0.0)
        while not self._done and self._conn.poll(max(end - time.monotonic(), 0.0)):
            try:
                kind, item = self._conn.recv()
            except EOFError:  # the process died without a word (killed, out of memory)
                code = self._process.exitcode if self._process else None
                raise RuntimeError(
                    f"the forked process ended without a result (exit code {code})"
                ) from None
            if kind == "report":
                self.reports.append(item)
            elif kind == "error":
                raise item
            else:
                self._done, self._result = True, item

    def ready(self) -> bool:
        """Whether the call has ended (its result or error is waiting)."""
        self._read(0.0)
        return self._done

    def result(self, timeout: float) -> _T | None:
        """The call's result, or None when it is not ready within `timeout` seconds (its
        process is then stopped when the `run_forked` block ends). Its error is raised
        here."""
        self._read(timeout)
        return self._result if self._done else None


@contextmanager
def run_forked(call: Callable[[Report], _T]) -> Iterator[Forked[_T]]:
    """Start `call(report)` in a forked process: it sees this process's memory as it is now,
    and what it passes to `report` and returns comes back pickled. The process is killed
    when the block ends. When it cannot be started (fork refused: out of memory, too many
    processes), the `Forked` never becomes ready and says why in `error`."""
    ctx = multiprocessing.get_context("fork")
    here, there = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(call, there), daemon=True)
    try:
        process.start()
    except OSError as exc:
        here.close()
        there.close()
        yield Forked(None, None, error=f"{type(exc).__name__}: {exc}")
        return
    there.close()
    try:
        yield Forked(process, here)
    finally:
        here.close()
        process.kill()  # (nothing in it needs to be let go of gracefully)
        process.join()
