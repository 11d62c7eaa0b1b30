"""Matching runs: start with scope locks, solve in the worker, edit, publish atomically, discard."""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from web.extensions import db
from web.i18n import list_separator
from web.labels import REASON_LABELS, RUN_STATUS_LABELS, SOLUTION_STATUS_LABELS
from web.models import (
    HOLDING_STATES,
    Assignment,
    Governorate,
    Institution,
    MatchingRun,
    RunLock,
    RunProposal,
    Shift,
    Skill,
    User,
    utcnow,
)
from web.services import audit
from web.services.matching_problem import (
    build_problem,
    institutions_in_scope,
    parse_key,
)

log = logging.getLogger(__name__)

TRIGGERS = ("manual", "nightly", "replacement")
MAX_WINDOW_DAYS = 31
MAX_TIME_LIMIT_S = 600.0


class RunError(Exception):
    """A request about a run that cannot be carried out; the message is for the user."""

    def __init__(self, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


# --- scope and rights -------------------------------------------------------------------------


def scope_allowed(user: User | None, scope_kind: str, scope_ids: Iterable[int]) -> bool:
    """Admins and national coordinators run anything; others only inside their governorates."""
    if user is None or user.role == "admin":
        return True
    if user.role != "coordinator":
        return False
    allowed = user.governorate_ids()
    if allowed is None:
        return True
    ids = list(scope_ids)
    if scope_kind == "national":
        return False
    if scope_kind == "governorates":
        return bool(ids) and set(ids) <= allowed
    governorates = db.session.scalars(
        sa.select(Institution.governorate_id).where(Institution.id.in_(ids))
    ).all()
    return (
        bool(governorates) and len(governorates) == len(set(ids)) and set(governorates) <= allowed
    )


def describe_scope(scope_kind: str, scope_ids: Iterable[int]) -> str:
    """A short human description of a scope in the active language."""
    ids = list(scope_ids)
    if scope_kind == "national":
        return str(_l("National"))
    if scope_kind == "governorates":
        rows = db.session.scalars(sa.select(Governorate).where(Governorate.id.in_(ids))).all()
        return ", ".join(g.name for g in sorted(rows, key=lambda g: g.id))
    rows = db.session.scalars(sa.select(Institution).where(Institution.id.in_(ids))).all()
    return ", ".join(i.name for i in sorted(rows, key=lambda i: i.id))


def validate_scope(scope_kind: str, scope_ids: list[int]) -> None:
    if scope_kind == "national":
        if scope_ids:
            raise RunError(_l("A national run takes no governorates or institutions."))
        return
    if scope_kind not in ("governorates", "institutions"):
        raise RunError(_l("Choose a scope: national, governorates or institutions."))
    if not scope_ids:
        raise RunError(_l("Choose at least one governorate or institution."))
    model = Governorate if scope_kind == "governorates" else Institution
    found = db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.id.in_(scope_ids))
    )
    if found != len(set(scope_ids)):
        raise RunError(_l("The scope names a governorate or institution that does not exist."))


# --- starting and claiming ----------------------------------------------------------------------


