"""The outbox: offers written with publishing, consent, quiet hours, sending through Twilio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.web.sms.conftest import ACCOUNT, FROM, PUBLIC, TOKEN, in_days
from web.extensions import db
from web.models import OutboundMessage
from web.services import messaging


def rows(**where):
    query = sa.select(OutboundMessage).order_by(OutboundMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboundMessage, key) == value)
    return list(db.session.scalars(query))


def noon_cairo(days: int = 1) -> datetime:
    """A moment outside quiet hours in Cairo (12:00 local)."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def test_publishing_a_run_writes_an_arabic_offer_in_the_same_transaction(factory):
    from web.services.runs import execute_run, publish_run, start_run

    institution = factory.institution(name_ar="دار الأمل للأيتام", name_en="Dar Al Amal")
    shift = factory.shift(factory.opportunity(institution), start=in_days(2, 8), needed=1)
    volunteer = factory.volunteer(locale="ar")
    coordinator = factory.user("coordinator", national_scope=True)
    run = start_run(
        coordinator,
        "national",
        [],
        shift.starts_at - timedelta(hours=1),
        shift.starts_at + timedelta(days=1),
        time_limit_s=5,
    )
    execute_run(run)
    result = publish_run(run.id, coordinator)
    assert result.offered == 1
    [offer] = rows(kind="offer")
    assert offer.user_id == volunteer.id
    assert offer.locale == "ar"
    assert "دار الأمل" in offer.body
    assert offer.status == "pending"
    assert offer.encoding in ("GSM-7", "UCS-2")


def test_a_failed_publish_leaves_no_message(factory, monkeypatch):
    from web.services import runs

    shift = factory.shift(start=in_days(2, 8), needed=1)
    factory.volunteer()
    coordinator = factory.user("coordinator", national_scope=True)
    run = runs.start_run(
        coordinator,
        "national",
        [],
        shift.starts_at - timedelta(hours=1),
        shift.starts_at + timedelta(days=1),
        time_limit_s=5,
    )
    runs.execute_run(run)

    def boom(step):
        if step == "before_commit":
            raise RuntimeError("crash before commit")

    monkeypatch.setattr(runs, "_crash_point", boom)
    try:
        runs.publish_run(run.id, coordinator)
    except RuntimeError:
        db.session.rollback()
    assert rows() == []


def test_same_key_twice_gives_one_row(factory, offered):
    volunteer = factory.volunteer()
    assignment = offered(volunteer, factory.shift(start=in_days(3)))
    first = messaging.queue_offer(assignment)
    db.session.commit()
    second = messaging.queue_offer(assignment)
    db.session.commit()
    assert first.id == second.id
    assert len(rows()) == 1


def test_no_consent_and_opted_out_numbers_get_nothing(factory, offered, twilio):
    shift = factory.shift(start=in_days(3), needed=3)
    never = factory.volunteer()
    never.profile.sms_consent = False
    stopped = factory.volunteer()
    stopped.profile.sms_opted_out_at = datetime.now(UTC)
    unverified = factory.volunteer(phone_verified=False)
    db.session.commit()
    for volunteer in (never, stopped, unverified):
        messaging.queue_offer(offered(volunteer, shift))
    db.session.commit()
    assert [r.status for r in rows()] == ["skipped", "skipped", "skipped"]
    assert [r.error_message for r in rows()] == ["no consent", "opted out", "phone not verified"]
    messaging.send_due(now=noon_cairo())
    assert twilio.creates == []


def test_consent_withdrawn_after_queueing_is_checked_again_before_sending(factory, offered, twilio):
    volunteer = factory.volunteer()
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    volunteer.profile.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    messaging.send_due(now=noon_cairo())
    assert twilio.creates == []
    assert rows()[0].status == "skipped"


def test_twilio_gets_the_exact_request(factory, offered, twilio):
    volunteer = factory.volunteer(phone="+201001234567", locale="en")
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    [message] = rows()
    assert messaging.send_due(now=noon_cairo()) == {"queued": 1}
    [request] = twilio.creates
    assert request.url == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.auth == (ACCOUNT, TOKEN)
    assert request.data == {
        "To": "+201001234567",
        "From": FROM,
        "Body": message.body,
        "StatusCallback": f"{PUBLIC}/sms/status?m={message.id}",
    }
    db.session.refresh(message)
    assert message.status == "queued"
    assert message.provider_sid == "SM" + "0" * 31 + "1"
    assert message.attempts == 1
    assert [h["status"] for h in message.status_history] == ["pending", "submitting", "queued"]


