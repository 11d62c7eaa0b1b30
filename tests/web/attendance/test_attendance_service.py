"""Check-in and check-out by the manager and by QR code, no-shows and the hours ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.web.attendance.conftest import count, seat
from web.extensions import db
from web.models import AttendanceRecord, AuditEvent, HoursEntry, ImmutableRowError
from web.services import attendance
from web.services.attendance import AttendanceError

pytestmark = pytest.mark.usefixtures("english")


def audit_count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


# --- the manager --------------------------------------------------------------------------------


def test_manager_checks_in_once_and_out_with_minutes_in_the_ledger(home):
    shift = home.now_shift
    a = seat(shift, home.volunteers[0])
    arrive = shift.starts_at + timedelta(minutes=10)
    attendance.check_in(home.manager, a, now=arrive)
    assert a.state == "attended"
    with pytest.raises(AttendanceError, match="already checked in"):
        attendance.check_in(home.manager, a, now=arrive + timedelta(minutes=1))
    assert count(AttendanceRecord) == 1
    assert audit_count("attendance.check_in") == 1
    entry = attendance.check_out(home.manager, a, now=shift.starts_at + timedelta(minutes=100))
    assert (entry.minutes, entry.source, entry.recorded_by_id) == (90, "manager", home.manager.id)
    with pytest.raises(AttendanceError, match="already checked out"):
        attendance.check_out(home.manager, a, now=shift.starts_at + timedelta(minutes=120))
    assert count(HoursEntry) == 1
    assert attendance.total_minutes(home.volunteers[0].id) == 90


def test_time_outside_the_shift_is_not_credited(home):
    shift = home.now_shift
    a = seat(shift, home.volunteers[0])
    attendance.check_in(home.manager, a, now=shift.starts_at - timedelta(minutes=45))
    entry = attendance.check_out(home.manager, a, now=shift.ends_at + timedelta(minutes=90))
    assert entry.minutes == 180  # the shift's three hours, not four and a quarter


def test_check_in_outside_the_window_writes_nothing(home):
    a = seat(home.future_shift, home.volunteers[0])
    with pytest.raises(AttendanceError, match="can be recorded from"):
        attendance.check_in(home.manager, a)
    db.session.expire_all()
    assert a.state == "confirmed"
    assert count(AttendanceRecord) == 0
    assert audit_count("attendance.check_in") == 0


def test_check_out_without_check_in_is_refused(home):
    a = seat(home.now_shift, home.volunteers[0])
    with pytest.raises(AttendanceError, match="not checked in"):
        attendance.check_out(home.manager, a)
    assert count(HoursEntry) == 0


def test_only_confirmed_volunteers_check_in(home):
    a = seat(home.now_shift, home.volunteers[0], state="waitlisted")
    with pytest.raises(AttendanceError, match="confirmed place"):
        attendance.check_in(home.manager, a)
    assert count(AttendanceRecord) == 0


def test_other_managers_cannot_record_attendance(home, factory):
    stranger = factory.user("manager", managed_institutions=[factory.institution()])
    a = seat(home.now_shift, home.volunteers[0])
    with pytest.raises(AttendanceError) as err:
        attendance.check_in(stranger, a)
    assert err.value.status == 403
    assert count(AttendanceRecord) == 0


def test_whole_shift_after_it_ended(home):
    a = seat(home.past_shift, home.volunteers[0])
    entry = attendance.record_whole_shift(home.manager, a)
    assert entry.minutes == 180
    record = db.session.get(AttendanceRecord, a.id)
    assert (record.checked_in_at, record.checked_out_at) == (
        home.past_shift.starts_at,
        home.past_shift.ends_at,
    )
    with pytest.raises(AttendanceError):
        attendance.record_whole_shift(home.manager, a)
    assert count(HoursEntry) == 1


def test_whole_shift_is_refused_before_the_end(home):
    a = seat(home.now_shift, home.volunteers[0])
    with pytest.raises(AttendanceError, match="not ended"):
        attendance.record_whole_shift(home.manager, a)
    assert count(AttendanceRecord) == 0


def test_a_checked_in_volunteer_cannot_be_marked_absent(home):
    a = seat(home.now_shift, home.volunteers[0])
    attendance.check_in(home.manager, a)
    with pytest.raises(AttendanceError, match="already checked in"):
        attendance.mark_absent(home.manager, a)
    assert a.state == "attended"


def test_no_show_after_the_shift_frees_nothing_twice_and_queues_no_replacement(home):
    from web.models import MatchingRun

    a = seat(home.past_shift, home.volunteers[0])
    attendance.mark_absent(home.manager, a)
    assert a.state == "no_show"
    assert count(MatchingRun) == 0
    with pytest.raises(AttendanceError, match="confirmed place"):
        attendance.check_in(home.manager, a, now=home.past_shift.starts_at)


# --- the QR code -------------------------------------------------------------------------------


def test_qr_scan_checks_in_then_out(home):
    shift = home.now_shift
    volunteer = home.volunteers[0]
    a = seat(shift, volunteer)
    token = attendance.qr_token(shift)
    state = attendance.read_scan(volunteer, shift.id, token)
    assert state.action == "check_in" and state.problem is None
    assert count(AttendanceRecord) == 0  # looking writes nothing
    action, entry = attendance.scan(volunteer, shift.id, token, now=shift.starts_at)
    assert (action, entry, a.state) == ("check_in", None, "attended")
    action, entry = attendance.scan(
        volunteer, shift.id, token, now=shift.starts_at + timedelta(minutes=75)
    )
    assert action == "check_out"
    assert (entry.minutes, entry.source, entry.recorded_by_id) == (75, "qr", volunteer.id)
    with pytest.raises(AttendanceError, match="already checked out"):
        attendance.scan(volunteer, shift.id, token, now=shift.starts_at + timedelta(minutes=80))
    assert count(HoursEntry) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "eyJzaGlmdCI6MX0.forged-signature",
        lambda token: "",
        lambda token: "not a token at all",
    ],
)
def test_a_forged_code_is_refused_and_writes_nothing(home, tamper):
    shift = home.now_shift
    volunteer = home.volunteers[0]
    seat(shift, volunteer)
    token = tamper(attendance.qr_token(shift))
    assert attendance.read_scan(volunteer, shift.id, token).action is None
    with pytest.raises(AttendanceError, match="not valid"):
        attendance.scan(volunteer, shift.id, token)
    assert count(AttendanceRecord) == 0


def test_a_code_signed_with_another_key_is_refused(home, app):
    from itsdangerous import URLSafeSerializer

    shift = home.now_shift
    seat(shift, home.volunteers[0])
    forged = URLSafeSerializer("someone else's key", salt=attendance.QR_SALT).dumps(
        {"shift": shift.id}
    )
    with pytest.raises(AttendanceError, match="not valid"):
        attendance.scan(home.volunteers[0], shift.id, forged)
    assert count(AttendanceRecord) == 0


def test_the_code_of_another_shift_is_refused(home, factory):
    volunteer = home.volunteers[0]
    seat(home.now_shift, volunteer)
    other = factory.shift(home.opportunity, start=home.now_shift.starts_at, hours=1)
    with pytest.raises(AttendanceError, match="not valid"):
        attendance.scan(volunteer, home.now_shift.id, attendance.qr_token(other))
    assert count(AttendanceRecord) == 0


def test_an_expired_or_early_code_is_refused(home):
    volunteer = home.volunteers[0]
    shift = home.now_shift
    seat(shift, volunteer)
    token = attendance.qr_token(shift)
    late = shift.ends_at + timedelta(hours=3)
    early = shift.starts_at - timedelta(hours=2)
    for moment in (late, early):
        state = attendance.read_scan(volunteer, shift.id, token, now=moment)
        assert state.action is None and "can be recorded from" in str(state.problem)
        with pytest.raises(AttendanceError, match="can be recorded from"):
            attendance.scan(volunteer, shift.id, token, now=moment)
    assert count(AttendanceRecord) == 0


def test_someone_without_a_place_cannot_check_in(home):
    shift = home.now_shift
    token = attendance.qr_token(shift)
    seat(shift, home.volunteers[1], state="waitlisted")
    for volunteer in home.volunteers[:2]:  # no assignment at all; on the waiting list
        with pytest.raises(AttendanceError, match="do not have a place"):
            attendance.scan(volunteer, shift.id, token)
    assert count(AttendanceRecord) == 0


def test_the_code_of_a_cancelled_shift_records_nothing(home):
    shift = home.now_shift
    seat(shift, home.volunteers[0])
    shift.status = "cancelled"
    db.session.commit()
    with pytest.raises(AttendanceError, match="cancelled"):
        attendance.scan(home.volunteers[0], shift.id, attendance.qr_token(shift))
    assert count(AttendanceRecord) == 0


# --- corrections and sums ----------------------------------------------------------------------


def test_corrections_are_new_lines_and_sums_follow(home):
    volunteer = home.volunteers[0]
    past = seat(home.past_shift, volunteer)
    attendance.record_whole_shift(home.manager, past)
    now_a = seat(home.now_shift, volunteer)
    attendance.check_in(home.manager, now_a, now=home.now_shift.starts_at)
    attendance.check_out(home.manager, now_a, now=home.now_shift.starts_at + timedelta(hours=1))
    attendance.add_correction(home.manager, past, -30, "Left early, told the manager")
    attendance.add_correction(home.manager, now_a, 15, "Forgot to check out at once")
    assert attendance.shift_minutes(volunteer.id, home.past_shift.id) == 150
    assert attendance.shift_minutes(volunteer.id, home.now_shift.id) == 75
    assert attendance.total_minutes(volunteer.id) == 225
    assert [e.minutes for e in attendance.ledger(volunteer.id)] == [180, 60, -30, 15]
    assert [h.minutes for h in attendance.hours_by_shift(volunteer.id)] == [75, 150]
    assert attendance.total_minutes(home.volunteers[1].id) == 0


@pytest.mark.parametrize(
    ("minutes", "note", "message"),
    [
        (0, "why", "other than 0"),
        (None, "why", "other than 0"),
        (2000, "why", "other than 0"),
        (30, "   ", "Say why"),
        (30, "x" * 501, "too long"),
        (-200, "too much", "must stay between 0"),
        (10, "beyond the shift", "must stay between 0"),
    ],
)
def test_bad_corrections_write_nothing(home, minutes, note, message):
    a = seat(home.past_shift, home.volunteers[0])
    attendance.record_whole_shift(home.manager, a)
    with pytest.raises(AttendanceError, match=message):
        attendance.add_correction(home.manager, a, minutes, note)
    db.session.rollback()
    assert count(HoursEntry) == 1
    assert audit_count("hours.correction") == 0


def test_corrections_of_a_future_shift_or_by_strangers_are_refused(home, factory):
    future = seat(home.future_shift, home.volunteers[0])
    with pytest.raises(AttendanceError, match="once the shift has started"):
        attendance.add_correction(home.manager, future, 30, "early")
    past = seat(home.past_shift, home.volunteers[1])
    stranger = factory.user("manager")
    with pytest.raises(AttendanceError) as err:
        attendance.add_correction(stranger, past, 30, "not mine")
    assert err.value.status == 403
    assert count(HoursEntry) == 0


def test_ledger_lines_are_never_changed_or_deleted(home):
    a = seat(home.past_shift, home.volunteers[0])
    entry = attendance.record_whole_shift(home.manager, a)
    entry.minutes = 999
    with pytest.raises(ImmutableRowError):
        db.session.flush()
    db.session.rollback()
    entry = db.session.scalars(sa.select(HoursEntry)).one()
    db.session.delete(entry)
    with pytest.raises(ImmutableRowError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(sa.select(HoursEntry.minutes)).all() == [180]


# --- no-shows ----------------------------------------------------------------------------------


def test_no_show_rates_and_the_coordinators_list(home, factory):
    v0, v1, v2 = home.volunteers
    older = factory.shift(home.opportunity, start=home.past_shift.starts_at - timedelta(days=7))
    attendance.record_whole_shift(home.manager, seat(home.past_shift, v0))
    attendance.mark_absent(home.manager, seat(older, v0))
    attendance.mark_absent(home.manager, seat(home.past_shift, v1))
    attendance.record_whole_shift(home.manager, seat(older, v2))
    rates = attendance.no_show_rates([v0.id, v1.id, v2.id, 999])
    assert rates == {v0.id: 0.5, v1.id: 1.0, v2.id: 0.0}
    rows = attendance.no_show_summaries(home.coordinator)
    assert [(r.volunteer.id, r.no_shows, r.attended) for r in rows] == [
        (v0.id, 1, 1),
        (v1.id, 1, 0),
    ]
    assert rows[1].rate == 1.0
    assert rows[0].last_no_show == older.starts_at
    giza = factory.user("coordinator", governorates=[factory.governorate("EG-GZ")])
    assert attendance.no_show_summaries(giza) == []
    assert attendance.attendance_history(giza, v0) == []
    assert len(attendance.attendance_history(home.coordinator, v0)) == 2


def test_future_no_shows_do_not_count_in_the_rate(home):
    v0 = home.volunteers[0]
    attendance.mark_absent(home.manager, seat(home.future_shift, v0))
    assert attendance.no_show_rates([v0.id]) == {}


def test_after_the_end_a_check_in_is_refused_but_a_check_out_is_taken(home):
    shift = home.now_shift
    late = shift.ends_at + timedelta(minutes=30)  # still inside the window
    early_bird, latecomer = (seat(shift, v) for v in home.volunteers[:2])
    attendance.check_in(home.manager, early_bird, now=shift.starts_at)
    with pytest.raises(AttendanceError, match="whole shift"):
        attendance.check_in(home.manager, latecomer, now=late)
    token = attendance.qr_token(shift)
    with pytest.raises(AttendanceError, match="ask the institution"):
        attendance.scan(home.volunteers[1], shift.id, token, now=late)
    action, entry = attendance.scan(home.volunteers[0], shift.id, token, now=late)
    assert (action, entry.minutes) == ("check_out", 180)
    assert count(AttendanceRecord) == 1
