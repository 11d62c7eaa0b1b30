"""Inbound replies and status callbacks: signatures, each reply word, idempotency, TwiML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.web.sms.conftest import TOKEN, in_days
from web.extensions import db
from web.models import Assignment, InboundMessage, MessagingContact, OutboundMessage
from web.services import messaging
from web.services.sms_replies import help_text

_sid = iter(range(1, 10**6))


def inbound(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or f"SM{next(_sid):032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }


def state(assignment) -> str:
    db.session.expire_all()
    return db.session.get(Assignment, assignment.id).state


@pytest.fixture
def one_offer(factory, offered):
    volunteer = factory.volunteer(locale="ar")
    institution = factory.institution(name_ar="دار السلام", name_en="Dar Al Salam")
    shift = factory.shift(factory.opportunity(institution), start=in_days(3, 9))
    return volunteer, offered(volunteer, shift)


# --- signatures --------------------------------------------------------------------------------


def test_a_correctly_signed_yes_confirms_and_schedules_a_reminder(client, signed, one_offer):
    volunteer, assignment = one_offer
    response = signed(client, "/sms/inbound", inbound(volunteer.phone, "نعم"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "دار السلام" in response.get_data(as_text=True)
    assert state(assignment) == "confirmed"
    reminders = db.session.scalars(
        sa.select(OutboundMessage).where(OutboundMessage.kind == "reminder")
    ).all()
    assert len(reminders) == 2
    assert all(r.status == "pending" and r.assignment_id == assignment.id for r in reminders)
    [row] = db.session.scalars(sa.select(InboundMessage)).all()
    assert (row.intent, row.outcome, row.user_id) == ("accept", "accepted", volunteer.id)


@pytest.mark.parametrize("endpoint", ["/sms/inbound", "/sms/status"])
def test_bad_or_missing_signatures_get_403_and_change_nothing(client, signed, one_offer, endpoint):
    volunteer, _assignment = one_offer
    params = inbound(volunteer.phone, "نعم")
    assert signed(client, endpoint, params, token="not-the-token").status_code == 403
    assert client.post(endpoint, data=params).status_code == 403
    tampered = signed(client, endpoint, {**params, "Body": "yes"})
    assert tampered.status_code == 200 if endpoint == "/sms/inbound" else 204
    forged = client.post(
        endpoint,
        data={**params, "Body": "no"},
        headers={"X-Twilio-Signature": tampered.request.headers["X-Twilio-Signature"]},
    )
    assert forged.status_code == 403


def test_signature_fails_closed_without_a_token(client, signed, one_offer, app, monkeypatch):
    volunteer, assignment = one_offer
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", None)
    assert signed(client, "/sms/inbound", inbound(volunteer.phone, "yes")).status_code == 403
    assert state(assignment) == "offered"


def test_signature_uses_the_public_url_behind_a_proxy(other_app, one_offer):
    from twilio.request_validator import RequestValidator

    volunteer, assignment = one_offer
    proxied = other_app(TRUSTED_PROXIES=1, TWILIO_AUTH_TOKEN=TOKEN)
    client = proxied.test_client()
    params = inbound(volunteer.phone, "yes")
    public_url = "https://volunteers.example.org/sms/inbound"
    signature = RequestValidator(TOKEN).compute_signature(public_url, params)
    headers = {
        "X-Twilio-Signature": signature,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "volunteers.example.org",
    }
    with proxied.app_context():
        assert client.post("/sms/inbound", data=params, headers=headers).status_code == 200
    assert state(assignment) == "confirmed"
    # Without the proxy headers the same signature does not match http://localhost/...
    params = inbound(volunteer.phone, "yes")
    signature = RequestValidator(TOKEN).compute_signature(public_url, params)
    with proxied.app_context():
        response = client.post(
            "/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
    assert response.status_code == 403


def test_webhooks_need_no_csrf_token(other_app, one_offer):
    from twilio.request_validator import RequestValidator

    volunteer, assignment = one_offer
    strict = other_app(WTF_CSRF_ENABLED=True, TWILIO_AUTH_TOKEN=TOKEN)
    params = inbound(volunteer.phone, "yes")
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/sms/inbound", params)
    with strict.app_context():
        response = strict.test_client().post(
            "/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
    assert response.status_code == 200
    assert state(assignment) == "confirmed"


# --- each reply ---------------------------------------------------------------------------------


ACCEPT_WORDS = ["نعم", "ايوه", "أيوة", "اه", "yes", "Y", "1", "١", "YES!", " نعم "]
DECLINE_WORDS = ["لا", "لأ", "no", "N", "2", "٢"]
STOP_WORDS = ["STOP", "stop", "إيقاف", "الغاء", "إلغاء"]
HELP_WORDS = ["HELP", "help", "مساعدة", "what?", "ممكن اعرف التفاصيل"]


def test_each_accept_word_confirms(client, signed, factory, offered):
    volunteer = factory.volunteer()
    for day, word in enumerate(ACCEPT_WORDS, start=2):
        assignment = offered(volunteer, factory.shift(start=in_days(day)))
        assert signed(client, "/sms/inbound", inbound(volunteer.phone, word)).status_code == 200
        assert state(assignment) == "confirmed", word


def test_each_decline_word_declines(client, signed, factory, offered):
    volunteer = factory.volunteer()
    for day, word in enumerate(DECLINE_WORDS, start=2):
        assignment = offered(volunteer, factory.shift(start=in_days(day)))
        assert signed(client, "/sms/inbound", inbound(volunteer.phone, word)).status_code == 200
        assert state(assignment) == "declined", word


def test_each_stop_word_opts_out_and_start_opts_back_in(client, signed, one_offer):
    volunteer, assignment = one_offer
    for word in STOP_WORDS:
        signed(client, "/sms/inbound", inbound(volunteer.phone, word))
        db.session.expire_all()
        assert volunteer.profile.sms_opted_out_at is not None, word
        assert state(assignment) == "offered"
        skipped = messaging.queue_offer(assignment, replacement=True)
        assert skipped.status == "skipped"
        db.session.rollback()
        signed(client, "/sms/inbound", inbound(volunteer.phone, "START"))
        db.session.expire_all()
        assert volunteer.profile.sms_opted_out_at is None
        assert volunteer.profile.sms_consent is True


def test_help_and_unknown_replies_get_help(client, signed, one_offer):
    volunteer, assignment = one_offer
    for word in HELP_WORDS:
        response = signed(client, "/sms/inbound", inbound(volunteer.phone, word))
        expected = messaging.in_locale("ar", help_text)
        assert f"<Message>{expected}</Message>" in response.get_data(as_text=True)
        assert state(assignment) == "offered"


def test_staff_can_stop_too(client, signed, factory):
    manager = factory.user("manager")
    signed(client, "/sms/inbound", inbound(manager.phone, "STOP"))
    contact = db.session.get(MessagingContact, manager.id)
    assert contact.opted_out_at is not None
    assert messaging.blocked_reason(manager, "digest") == "opted out"


def test_english_volunteers_are_answered_in_english(client, signed, factory, offered):
    volunteer = factory.volunteer(locale="en")
    institution = factory.institution(name_ar="دار السلام", name_en="Dar Al Salam")
    offered(volunteer, factory.shift(factory.opportunity(institution), start=in_days(3)))
    text = signed(client, "/sms/inbound", inbound(volunteer.phone, "yes")).get_data(as_text=True)
    assert "Dar Al Salam" in text
    assert "دار" not in text


def test_the_same_message_sid_twice_changes_nothing(client, signed, one_offer, factory, offered):
    volunteer, first = one_offer
    second = offered(volunteer, factory.shift(start=in_days(5)))
    params = inbound(volunteer.phone, "yes 1")
    one = signed(client, "/sms/inbound", params)
    assert state(first) == "confirmed"
    two = signed(client, "/sms/inbound", params)
    assert one.data == two.data
    assert state(second) == "offered"  # "yes 1" again would have taken the next offer
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 1


def test_several_offers_are_listed_and_picked_by_number(client, signed, factory, offered):
    volunteer = factory.volunteer(locale="en")
    soon = offered(volunteer, factory.shift(start=in_days(2)))
    later = offered(volunteer, factory.shift(start=in_days(4)))
    text = signed(client, "/sms/inbound", inbound(volunteer.phone, "yes")).get_data(as_text=True)
    assert "2 open offers" in text and "1)" in text and "2)" in text
    assert (state(soon), state(later)) == ("offered", "offered")
    signed(client, "/sms/inbound", inbound(volunteer.phone, "نعم ٢"))
    assert (state(soon), state(later)) == ("offered", "confirmed")
    signed(client, "/sms/inbound", inbound(volunteer.phone, "لا"))
    assert state(soon) == "declined"


def test_a_number_beyond_the_offers_lists_them_again(client, signed, factory, offered):
    volunteer = factory.volunteer(locale="en")
    first = offered(volunteer, factory.shift(start=in_days(2)))
    offered(volunteer, factory.shift(start=in_days(4)))
    text = signed(client, "/sms/inbound", inbound(volunteer.phone, "yes 7")).get_data(as_text=True)
    assert "2 open offers" in text
    assert state(first) == "offered"


def test_no_pending_offer_and_unknown_senders(client, signed, factory):
    volunteer = factory.volunteer(locale="en")
    text = signed(client, "/sms/inbound", inbound(volunteer.phone, "yes")).get_data(as_text=True)
    assert "no open offer" in text
    text = signed(client, "/sms/inbound", inbound("+201099999999", "نعم")).get_data(as_text=True)
    assert "<Message>" in text
    rows = db.session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [r.outcome for r in rows] == ["no_offer", "unknown_sender"]


def test_a_decline_queues_a_replacement_run(client, signed, one_offer):
    from web.models import MatchingRun

    volunteer, _assignment = one_offer
    signed(client, "/sms/inbound", inbound(volunteer.phone, "لا"))
    runs = db.session.scalars(sa.select(MatchingRun)).all()
    assert [r.trigger for r in runs] == ["replacement"]


# --- status callbacks ---------------------------------------------------------------------------


@pytest.fixture
def sent_message(factory, offered, twilio):
    volunteer = factory.volunteer()
    message = messaging.queue_offer(offered(volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    tomorrow_noon_cairo = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0)
    assert messaging.send_due(now=tomorrow_noon_cairo) == {"queued": 1}
    db.session.refresh(message)
    return message


def status(sid: str, value: str, code: str | None = None) -> dict[str, str]:
    params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": "AC" + "1" * 32}
    if code:
        params["ErrorCode"] = code
    return params


def history(message) -> list[str]:
    db.session.refresh(message)
    return [h["status"] for h in message.status_history]


def test_status_only_moves_forward(client, signed, sent_message):
    message = sent_message
    sid = message.provider_sid
    for value in ("sent", "delivered", "sent", "queued", "delivered"):
        assert signed(client, "/sms/status", status(sid, value)).status_code == 204
    assert message.status == "delivered"
    assert history(message)[-2:] == ["sent", "delivered"]
    assert history(message).count("delivered") == 1


def test_unknown_sids_are_harmless(client, signed):
    assert signed(client, "/sms/status", status("SM" + "5" * 32, "delivered")).status_code == 204


def test_a_permanent_delivery_failure_marks_the_number(client, signed, sent_message):
    message = sent_message
    signed(client, "/sms/status", status(message.provider_sid, "undelivered", "21614"))
    db.session.refresh(message)
    assert message.status == "undelivered"
    contact = db.session.get(MessagingContact, message.user_id)
    assert contact.bad_number_code == "21614"


def test_a_transient_delivery_failure_is_retried(client, signed, sent_message, twilio):
    message = sent_message
    old_sid = message.provider_sid
    signed(client, "/sms/status", status(old_sid, "failed", "30001"))
    db.session.refresh(message)
    assert message.status == "pending"
    assert message.provider_sid is None
    assert message.next_attempt_at is not None
    # A late callback about the first attempt no longer finds the row.
    signed(client, f"/sms/status?m={message.id}", status(old_sid, "delivered"))
    db.session.refresh(message)
    assert message.status == "pending"
