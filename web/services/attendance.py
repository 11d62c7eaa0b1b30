"""Attendance: check-in/out (manager or QR), no-shows, the append-only hours ledger and its sums."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from web.authz import can_manage_institution
from web.extensions import db
from web.i18n import format_local
from web.models import (
    Assignment,
    AttendanceRecord,
    HoursEntry,
    Institution,
    Shift,
    User,
    utcnow,
)
from web.services import audit, places

QR_SALT = "attendance-qr-v1"
NOTE_MAX = 500
MINUTES_MAX = 1440


class AttendanceError(Exception):
    """The change cannot be made; the message is for the user."""

    def __init__(self, message: object, status: int = 409) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


# --- the window in which a shift's attendance may be recorded ---------------------------------


@dataclass(frozen=True)
class Window:
    """When check-in and check-out are honoured for a shift (UTC)."""

    opens: datetime
    closes: datetime

    def holds(self, moment: datetime) -> bool:
        return self.opens <= moment <= self.closes


def window(shift: Shift) -> Window:
    """From ATTENDANCE_OPENS_MINUTES before the start to ATTENDANCE_CLOSES_MINUTES after the end."""
    before = int(current_app.config.get("ATTENDANCE_OPENS_MINUTES", 60))
    after = int(current_app.config.get("ATTENDANCE_CLOSES_MINUTES", 120))
    return Window(
        shift.starts_at - timedelta(minutes=before), shift.ends_at + timedelta(minutes=after)
    )


def _outside_window(shift: Shift) -> AttendanceError:
    span = window(shift)
    zone = shift.institution.timezone
    return AttendanceError(
        _l(
            "Attendance for this shift can be recorded from %(opens)s to %(closes)s.",
            opens=format_local(span.opens, zone, "short"),
            closes=format_local(span.closes, zone, "short"),
        )
    )


def credited_minutes(shift: Shift, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Whole minutes of presence inside the shift's scheduled times (early or late time is not)."""
    start = max(checked_in_at, shift.starts_at)
    end = min(checked_out_at, shift.ends_at)
    if end <= start:
        return 0
    return int((end - start).total_seconds() // 60)


# --- checking in and out ----------------------------------------------------------------------


def _require_manager(actor: User, shift: Shift) -> None:
    if not can_manage_institution(actor, shift.institution):
        raise AttendanceError(_l("You may not change this shift."), status=403)


def _require_open(shift: Shift) -> None:
    if shift.status != "open":
        raise AttendanceError(_l("This shift was cancelled."))


def _record(assignment: Assignment) -> AttendanceRecord | None:
    return db.session.get(AttendanceRecord, assignment.id)


def _lock(shift: Shift, assignment: Assignment) -> AttendanceRecord | None:
    """Lock the shift row, then read the assignment and its record afresh (double clicks)."""
    from web.services.signup import lock_shift

    lock_shift(shift.id)
    db.session.refresh(assignment)
    record = _record(assignment)
    if record is not None:
        db.session.refresh(record)
    return record


def _check_in(actor: User, assignment: Assignment, source: str, at: datetime) -> AttendanceRecord:
    shift = assignment.shift
    record = _lock(shift, assignment)
    if record is not None:
        raise AttendanceError(_l("This volunteer has already checked in."))
    if assignment.state != "confirmed":
        raise AttendanceError(_l("Only a volunteer with a confirmed place can check in."))
    record = AttendanceRecord(
        assignment_id=assignment.id,
        checked_in_at=at,
        check_in_source=source,
        checked_in_by_id=actor.id,
    )
    db.session.add(record)
    assignment.state = "attended"
    assignment.state_changed_at = utcnow()
    audit.record(
        actor, "attendance.check_in", "assignment", assignment.id, shift=shift.id, source=source
    )
    return record


def _check_out(actor: User, assignment: Assignment, source: str, at: datetime) -> HoursEntry:
    shift = assignment.shift
    record = _lock(shift, assignment)
    if record is None:
        raise AttendanceError(_l("This volunteer has not checked in."))
    if record.checked_out_at is not None:
        raise AttendanceError(_l("This volunteer has already checked out."))
    at = max(at, record.checked_in_at)
    record.checked_out_at = at
    record.check_out_source = source
    record.checked_out_by_id = actor.id
    entry = HoursEntry(
        volunteer_id=assignment.volunteer_id,
        shift_id=shift.id,
        minutes=credited_minutes(shift, record.checked_in_at, at),
        source=source,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
        note="",
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        actor,
        "attendance.check_out",
        "assignment",
        assignment.id,
        shift=shift.id,
        source=source,
        minutes=entry.minutes,
        entry=entry.id,
    )
    return entry


def check_in(actor: User, assignment: Assignment, *, now: datetime | None = None) -> None:
    """A manager checks a confirmed volunteer in, inside the shift's attendance window."""
    now = now or utcnow()
    shift = assignment.shift
    _require_manager(actor, shift)
    _require_open(shift)
    if not window(shift).holds(now):
        raise _outside_window(shift)
    if now >= shift.ends_at:
        raise AttendanceError(
            _l("The shift has ended: record the volunteer as present for the whole shift.")
        )
    try:
        _check_in(actor, assignment, "manager", now)
    except AttendanceError:
        db.session.rollback()
        raise
    db.session.commit()


def check_out(actor: User, assignment: Assignment, *, now: datetime | None = None) -> HoursEntry:
    """A manager checks a volunteer out (also after the window, for a forgotten check-out)."""
    now = now or utcnow()
    shift = assignment.shift
    _require_manager(actor, shift)
    _require_open(shift)
    try:
        entry = _check_out(actor, assignment, "manager", now)
    except AttendanceError:
        db.session.rollback()
        raise
    db.session.commit()
    return entry


def record_whole_shift(
    actor: User, assignment: Assignment, *, now: datetime | None = None
) -> HoursEntry:
    """After a shift, a manager records a confirmed volunteer as present for all of it."""
    now = now or utcnow()
    shift = assignment.shift
    _require_manager(actor, shift)
    _require_open(shift)
    if now < shift.ends_at:
        raise AttendanceError(_l("The shift has not ended yet: check the volunteer in instead."))
    try:
        _check_in(actor, assignment, "manager", shift.starts_at)
        db.session.flush()
        entry = _check_out(actor, assignment, "manager", shift.ends_at)
    except AttendanceError:
        db.session.rollback()
        raise
    db.session.commit()
    return entry


def mark_absent(actor: User, assignment: Assignment) -> Assignment:
    """A manager marks a confirmed volunteer as not coming; a replacement is sought in time."""
    from web.services.replacement import request_replacement
    from web.services.signup import lock_shift

    shift = assignment.shift
    _require_manager(actor, shift)
    if assignment.state == "no_show":
        return assignment
    if assignment.state == "attended":
        raise AttendanceError(_l("This volunteer has already checked in."))
    if assignment.state != "confirmed":
        raise AttendanceError(_l("Only a confirmed volunteer can be marked absent."))
    _require_open(shift)
    lock_shift(shift.id)
    places.release(assignment)
    assignment.state = "no_show"
    assignment.state_changed_at = utcnow()
    audit.record(actor, "assignment.no_show", "assignment", assignment.id, shift=shift.id)
    db.session.commit()
    if shift.starts_at > utcnow():
        db.session.refresh(shift)
        request_replacement(shift)
    return assignment


# --- the QR code shown at the institution ---------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=QR_SALT)


def qr_token(shift: Shift) -> str:
    """The signed token of a shift's QR code (the same for the whole life of the shift)."""
    return _serializer().dumps({"shift": shift.id})


def qr_url(shift: Shift) -> str:
    """The absolute address the shift's QR code encodes."""
    path = url_for("attendance.scan", shift_id=shift.id, scan_token=qr_token(shift))
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + path
    return url_for("attendance.scan", shift_id=shift.id, scan_token=qr_token(shift), _external=True)


def _token_shift(shift_id: int, token: str) -> Shift:
    """The shift a scanned token was signed for; refused when forged or for another shift."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        payload = None
    if not isinstance(payload, dict) or payload.get("shift") != shift_id:
        raise AttendanceError(_l("This code is not valid. Scan the code shown for your shift."))
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise AttendanceError(_l("This code is not valid. Scan the code shown for your shift."))
    return shift


@dataclass(frozen=True)
class Scan:
    """What a volunteer's scan of a shift's code allows: the next step or why not."""

    shift: Shift | None
    assignment: Assignment | None
    action: str | None  # "check_in", "check_out" or None
    problem: object | None = None  # a lazy message when nothing can be done
    record: AttendanceRecord | None = None


def _volunteer_assignment(user: User, shift: Shift) -> Assignment | None:
    return db.session.scalars(
        sa.select(Assignment).where(
            Assignment.shift_id == shift.id, Assignment.volunteer_id == user.id
        )
    ).one_or_none()


def read_scan(user: User, shift_id: int, token: str, *, now: datetime | None = None) -> Scan:
    """Check a scanned code for a volunteer without writing anything: what they may do next."""
    now = now or utcnow()
    try:
        shift = _token_shift(shift_id, token)
    except AttendanceError as exc:
        return Scan(None, None, None, exc.message)
    assignment = _volunteer_assignment(user, shift)
    record = _record(assignment) if assignment is not None else None
    if assignment is None or assignment.state not in ("confirmed", "attended"):
        problem = _l("You do not have a place on this shift, so there is nothing to record.")
        return Scan(shift, assignment, None, problem)
    if shift.status != "open":
        return Scan(shift, assignment, None, _l("This shift was cancelled."), record)
    if record is not None and record.checked_out_at is not None:
        return Scan(
            shift, assignment, None, _l("You have already checked out of this shift."), record
        )
    if not window(shift).holds(now):
        return Scan(shift, assignment, None, _outside_window(shift).message, record)
    if record is None and now >= shift.ends_at:
        problem = _l("The shift has ended: ask the institution to record your attendance.")
        return Scan(shift, assignment, None, problem, record)
    action = "check_out" if record is not None else "check_in"
    return Scan(shift, assignment, action, None, record)


def scan(
    user: User, shift_id: int, token: str, *, now: datetime | None = None
) -> tuple[str, HoursEntry | None]:
    """A volunteer checks in (or, when already in, out) with a shift's code; nothing on refusal."""
    now = now or utcnow()
    state = read_scan(user, shift_id, token, now=now)
    if state.action is None or state.assignment is None:
        raise AttendanceError(state.problem or _l("Nothing can be recorded."))
    try:
        if state.action == "check_in":
            _check_in(user, state.assignment, "qr", now)
            entry = None
        else:
            entry = _check_out(user, state.assignment, "qr", now)
    except AttendanceError:
        db.session.rollback()
        raise
    db.session.commit()
    return state.action, entry


# --- the hours ledger -------------------------------------------------------------------------


def add_correction(
    actor: User,
    assignment: Assignment,
    minutes: int | None,
    note: str | None,
    *,
    now: datetime | None = None,
) -> HoursEntry:
    """A manager adds or removes minutes for a volunteer on a shift, with a reason (a new line)."""
    now = now or utcnow()
    shift = assignment.shift
    _require_manager(actor, shift)
    note = (note or "").strip()
    if assignment.state not in ("confirmed", "attended", "no_show"):
        raise AttendanceError(_l("Hours can only be corrected for a volunteer who had a place."))
    if shift.starts_at > now:
        raise AttendanceError(_l("Hours can be corrected once the shift has started."))
    if minutes is None or minutes == 0 or abs(minutes) > MINUTES_MAX:
        raise AttendanceError(
            _l("Enter a number of minutes between -1440 and 1440, other than 0."), status=400
        )
    if not note:
        raise AttendanceError(_l("Say why the hours are corrected."), status=400)
    if len(note) > NOTE_MAX:
        raise AttendanceError(_l("The reason is too long (500 characters at most)."), status=400)
    current = shift_minutes(assignment.volunteer_id, shift.id)
    longest = int((shift.ends_at - shift.starts_at).total_seconds() // 60)
    if not 0 <= current + minutes <= longest:
        raise AttendanceError(
            _l(
                "The hours for this shift would become %(total)s minutes: they must stay "
                "between 0 and the shift's %(longest)s minutes.",
                total=current + minutes,
                longest=longest,
            ),
            status=400,
        )
    entry = HoursEntry(
        volunteer_id=assignment.volunteer_id,
        shift_id=shift.id,
        minutes=minutes,
        source="correction",
        recorded_by_id=actor.id,
        recorded_at=now,
        note=note,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        actor,
        "hours.correction",
        "assignment",
        assignment.id,
        shift=shift.id,
        minutes=minutes,
        entry=entry.id,
    )
    db.session.commit()
    return entry


def shift_minutes(volunteer_id: int, shift_id: int) -> int:
    """The ledger's sum for one volunteer on one shift."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.volunteer_id == volunteer_id, HoursEntry.shift_id == shift_id
        )
    )
    return int(total or 0)


def total_minutes(volunteer_id: int) -> int:
    """All the minutes the ledger holds for a volunteer."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.volunteer_id == volunteer_id
        )
    )
    return int(total or 0)