def test_a_messaging_service_replaces_the_sender(factory, offered, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", "MG" + "2" * 32)
    volunteer = factory.volunteer()
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    messaging.send_due(now=noon_cairo())
    [request] = twilio.creates
    assert request.data["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in request.data


def test_sending_twice_sends_once(factory, offered, twilio):
    volunteer = factory.volunteer()
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    messaging.send_due(now=noon_cairo())
    messaging.send_due(now=noon_cairo())
    assert messaging.send_one(rows()[0].id, now=noon_cairo()) == "gone"
    assert len(twilio.creates) == 1


def test_an_offer_answered_before_sending_is_not_sent(factory, offered, twilio):
    from web.services.offers import accept

    volunteer = factory.volunteer()
    assignment = offered(volunteer, factory.shift(start=in_days(3)))
    messaging.queue_offer(assignment)
    db.session.commit()
    accept(assignment, volunteer, channel="web")
    messaging.send_due(now=noon_cairo())
    offer, confirmation = rows()[:2]
    assert offer.error_message == "offer no longer open"
    # Only the confirmation of the web answer goes out, never the stale offer.
    assert [c.data["Body"] for c in twilio.creates] == [confirmation.body]


def test_console_backend_is_the_default(factory, offered, app, caplog):
    assert app.config["SMS_BACKEND"] == "console"
    volunteer = factory.volunteer()
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    with caplog.at_level("INFO"):
        assert messaging.send_due(now=noon_cairo()) == {"sent": 1}
    assert rows()[0].provider_sid.startswith("CONSOLE")
    assert volunteer.phone in caplog.text


# --- quiet hours ---------------------------------------------------------------------------------


def cairo(day: datetime, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    local = day.astimezone(ZoneInfo("Africa/Cairo")).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    return local.astimezone(UTC)


def test_quiet_hours_hold_an_offer_until_eight_in_the_volunteers_zone(factory, offered, twilio):
    volunteer = factory.volunteer()
    base = datetime.now(UTC) + timedelta(days=1)
    shift = factory.shift(start=cairo(base + timedelta(days=3), 10))
    assignment = offered(volunteer, shift)
    late = cairo(base, 23, 30)
    messaging.queue_offer(assignment)
    db.session.commit()
    assert messaging.send_due(now=late) == {"deferred": 1}
    assert twilio.creates == []
    [message] = rows()
    assert message.next_attempt_at == cairo(base + timedelta(days=1), 8)
    assert messaging.send_due(now=cairo(base + timedelta(days=1), 7, 59)) == {}
    assert messaging.send_due(now=cairo(base + timedelta(days=1), 8, 0)) == {"queued": 1}


def test_quiet_hours_follow_the_volunteers_own_zone(factory, offered, twilio):
    volunteer = factory.volunteer()
    volunteer.profile.timezone = "Asia/Riyadh"  # one hour ahead of Cairo in winter
    db.session.commit()
    base = datetime.now(UTC) + timedelta(days=1)
    assignment = offered(volunteer, factory.shift(start=cairo(base + timedelta(days=3), 10)))
    messaging.queue_offer(assignment)
    db.session.commit()
    from zoneinfo import ZoneInfo

    riyadh_2230 = (
        base.astimezone(ZoneInfo("Asia/Riyadh"))
        .replace(hour=22, minute=30, second=0, microsecond=0)
        .astimezone(UTC)
    )
    assert messaging.send_due(now=riyadh_2230) == {"deferred": 1}


def test_a_same_day_change_breaks_quiet_hours(factory, offered, twilio):
    volunteer = factory.volunteer()
    base = datetime.now(UTC) + timedelta(days=1)
    early_shift = factory.shift(start=cairo(base, 9))
    assignment = offered(volunteer, early_shift)
    messaging.queue_offer(assignment, replacement=True)
    db.session.commit()
    assert messaging.send_due(now=cairo(base, 6, 30)) == {"queued": 1}


def test_a_reminder_that_would_arrive_after_the_start_is_dropped(factory, offered, twilio):
    from web.services.offers import accept

    volunteer = factory.volunteer()
    base = datetime.now(UTC) + timedelta(days=2)
    assignment = offered(volunteer, factory.shift(start=cairo(base, 7)))
    accept(assignment, volunteer)
    messaging.ensure_reminders(assignment, now=cairo(base - timedelta(days=2), 12))
    db.session.commit()
    two_hours = [r for r in rows(kind="reminder") if "2h" in r.idempotency_key]
    assert two_hours and two_hours[0].due_at == cairo(base, 5)
    outcome = messaging.send_one(two_hours[0].id, now=cairo(base, 5))
    assert outcome == "skipped"
    assert twilio.creates == []


# --- reminders and digest ------------------------------------------------------------------------


def test_reminders_are_queued_once_for_confirmed_assignments(factory, offered, app, monkeypatch):
    from web.services.offers import accept

    monkeypatch.setitem(app.config, "SMS_REMINDER_HOURS", "24, 2")
    volunteer = factory.volunteer()
    shift = factory.shift(start=in_days(1, 12))
    assignment = offered(volunteer, shift)
    accept(assignment, volunteer)
    now = shift.starts_at - timedelta(hours=20)
    assert messaging.queue_due_reminders(now) == 1  # the 24 h one is already past
    assert messaging.queue_due_reminders(now) == 0
    [reminder] = rows(kind="reminder")
    assert reminder.due_at == shift.starts_at - timedelta(hours=2)
    assert "2" in reminder.body


def test_weekly_digest_counts_unfilled_places_once_a_week(factory):
    institution = factory.institution()
    manager = factory.user("manager", managed_institutions=[institution], locale="en")
    factory.shift(factory.opportunity(institution), start=in_days(2), needed=3)
    factory.shift(factory.opportunity(institution), start=in_days(3), needed=2)
    factory.shift(factory.opportunity(institution), start=in_days(20), needed=2)
    now = datetime.now(UTC)
    assert messaging.queue_weekly_digests(now, base_url="https://x.example") == 1
    assert messaging.queue_weekly_digests(now, base_url="https://x.example") == 0
    [digest] = rows(kind="digest")
    assert digest.user_id == manager.id
    assert "5 unfilled places in 2 shift" in digest.body
    assert "https://x.example/manage" in digest.body


def test_worker_schedules_the_sms_jobs(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from web.worker import build_scheduler

    scheduler = build_scheduler(app, BackgroundScheduler())
    ids = {job.id for job in scheduler.get_jobs()}
    assert {"sms-send", "sms-reconcile", "sms-reminders", "sms-digest"} <= ids


def test_jobs_run_in_their_own_app_context(factory, offered, app):
    from web.jobs_sms import queue_reminders, send_due_messages, weekly_digest

    volunteer = factory.volunteer()
    messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(3))))
    db.session.commit()
    counts = send_due_messages(app)
    assert sum(counts.values()) == 1
    assert queue_reminders(app) == 0
    assert weekly_digest(app) == 0


def test_cancelling_a_shift_tells_everyone_on_it_in_the_same_transaction(factory, offered):
    from web.services.offers import accept
    from web.services.shifts import cancel_shift

    institution = factory.institution()
    manager = factory.user("manager", managed_institutions=[institution])
    shift = factory.shift(factory.opportunity(institution), start=in_days(3), needed=2)
    confirmed, pending = factory.volunteer(locale="en"), factory.volunteer(locale="ar")
    accept(offered(confirmed, shift), confirmed)
    offered(pending, shift)
    cancel_shift(manager, shift, "flooded")
    notices = rows(kind="cancellation")
    assert sorted(n.user_id for n in notices) == sorted([confirmed.id, pending.id])
    english = next(n for n in notices if n.user_id == confirmed.id)
    assert english.body.startswith("Cancelled: the shift at")
    assert all(n.status == "pending" for n in notices)


def test_an_offer_a_new_run_takes_back_is_withdrawn_by_message(factory, offered):
    from web.services.runs import execute_run, publish_run, start_run

    shift = factory.shift(start=in_days(3), needed=1)
    first = factory.volunteer()
    assignment = offered(first, shift)
    messaging.queue_offer(assignment)
    db.session.commit()
    # A woman-only rule now keeps the first volunteer out; a new run offers the place again.
    first.profile.gender = "male"
    shift.gender = "female"
    db.session.commit()
    factory.volunteer()
    coordinator = factory.user("coordinator", national_scope=True)
    run = start_run(
        coordinator,
        "national",
        [],
        shift.starts_at - timedelta(hours=1),
        shift.starts_at + timedelta(hours=4),
        time_limit_s=5,
    )
    execute_run(run)
    result = publish_run(run.id, coordinator)
    assert result.cancelled == 1
    [withdrawal] = rows(kind="withdrawal")
    assert withdrawal.user_id == first.id
    assert len(rows(kind="offer")) == 2


def test_a_sent_verification_code_is_not_kept_in_clear(factory):
    volunteer = factory.volunteer(phone_verified=False)
    messaging.send_verification_code(volunteer)
    [message] = rows(kind="verification")
    assert any(ch.isdigit() for ch in message.body)
    messaging.send_due()
    db.session.refresh(message)
    assert message.status == "sent"
    assert "******" in message.body


def test_moving_a_shift_tells_the_volunteers_holding_places(factory, offered):
    from zoneinfo import ZoneInfo

    from web.services.shifts import ShiftDetails, update_shift

    institution = factory.institution(name_en="Dar Al Amal")
    manager = factory.user("manager", managed_institutions=[institution])
    shift = factory.shift(factory.opportunity(institution), start=in_days(4, 8), needed=2)
    volunteer = factory.volunteer(locale="en")
    offered(volunteer, shift)
    local = shift.starts_at.astimezone(ZoneInfo("Africa/Cairo"))
    details = ShiftDetails(needed=2)
    # Same times: no notice.
    update_shift(
        manager, shift, local.date(), local.time(), (local + timedelta(hours=3)).time(), details
    )
    assert rows(kind="change") == []
    later = local + timedelta(hours=2)
    update_shift(
        manager, shift, later.date(), later.time(), (later + timedelta(hours=3)).time(), details
    )
    [notice] = rows(kind="change")
    assert notice.user_id == volunteer.id
    assert notice.body.startswith("Time changed: Dar Al Amal is now")
    assert later.strftime("%H:%M") in notice.body