def start_run(
    user: User | None,
    scope_kind: str,
    scope_ids: Iterable[int],
    window_start: datetime,
    window_end: datetime,
    *,
    time_limit_s: float = 30.0,
    trigger: str = "manual",
    auto_publish: bool = False,
    schedule_id: int | None = None,
    scheduled_for: str | None = None,
    shift_ids: list[int] | None = None,
) -> MatchingRun:
    """Queue a run and take the locks of every institution in its scope, in one transaction.

    A replacement run (``shift_ids`` set) re-matches only those shifts and takes no locks: it
    changes no other place, and publishing any run re-checks every place it offers.
    """
    ids = sorted({int(i) for i in scope_ids})
    validate_scope(scope_kind, ids)
    if not scope_allowed(user, scope_kind, ids):
        raise RunError(_l("You may not run matching for this scope."), status=403)
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise RunError(_l("The window needs times with a zone."))
    if window_end <= window_start:
        raise RunError(_l("The window must end after it starts."))
    if window_end - window_start > timedelta(days=MAX_WINDOW_DAYS):
        raise RunError(_l("The window may be at most %(days)s days.", days=MAX_WINDOW_DAYS))
    if not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        raise RunError(
            _l("The time limit must be between 1 and %(most)s seconds.", most=int(MAX_TIME_LIMIT_S))
        )
    institution_ids = db.session.scalars(
        institutions_in_scope(scope_kind, ids).with_only_columns(Institution.id)
    ).all()
    if not institution_ids:
        raise RunError(_l("There are no active institutions in this scope."))
    run = MatchingRun(
        trigger=trigger,
        status="queued",
        scope_kind=scope_kind,
        scope_ids=ids,
        window_start=window_start,
        window_end=window_end,
        time_limit_s=float(time_limit_s),
        auto_publish=auto_publish,
        created_by_id=user.id if user is not None else None,
        schedule_id=schedule_id,
        scheduled_for=scheduled_for,
        shift_ids=shift_ids,
        progress=str(_l("Waiting for the worker")),
    )
    db.session.add(run)
    try:
        db.session.flush()
        if shift_ids is None:
            db.session.execute(
                sa.insert(RunLock),
                [{"institution_id": i, "run_id": run.id} for i in institution_ids],
            )
        audit.record(user, "run.start", "matching_run", run.id, scope=scope_kind, ids=ids)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        if scheduled_for is not None and "scheduled_for" in str(exc.orig):
            raise RunError(_l("This schedule already ran today."), status=409) from exc
        raise RunError(
            _l("Another run is active for an overlapping scope. Publish or discard it first."),
            status=409,
        ) from exc
    return run