def ledger(volunteer_id: int, shift_id: int | None = None) -> list[HoursEntry]:
    """A volunteer's ledger lines, oldest first (optionally for one shift)."""
    query = sa.select(HoursEntry).where(HoursEntry.volunteer_id == volunteer_id)
    if shift_id is not None:
        query = query.where(HoursEntry.shift_id == shift_id)
    return list(db.session.scalars(query.order_by(HoursEntry.recorded_at, HoursEntry.id)))


@dataclass(frozen=True)
class ShiftHours:
    """A volunteer's net minutes on one shift."""

    shift: Shift
    minutes: int


def hours_by_shift(volunteer_id: int) -> list[ShiftHours]:
    """Net minutes per shift, most recent shift first, leaving out shifts that net to zero."""
    rows = db.session.execute(
        sa.select(Shift, sa.func.sum(HoursEntry.minutes))
        .join(HoursEntry, HoursEntry.shift_id == Shift.id)
        .where(HoursEntry.volunteer_id == volunteer_id)
        .group_by(Shift.id)
        .order_by(Shift.starts_at.desc(), Shift.id.desc())
    ).all()
    return [ShiftHours(shift, int(minutes)) for shift, minutes in rows if minutes]


def roster_attendance(shift: Shift) -> dict[int, tuple[AttendanceRecord | None, int]]:
    """For a roster: each assignment's check-in record and ledger minutes."""
    records = {
        r.assignment_id: r
        for r in db.session.scalars(
            sa.select(AttendanceRecord)
            .join(Assignment, Assignment.id == AttendanceRecord.assignment_id)
            .where(Assignment.shift_id == shift.id)
        )
    }
    minutes: dict[int, int] = {
        volunteer_id: int(total)
        for volunteer_id, total in db.session.execute(
            sa.select(HoursEntry.volunteer_id, sa.func.sum(HoursEntry.minutes))
            .where(HoursEntry.shift_id == shift.id)
            .group_by(HoursEntry.volunteer_id)
        )
    }
    return {
        a.id: (records.get(a.id), minutes.get(a.volunteer_id, 0))
        for a in db.session.scalars(sa.select(Assignment).where(Assignment.shift_id == shift.id))
    }


