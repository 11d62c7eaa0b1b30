"""Each class of sending error, retries with backoff, and a crash between send and record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from tests.web.sms.conftest import in_days, twilio_error
from web.extensions import db
from web.models import MessagingContact, OutboundMessage
from web.services import messaging

NOW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def queued(factory, offered):
    """One pending offer to a fresh volunteer; returns the message."""
    volunteer = factory.volunteer()
    message = messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    return message


def queue_one(factory, offered):
    volunteer = factory.volunteer()
    message = messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    return message


def test_permanent_errors_mark_the_number_and_stop(twilio, factory, offered):
    for code in (21211, 21614, 21610):
        queued = queue_one(factory, offered)
        before = len(twilio.creates)
        twilio.script.append(twilio_error(400, code))
        assert messaging.send_due(now=NOW) == {"failed": 1}, code
        db.session.refresh(queued)
        assert queued.error_code == str(code)
        contact = db.session.get(MessagingContact, queued.user_id)
        assert contact.bad_number == queued.to_number
        assert contact.bad_number_code == str(code)
        assert (queued.user.profile.sms_opted_out_at is not None) == (code == 21610)
        # Nothing more goes to that number: the next message is skipped without a request.
        another = messaging.queue_offer(offered(queued.user, factory.shift(start=in_days(5))))
        db.session.commit()
        assert another.status == "skipped"
        messaging.send_due(now=NOW + timedelta(hours=1))
        assert len(twilio.creates) == before + 1


TRANSIENT = [
    twilio_error(429, 20429, "Too Many Requests"),
    twilio_error(400, 30001, "Queue overflow"),
    twilio_error(500, 20500, "Internal Server Error"),
    twilio_error(503, 20503, "Service Unavailable"),
    requests.ConnectTimeout("connect timeout"),
    requests.ConnectionError("connection refused"),
]


def test_transient_errors_retry_with_backoff(twilio, factory, offered):
    for failure in TRANSIENT:
        queued = queue_one(factory, offered)
        before = len(twilio.creates)
        twilio.script.append(failure)
        assert messaging.send_due(now=NOW) == {"pending": 1}, failure
        db.session.refresh(queued)
        assert queued.attempts == 1
        assert queued.next_attempt_at == NOW + timedelta(seconds=30)
        assert messaging.send_due(now=NOW + timedelta(seconds=29)) == {}
        assert messaging.send_due(now=NOW + timedelta(seconds=30)) == {"queued": 1}
        db.session.refresh(queued)
        assert queued.attempts == 2
        assert queued.provider_sid is not None
        assert len(twilio.creates) == before + 2


def test_transient_errors_give_up_after_the_limit(queued, twilio, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 3)
    twilio.script.extend(twilio_error(429, 20429) for _ in range(5))
    moment = NOW
    outcomes = []
    for _ in range(4):
        outcomes.append(messaging.send_due(now=moment))
        moment += timedelta(hours=2)
    assert outcomes == [{"pending": 1}, {"pending": 1}, {"failed": 1}, {}]
    db.session.refresh(queued)
    assert queued.status == "failed"
    assert queued.attempts == 3
    assert len(twilio.creates) == 3
    assert messaging.backoff(1) < messaging.backoff(2) < messaging.backoff(3)
    assert messaging.backoff(50) == timedelta(hours=1)


def test_a_refused_message_fails_without_retry(queued, twilio):
    twilio.script.append(twilio_error(400, 21602, "Message body is required"))
    assert messaging.send_due(now=NOW) == {"failed": 1}
    assert messaging.send_due(now=NOW + timedelta(hours=3)) == {}
    assert db.session.get(MessagingContact, queued.user_id) is None


class Crash(BaseException):
    """The worker process dying right after Twilio took the message."""


def test_a_crash_between_send_and_record_sends_nothing_twice(queued, twilio):
    original = twilio.request

    def send_then_die(*args, **kwargs):
        original(*args, **kwargs)
        raise Crash()

    twilio.request = send_then_die
    with pytest.raises(Crash):
        messaging.send_due(now=NOW)
    db.session.rollback()
    db.session.expire_all()
    twilio.request = original
    message = db.session.get(OutboundMessage, queued.id)
    assert message.status == "submitting"  # committed before Twilio was called
    assert message.provider_sid is None
    # The worker comes back: the row is not due, so nothing is sent again.
    for minutes in (0, 1, 10, 60):
        messaging.send_due(now=NOW + timedelta(minutes=minutes))
    assert len(twilio.creates) == 1
    # Reconciling finds the message at Twilio by number and text, and records it.
    twilio.listed = [
        {
            "sid": "SM" + "9" * 32,
            "status": "delivered",
            "to": message.to_number,
            "body": message.body,
        }
    ]
    assert messaging.reconcile_submitting(now=NOW + timedelta(minutes=5)) == {
        "found": 1,
        "unconfirmed": 0,
    }
    db.session.refresh(message)
    assert (message.status, message.provider_sid) == ("delivered", "SM" + "9" * 32)
    assert len(twilio.creates) == 1


def test_a_lost_send_not_found_at_twilio_is_surfaced_never_resent(queued, twilio):
    twilio.script.append(requests.ReadTimeout("read timed out"))
    assert messaging.send_due(now=NOW) == {"uncertain": 1}
    db.session.refresh(queued)
    assert queued.status == "submitting"
    assert messaging.reconcile_submitting(now=NOW + timedelta(minutes=1)) == {
        "found": 0,
        "unconfirmed": 0,
    }  # too early to tell
    assert messaging.reconcile_submitting(now=NOW + timedelta(minutes=5)) == {
        "found": 0,
        "unconfirmed": 1,
    }
    messaging.send_due(now=NOW + timedelta(hours=1))
    assert len(twilio.creates) == 1
    db.session.refresh(queued)
    assert queued.status == "unconfirmed"
    # An admin may send it again by hand.
    admin = db.session.scalar(sa.select(OutboundMessage.user_id))
    messaging.resend(queued, None)
    assert admin is not None
    assert messaging.send_due(now=NOW + timedelta(hours=2)) == {"queued": 1}
    assert len(twilio.creates) == 2


def test_a_status_callback_reconciles_a_row_left_submitting(queued, twilio, client, signed):
    twilio.script.append(requests.ReadTimeout("read timed out"))
    messaging.send_due(now=NOW)
    params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "sent", "To": queued.to_number}
    response = signed(client, f"/sms/status?m={queued.id}", params)
    assert response.status_code == 204
    db.session.refresh(queued)
    assert (queued.status, queued.provider_sid) == ("sent", "SM" + "7" * 32)


def test_reconciling_ignores_an_older_message_with_the_same_text(queued, twilio):
    twilio.script.append(requests.ReadTimeout("read timed out"))
    messaging.send_due(now=NOW)
    db.session.refresh(queued)
    twilio.listed = [
        {
            "sid": "SM" + "8" * 32,
            "status": "delivered",
            "to": queued.to_number,
            "body": queued.body,
            "date_created": "Mon, 01 Jan 2024 10:00:00 +0000",
        }
    ]
    outcome = messaging.reconcile_submitting(now=NOW + timedelta(minutes=5))
    assert outcome == {"found": 0, "unconfirmed": 1}
    [listing] = [r for r in twilio.requests if r.method == "GET"]
    assert listing.params["To"] == queued.to_number


def test_a_misconfigured_backend_claims_nothing(queued, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "twilio")
    monkeypatch.setitem(app.config, "TWILIO_ACCOUNT_SID", None)
    with pytest.raises(RuntimeError, match="TWILIO_ACCOUNT_SID"):
        messaging.send_due(now=NOW)
    db.session.rollback()
    db.session.refresh(queued)
    assert (queued.status, queued.attempts) == ("pending", 0)