def _release_locks(run: MatchingRun) -> None:
    db.session.execute(sa.delete(RunLock).where(RunLock.run_id == run.id))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_run(run_id: int, worker: str | None = None) -> MatchingRun | None:
    """Move one queued run to running for this worker; a conditional UPDATE makes it atomic."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(MatchingRun)
        .where(MatchingRun.id == run_id, MatchingRun.status == "queued")
        .values(
            status="running",
            started_at=now,
            heartbeat_at=now,
            worker=worker or worker_name(),
            progress=str(_l("Building the problem")),
            version=MatchingRun.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    run = db.session.get(MatchingRun, run_id)
    db.session.refresh(run)
    return run


def claim_next_run(worker: str | None = None) -> MatchingRun | None:
    """Take the oldest queued run, skipping any another worker claimed first."""
    candidates = db.session.scalars(
        sa.select(MatchingRun.id)
        .where(MatchingRun.status == "queued")
        .order_by(MatchingRun.created_at, MatchingRun.id)
        .limit(5)
    ).all()
    for run_id in candidates:
        run = claim_run(run_id, worker)
        if run is not None:
            return run
    return None


def fail_stale_runs(stale_after: timedelta | None = None) -> int:
    """Mark failed the runs left running by a dead worker (all of them when a worker starts)."""
    query = sa.select(MatchingRun).where(MatchingRun.status == "running")
    if stale_after is not None:
        query = query.where(MatchingRun.heartbeat_at < utcnow() - stale_after)
    runs = db.session.scalars(query).all()
    for run in runs:
        run.status = "failed"
        run.error = "The worker running this run stopped before it finished."
        run.finished_at = utcnow()
        _release_locks(run)
        audit.record(None, "run.fail_stale", "matching_run", run.id, worker=run.worker)
    db.session.commit()
    return len(runs)


def publish_interrupted_runs() -> list[int]:
    """Publish the self-publishing runs whose publish a dead worker left undone; their ids.

    A run that publishes itself (nightly with auto-publish, a replacement run) is stored as
    proposed and then published in a second transaction; a worker killed between the two, or
    in the middle of the second, leaves it proposed. Nobody reviews those runs, so the next
    poll publishes them: publishing re-checks every place, so it is safe to do late.
    """
    ids = db.session.scalars(
        sa.select(MatchingRun.id)
        .where(MatchingRun.status == "proposed", MatchingRun.auto_publish.is_(True))
        .order_by(MatchingRun.id)
    ).all()
    published = []
    for run_id in ids:
        try:
            publish_run(run_id, None)
            published.append(run_id)
        except RunError as exc:
            db.session.rollback()
            log.warning("publishing interrupted run %s refused: %s", run_id, exc)
    return published


# --- solving ------------------------------------------------------------------------------------


def _progress_writer(run_id: int) -> Callable[[str], None]:
    """Write progress lines to the run (at most one a second) in their own short transactions."""
    last = [0.0]

    def write(message: str) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0:
            return
        last[0] = now
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(MatchingRun.__table__)
                .where(MatchingRun.__table__.c.id == run_id)
                .values(progress=message[:300], heartbeat_at=utcnow())
            )

    return write


def execute_run(run: MatchingRun) -> MatchingRun:
    """Build the problem, solve it and store the proposal; failures are recorded, never raised."""
    import matcher

    run_id = run.id
    started = time.monotonic()
    try:
        built = build_problem(
            run.scope_kind,
            run.scope_ids,
            run.window_start,
            run.window_end,
            time_limit_s=run.time_limit_s,
            only_shift_ids=run.shift_ids,
        )
        progress = _progress_writer(run_id)
        if built.is_empty:
            solution_dict: dict[str, Any] = {
                "format": matcher.model.FORMAT,
                "assignments": [],
                "unfilled": [],
                "metrics": {
                    "demand": 0,
                    "filled": 0,
                    "upper_bound": 0,
                    "status": "EMPTY",
                    "solve_seconds": 0.0,
                    "mean_km": None,
                },
                "warnings": [],
            }
        else:
            problem = matcher.load_problem(built.problem)
            threads = current_app.config.get("MATCHER_THREADS")
            solution = matcher.solve(
                problem, time_limit=run.time_limit_s, threads=threads, progress=progress
            )
            solution_dict = solution.to_dict()
    except Exception as exc:  # an error we cause: log it with context, record it, keep the worker
        db.session.rollback()
        log.exception("matching run %s failed", run_id)
        run = db.session.get(MatchingRun, run_id)
        run.status = "failed"
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = utcnow()
        _release_locks(run)
        db.session.commit()
        return run

    run = db.session.get(MatchingRun, run_id)
    db.session.refresh(run)
    locked = {(p["volunteer_id"], p["shift_id"]) for p in built.problem.get("locked", [])}
    skills = _skill_ids()
    for a in solution_dict["assignments"]:
        db.session.add(
            RunProposal(
                run_id=run.id,
                shift_id=parse_key(a["shift_id"]),
                volunteer_id=parse_key(a["volunteer_id"]),
                position_skill_id=skills.get(a["position"]) if a.get("position") else None,
                locked=(a["volunteer_id"], a["shift_id"]) in locked,
            )
        )
    metrics = dict(solution_dict["metrics"])
    metrics.update(
        volunteers=len(built.volunteer_ids),
        shifts=len(built.shift_ids),
        institutions=len(built.institution_ids),
        wall_seconds=round(time.monotonic() - started, 3),
    )
    run.problem = built.problem
    run.solution = solution_dict
    run.metrics = metrics
    run.status = "proposed"
    run.finished_at = utcnow()
    run.progress = ""
    audit.record(None, "run.proposed", "matching_run", run.id, **_summary_numbers(metrics))
    db.session.commit()
    if run.auto_publish:
        try:
            publish_run(run.id, None)
        except RunError as exc:
            log.warning("auto-publish of run %s refused: %s", run.id, exc)
    return db.session.get(MatchingRun, run.id)


def _summary_numbers(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("demand", "filled", "upper_bound", "status", "volunteers", "shifts")
    return {k: metrics.get(k) for k in keys}


# --- reading a proposal -------------------------------------------------------------------------


@dataclass
class RunDiff:
    """How a run's proposal differs from the roster that is published now."""

    added: list[tuple[int, int]] = field(default_factory=list)
    removed: list[tuple[int, int]] = field(default_factory=list)
    moved: list[tuple[int, int, int]] = field(default_factory=list)  # volunteer, from, to
    kept: list[tuple[int, int]] = field(default_factory=list)


def final_pairs(run: MatchingRun) -> list[RunProposal]:
    """The proposal as it would be published: matcher pairs and pins, minus removals."""
    return [p for p in run.proposals if not p.removed]


def current_roster(shift_ids: Iterable[int]) -> list[Assignment]:
    """Assignments holding places on these shifts now."""
    ids = list(shift_ids)
    if not ids:
        return []
    return db.session.scalars(
        sa.select(Assignment)
        .where(Assignment.shift_id.in_(ids), Assignment.state.in_(sorted(HOLDING_STATES)))
        .order_by(Assignment.id)
    ).all()