# --- no-shows ---------------------------------------------------------------------------------


def _lookback_start(now: datetime) -> datetime:
    days = int(current_app.config.get("NO_SHOW_LOOKBACK_DAYS", 365))
    return now - timedelta(days=days)


def no_show_rates(user_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, float]:
    """Share of no-shows among attended and missed shifts that started in the look-back period.

    Volunteers with no such shift are left out (read them as 0).
    """
    now = now or utcnow()
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"attended": 0, "no_show": 0})
    rows = db.session.execute(
        sa.select(Assignment.volunteer_id, Assignment.state, sa.func.count())
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.volunteer_id.in_(ids),
            Assignment.state.in_(("attended", "no_show")),
            Shift.starts_at >= _lookback_start(now),
            Shift.starts_at <= now,
        )
        .group_by(Assignment.volunteer_id, Assignment.state)
    )
    for volunteer_id, state, count in rows:
        counts[volunteer_id][state] = int(count)
    return {
        vid: c["no_show"] / (c["attended"] + c["no_show"])
        for vid, c in counts.items()
        if c["attended"] + c["no_show"]
    }


def _in_scope(user: User) -> sa.ColumnElement[bool]:
    scope = user.governorate_ids()
    if scope is None:
        return sa.true()
    return Institution.governorate_id.in_(sorted(scope))