def run_shift_ids(run: MatchingRun) -> list[int]:
    if not run.problem:
        return []
    return [parse_key(s["id"]) for s in run.problem.get("shifts", [])]


def diff_run(run: MatchingRun) -> RunDiff:
    """Added, removed and moved pairs against the published roster of the run's shifts."""
    proposed = {(p.volunteer_id, p.shift_id) for p in final_pairs(run)}
    current = {(a.volunteer_id, a.shift_id) for a in current_roster(run_shift_ids(run))}
    diff = RunDiff(kept=sorted(proposed & current))
    added = sorted(proposed - current)
    removed = sorted(current - proposed)
    removed_by_volunteer: dict[int, list[int]] = defaultdict(list)
    for volunteer, shift in removed:
        removed_by_volunteer[volunteer].append(shift)
    for volunteer, shift in added:
        if removed_by_volunteer.get(volunteer):
            diff.moved.append((volunteer, removed_by_volunteer[volunteer].pop(0), shift))
        else:
            diff.added.append((volunteer, shift))
    diff.removed = [(v, s) for v, shifts in sorted(removed_by_volunteer.items()) for s in shifts]
    return diff


# --- editing before publish ---------------------------------------------------------------------


def _changeable(
    run_id: int, user: User | None, statuses: tuple[str, ...], refusal: Any
) -> MatchingRun:
    """The run, if it exists, is in the user's scope and has one of ``statuses``."""
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        raise RunError(_l("This run does not exist."), status=404)
    if not scope_allowed(user, run.scope_kind, run.scope_ids):
        raise RunError(_l("You may not change this run."), status=403)
    if run.status not in statuses:
        raise RunError(refusal, status=409)
    return run


def _editable(run_id: int, user: User | None) -> MatchingRun:
    return _changeable(
        run_id, user, ("proposed",), _l("Only a proposed run can be changed or published.")
    )


def _skill_ids() -> dict[str, int]:
    """Skill codes (the matcher's position names) to their ids."""
    return {s.code: s.id for s in db.session.scalars(sa.select(Skill))}


def check_pairs(run: MatchingRun, pairs: list[RunProposal], problem: Any = None) -> list[str]:
    """Every hard rule the given pairs break, judged by the matcher's own validator."""
    import matcher
    from matcher.check import check_assignments
    from matcher.model import Assignment as MatchAssignment

    problem = problem or matcher.load_problem(run.problem)
    codes = {skill_id: code for code, skill_id in _skill_ids().items()}
    assignments = [
        MatchAssignment(f"v{p.volunteer_id}", f"s{p.shift_id}", codes.get(p.position_skill_id))
        for p in pairs
    ]
    return check_assignments(problem, assignments, (run.solution or {}).get("warnings", []))


def _choose_position(problem: Any, pairs: list[RunProposal], new: RunProposal) -> None:
    """Give a new pair a reserved skill place it qualifies for if one is free, else an open one."""
    from matcher.eligibility import positions_for

    volunteer = problem.volunteer_by_id.get(f"v{new.volunteer_id}")
    shift = problem.shift_by_id.get(f"s{new.shift_id}")
    if volunteer is None or shift is None:
        raise RunError(_l("This volunteer or shift is not part of the run."))
    skill_ids = _skill_ids()
    used: dict[int | None, int] = defaultdict(int)
    for p in pairs:
        if p.shift_id == new.shift_id and p is not new:
            used[p.position_skill_id] += 1
    for position in positions_for(volunteer, shift):
        if position is None:
            if used[None] < shift.open_places:
                new.position_skill_id = None
                return
        elif used[skill_ids[position]] < shift.required_skills[position]:
            new.position_skill_id = skill_ids[position]
            return
    raise RunError(_l("This shift has no free place this volunteer can take."))


def edit_run(
    run_id: int,
    user: User | None,
    action: str,
    shift_id: int,
    volunteer_id: int,
    other_volunteer_id: int | None = None,
) -> MatchingRun:
    """Pin, remove, restore or add a pair, or swap a volunteer; nothing is kept if a rule breaks."""
    try:
        return _edit_run(run_id, user, action, shift_id, volunteer_id, other_volunteer_id)
    except RunError:
        db.session.rollback()  # a refused edit leaves no half-made change in the session
        raise


def _edit_run(
    run_id: int,
    user: User | None,
    action: str,
    shift_id: int,
    volunteer_id: int,
    other_volunteer_id: int | None,
) -> MatchingRun:
    import matcher

    run = _editable(run_id, user)
    problem = matcher.load_problem(run.problem)  # once per edit: it is large for national runs
    by_pair = {(p.volunteer_id, p.shift_id): p for p in run.proposals}
    pair = by_pair.get((volunteer_id, shift_id))
    if action in ("pin", "unpin", "remove", "restore") and pair is None:
        raise RunError(_l("This volunteer is not proposed for this shift."), status=404)
    if action == "pin":
        pair.pinned = True
    elif action == "unpin":
        pair.pinned = False
    elif action == "remove":
        if pair.locked:
            raise RunError(_l("A confirmed assignment cannot be removed from a run."), status=409)
        pair.removed = True
        pair.pinned = False
    elif action == "restore":
        pair.removed = False
    elif action in ("add", "swap"):
        if shift_id not in run_shift_ids(run):
            raise RunError(_l("This shift is not part of the run."))
        target_volunteer = volunteer_id if action == "add" else other_volunteer_id
        if target_volunteer is None:
            raise RunError(_l("Choose the volunteer to swap in."))
        if action == "swap":
            if pair is None or pair.removed:
                raise RunError(_l("This volunteer is not proposed for this shift."), status=404)
            if pair.locked:
                raise RunError(_l("A confirmed assignment cannot be swapped."), status=409)
            pair.removed = True
            pair.pinned = False
        existing = by_pair.get((target_volunteer, shift_id))
        if existing is not None and not existing.removed:
            raise RunError(_l("This volunteer is already on this shift."), status=409)
        if existing is None:
            existing = RunProposal(
                run=run,
                shift_id=shift_id,
                volunteer_id=target_volunteer,
                added_by_id=getattr(user, "id", None),
            )
            db.session.add(existing)
        existing.removed = False
        existing.pinned = True
        _choose_position(problem, final_pairs(run), existing)
    else:
        raise RunError(_l("Unknown change."))
    problems = check_pairs(run, final_pairs(run), problem)
    if problems:
        db.session.rollback()
        log.info("run %s: edit %s refused: %s", run.id, action, problems)
        raise RunError(
            _l("This change breaks a matching rule: %(rules)s", rules=rule_names(problems)),
            status=409,
        )
    audit.record(
        user,
        f"run.{action}",
        "matching_run",
        run.id,
        shift=shift_id,
        volunteer=volunteer_id,
        other=other_volunteer_id,
    )
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise RunError(_l("This run changed in the meantime. Please reload."), status=409) from exc
    return run


_RULE = re.compile(r"rule \d \(([a-z_ ]+)\)")
_RULE_CODES = {"minimum age": "age", "one place per volunteer": "assigned_here"}


def rule_names(problems: list[str]) -> str:
    """The rules named by the matcher's validator lines, in the user's language."""
    codes = []
    for line in problems:
        match = _RULE.search(line)
        code = _RULE_CODES.get(match[1], match[1]) if match else "schedule"
        if code not in codes:
            codes.append(code)
    return list_separator().join(str(REASON_LABELS.get(c, c)) for c in codes)


def discard_run(run_id: int, user: User | None) -> MatchingRun:
    """Drop a proposal (or a queued run) and free its scope."""
    run = _changeable(
        run_id,
        user,
        ("queued", "proposed"),
        _l("Only a queued or proposed run can be discarded."),
    )
    run.status = "discarded"
    run.finished_at = run.finished_at or utcnow()
    _release_locks(run)
    audit.record(user, "run.discard", "matching_run", run.id)
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise RunError(_l("This run changed in the meantime. Please reload."), status=409) from exc
    return run


# --- publishing ---------------------------------------------------------------------------------


@dataclass
class PublishResult:
    """What a publish did."""

    offered: int = 0
    kept: int = 0
    cancelled: int = 0
    skipped: list[str] = field(default_factory=list)