@dataclass(frozen=True)
class NoShowSummary:
    """One volunteer's attended and missed shifts in a coordinator's area."""

    volunteer: User
    attended: int
    no_shows: int
    last_no_show: datetime | None

    @property
    def rate(self) -> float:
        done = self.attended + self.no_shows
        return self.no_shows / done if done else 0.0


def no_show_summaries(viewer: User, *, limit: int = 200) -> list[NoShowSummary]:
    """Volunteers with at least one no-show in the viewer's area, most no-shows first."""
    rows = db.session.execute(
        sa.select(Assignment.volunteer_id, Assignment.state, Shift.starts_at)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Institution, Institution.id == Shift.institution_id)
        .where(Assignment.state.in_(("attended", "no_show")), _in_scope(viewer))
    ).all()
    came: dict[int, int] = defaultdict(int)
    missed: dict[int, int] = defaultdict(int)
    last: dict[int, datetime] = {}
    for volunteer_id, state, starts_at in rows:
        if state == "attended":
            came[volunteer_id] += 1
        else:
            missed[volunteer_id] += 1
            if volunteer_id not in last or starts_at > last[volunteer_id]:
                last[volunteer_id] = starts_at
    ids = sorted(missed, key=lambda vid: (-missed[vid], vid))[:limit]
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    return [NoShowSummary(users[vid], came[vid], missed[vid], last.get(vid)) for vid in ids]


def can_see_volunteer(viewer: User, volunteer: User) -> bool:
    """Coordinators see volunteers of their governorates or with a shift in their area."""
    scope = viewer.governorate_ids()
    if scope is None:
        return True
    profile = volunteer.profile
    if profile is not None and profile.governorate_id in scope:
        return True
    seen = db.session.scalar(
        sa.select(Assignment.id)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Institution, Institution.id == Shift.institution_id)
        .where(Assignment.volunteer_id == volunteer.id, _in_scope(viewer))
        .limit(1)
    )
    return seen is not None


def attendance_history(viewer: User, volunteer: User) -> list[Assignment]:
    """A volunteer's attended and missed shifts in the viewer's area, most recent first."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .join(Shift, Shift.id == Assignment.shift_id)
            .join(Institution, Institution.id == Shift.institution_id)
            .where(
                Assignment.volunteer_id == volunteer.id,
                Assignment.state.in_(("attended", "no_show")),
                _in_scope(viewer),
            )
            .order_by(Shift.starts_at.desc(), Shift.id.desc())
            .limit(500)
        )
    )