def _crash_point(step: str) -> None:
    """Test hook: kill this process at a named point of publishing (never set in production)."""
    if os.environ.get("VM_CRASH_AT") == step:
        os.kill(os.getpid(), 9)


def publish_run(run_id: int, user: User | None) -> PublishResult:
    """Turn the proposal into offers in ONE transaction: all of it is published, or none of it."""
    from web.services import places
    from web.services.messaging import queue_publish_messages

    run = _editable(run_id, user)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.select(MatchingRun.id).where(MatchingRun.id == run.id).with_for_update()
        )
        db.session.refresh(run)
        if run.status != "proposed":
            db.session.rollback()
            raise RunError(_l("Only a proposed run can be changed or published."), status=409)
    result = PublishResult()
    pairs = final_pairs(run)
    wanted = {(p.volunteer_id, p.shift_id): p for p in pairs}
    roster = current_roster(run_shift_ids(run))
    holding = {(a.volunteer_id, a.shift_id): a for a in roster}
    now = utcnow()
    # 1. Offers from the last published roster that the new proposal drops are withdrawn
    #    (a replacement run only adds: it never takes an offer back).
    for key, assignment in holding.items():
        if key in wanted:
            result.kept += 1
            continue
        if assignment.state == "offered" and run.trigger != "replacement":
            places.release(assignment)
            assignment.state = "cancelled"
            assignment.state_changed_at = now
            result.cancelled += 1
            audit.record(
                user, "assignment.withdrawn_by_run", "assignment", assignment.id, run=run.id
            )
    db.session.flush()
    _crash_point("after_cancel")
    # 2. New pairs become offers, each taking its place through the same counters as sign-up.
    for key, proposal in sorted(wanted.items()):
        if key in holding:
            continue
        ok, reason = places.offer(
            proposal.shift, proposal.volunteer_id, proposal.position_skill_id, run_id=run.id
        )
        if ok:
            result.offered += 1
        else:
            result.skipped.append(f"v{key[0]} s{key[1]}: {reason}")
        _crash_point("mid_offers")
    queue_publish_messages(run, now)  # the SMS outbox, in this same transaction
    run.status = "published"
    run.published_at = now
    run.published_by_id = user.id if user is not None else None
    run.metrics = {
        **run.metrics,
        "published": {
            "offered": result.offered,
            "kept": result.kept,
            "cancelled": result.cancelled,
            "skipped": result.skipped,
        },
    }
    _release_locks(run)
    audit.record(
        user,
        "run.publish",
        "matching_run",
        run.id,
        offered=result.offered,
        kept=result.kept,
        cancelled=result.cancelled,
        skipped=len(result.skipped),
    )
    _crash_point("before_commit")
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise RunError(_l("This run changed in the meantime. Please reload."), status=409) from exc
    return result


def default_window(days: int = 7, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From now to ``days`` days ahead."""
    start = (now or utcnow()).replace(second=0, microsecond=0)
    return start, start + timedelta(days=days)


def runs_query(status: str | None = None, trigger: str | None = None) -> sa.Select[Any]:
    """Run history, newest first, filtered by status and trigger."""
    query = sa.select(MatchingRun).order_by(MatchingRun.created_at.desc(), MatchingRun.id.desc())
    if status:
        query = query.where(MatchingRun.status == status)
    if trigger:
        query = query.where(MatchingRun.trigger == trigger)
    return query


def shift_table(run: MatchingRun) -> list[dict[str, Any]]:
    """One row per shift of the run: places, proposed volunteers and what stays unfilled."""
    shift_ids = run_shift_ids(run)
    shifts = {s.id: s for s in db.session.scalars(sa.select(Shift).where(Shift.id.in_(shift_ids)))}
    by_shift: dict[int, list[RunProposal]] = defaultdict(list)
    for p in run.proposals:
        by_shift[p.shift_id].append(p)
    unfilled: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for u in (run.solution or {}).get("unfilled", []):
        unfilled[parse_key(u["shift_id"])].append(u)
    rows = []
    for sid in shift_ids:
        shift = shifts.get(sid)
        if shift is None:
            continue
        pairs = by_shift.get(sid, [])
        rows.append(
            {
                "shift": shift,
                "proposals": pairs,
                "filled": sum(1 for p in pairs if not p.removed),
                "unfilled": unfilled.get(sid, []),
            }
        )
    return rows


def candidates_by_shift(
    run: MatchingRun, shift_ids: Iterable[int], limit: int = 15
) -> dict[int, list[tuple[int, str, float]]]:
    """Volunteers of the run a coordinator could add to each shift, nearest first.

    They pass every static rule of the matcher on the run's problem (the vectorised candidate
    generator, the same rules the solver used) and are not on the shift yet; clashes and caps
    are checked when the coordinator adds one.
    """
    import numpy as np

    import matcher
    from matcher.candidates import build_arrays, generate

    wanted = {f"s{sid}" for sid in shift_ids}
    if not run.problem or not wanted:
        return {}
    problem = matcher.load_problem(run.problem)
    arrays = build_arrays(problem)
    mask = np.array([s.id in wanted for s in problem.shifts], dtype=bool)
    found = generate(arrays, mask)
    on_shift = {(p.volunteer_id, p.shift_id) for p in final_pairs(run)}
    nearest: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for v, s, km in zip(found.vol.tolist(), found.shift.tolist(), found.km.tolist(), strict=True):
        volunteer_id = parse_key(problem.volunteers[v].id)
        shift_id = parse_key(problem.shifts[s].id)
        if (volunteer_id, shift_id) not in on_shift:
            nearest[shift_id].append((km, volunteer_id))
    names = user_names({vid for pairs in nearest.values() for _km, vid in pairs})
    return {
        sid: [(vid, names.get(vid, str(vid)), km) for km, vid in sorted(pairs)[:limit]]
        for sid, pairs in nearest.items()
    }


# Run statuses and the matcher's solution statuses as a user reads them.
STATUS_LABELS = {**RUN_STATUS_LABELS, **SOLUTION_STATUS_LABELS}


def summary_lines(run: MatchingRun) -> list[str]:
    """The headline of a run in the active language, shared by the page and the CLI."""
    m = run.metrics or {}
    status = STATUS_LABELS.get(run.status, run.status)
    lines = [
        str(_l("Run %(id)s: %(status)s", id=run.id, status=status)),
        str(_l("Scope: %(scope)s", scope=describe_scope(run.scope_kind, run.scope_ids))),
    ]
    if run.status == "failed":
        lines.append(str(_l("Error: %(error)s", error=run.error or "")))
        return lines
    if "filled" in m:
        lines.append(
            str(
                _l(
                    "Filled %(filled)s of %(demand)s places; proven best possible: %(bound)s "
                    "(%(status)s).",
                    filled=m["filled"],
                    demand=m["demand"],
                    bound=m["upper_bound"],
                    status=STATUS_LABELS.get(m["status"], m["status"]),
                )
            )
        )
        lines.append(
            str(
                _l(
                    "%(volunteers)s volunteers and %(shifts)s shifts considered in %(seconds)s s.",
                    volunteers=m.get("volunteers", 0),
                    shifts=m.get("shifts", 0),
                    seconds=m.get("wall_seconds", m.get("solve_seconds", 0)),
                )
            )
        )
        if not m.get("volunteers") and m.get("shifts"):
            lines.append(str(_l("No volunteer lives within reach of these shifts.")))
    unfilled = (run.solution or {}).get("unfilled", [])
    if unfilled:
        missing = sum(u.get("missing", 0) for u in unfilled)
        lines.append(str(_l("%(missing)s places stay unfilled.", missing=missing)))
    published = m.get("published")
    if published:
        lines.append(
            str(
                _l(
                    "Published: %(offered)s offered, %(kept)s kept, %(cancelled)s withdrawn.",
                    offered=published["offered"],
                    kept=published["kept"],
                    cancelled=published["cancelled"],
                )
            )
        )
    return lines


def volunteer_names(run: MatchingRun) -> dict[int, str]:
    """Names of every volunteer the run's proposal and diff mention."""
    ids = {p.volunteer_id for p in run.proposals}
    ids |= {a.volunteer_id for a in current_roster(run_shift_ids(run))}
    return user_names(ids)


def user_names(ids: Iterable[int]) -> dict[int, str]:
    """Full names of the users with these ids."""
    ids = set(ids)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids)))
    return dict(rows.tuples().all())
