"""Phone verification, the channel page, the admin outbox and inbox, and WhatsApp."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token_from
from tests.web.sms.conftest import in_days, twilio_error
from web.extensions import db
from web.models import MessagingContact, OutboundMessage, PhoneVerification
from web.services import messaging

NOW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
ARABIC = {"Accept-Language": "ar"}
ENGLISH = {"Accept-Language": "en"}


def in_english(call):
    return messaging.in_locale("en", call)


def sent_code() -> str:
    message = db.session.scalars(
        sa.select(OutboundMessage)
        .where(OutboundMessage.kind == "verification")
        .order_by(OutboundMessage.id.desc())
    ).first()
    return re.search(r"\d{6}", message.body).group(0)


@pytest.fixture
def newcomer(factory):
    user = factory.volunteer(phone_verified=False, locale="en")
    user.profile.sms_consent = False  # a code is sent even before consenting to offers
    db.session.commit()
    return user


# --- verification --------------------------------------------------------------------------------


def test_verification_flow(login_as, newcomer):
    client = login_as(newcomer)
    page = client.get("/verify", headers=ENGLISH)
    assert page.status_code == 200
    assert "Send me a code" in page.get_data(as_text=True)
    response = client.post("/verify/send", headers=ENGLISH)
    assert response.status_code == 302
    [message] = db.session.scalars(sa.select(OutboundMessage)).all()
    assert (message.kind, message.status, message.to_number) == (
        "verification",
        "pending",
        newcomer.phone,
    )
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/verify", data={"code": wrong}, headers=ENGLISH)
    assert bad.status_code == 400
    assert "This code is not right." in bad.get_data(as_text=True)
    arabic_digits = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    ok = client.post("/verify", data={"code": arabic_digits}, headers=ENGLISH)
    assert ok.status_code == 302
    db.session.refresh(newcomer)
    assert newcomer.phone_verified is True


def test_the_verify_page_in_arabic(login_as, newcomer):
    newcomer.locale = "ar"
    db.session.commit()
    page = login_as(newcomer).get("/verify", headers=ARABIC)
    assert page.status_code == 200
    assert 'lang="ar"' in page.get_data(as_text=True)


def test_malformed_codes_are_refused(login_as, newcomer):
    client = login_as(newcomer)
    client.post("/verify/send")
    for typed in ("", "12345", "1234567", "abcdef", "1" * 50):
        response = client.post("/verify", data={"code": typed}, headers=ENGLISH)
        assert response.status_code == 400, typed
    assert db.session.scalar(sa.select(PhoneVerification.attempts)) == 0


def test_five_wrong_codes_lock_the_code(login_as, newcomer):
    client = login_as(newcomer)
    client.post("/verify/send")
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert client.post("/verify", data={"code": wrong}).status_code == 400
    locked = client.post("/verify", data={"code": code}, headers=ENGLISH)
    assert locked.status_code == 429
    db.session.refresh(newcomer)
    assert newcomer.phone_verified is False


def test_codes_expire_after_ten_minutes(newcomer):
    start = datetime.now(UTC)
    messaging.send_verification_code(newcomer, now=start)
    code = sent_code()
    with pytest.raises(messaging.VerificationError, match="expired"):
        in_english(
            lambda: messaging.check_verification_code(
                newcomer, code, now=start + timedelta(minutes=10)
            )
        )
    assert newcomer.phone_verified is False


def test_a_new_code_replaces_the_old_one(newcomer):
    start = datetime.now(UTC)
    messaging.send_verification_code(newcomer, now=start)
    old = sent_code()
    with pytest.raises(messaging.VerificationError, match="wait"):
        in_english(
            lambda: messaging.send_verification_code(newcomer, now=start + timedelta(seconds=30))
        )
    messaging.send_verification_code(newcomer, now=start + timedelta(minutes=2))
    new = sent_code()
    if old != new:
        with pytest.raises(messaging.VerificationError, match="not right"):
            in_english(
                lambda: messaging.check_verification_code(
                    newcomer, old, now=start + timedelta(minutes=3)
                )
            )
    messaging.check_verification_code(newcomer, new, now=start + timedelta(minutes=3))
    assert newcomer.phone_verified is True


def test_resends_are_rate_limited(other_app, factory):
    from tests.conftest import login

    limited = other_app(RATELIMIT_ENABLED=True, SMS_VERIFY_RATE_LIMIT="2 per hour")
    user = factory.volunteer(phone_verified=False)
    with limited.app_context():
        client = limited.test_client()
        login(client, user)
        codes = [client.post("/verify/send").status_code for _ in range(3)]
    assert codes[-1] == 429


def test_verification_codes_are_hidden_on_the_admin_pages(login_as, newcomer, factory):
    messaging.send_verification_code(newcomer)
    code = sent_code()
    admin = factory.user("admin")
    page = login_as(admin).get("/sms/outbox", headers=ENGLISH).get_data(as_text=True)
    assert code not in page
    assert "(code hidden)" in page


# --- channel ------------------------------------------------------------------------------------


def test_a_volunteer_chooses_whatsapp(login_as, factory):
    volunteer = factory.volunteer(locale="en")
    client = login_as(volunteer)
    assert client.get("/messages", headers=ENGLISH).status_code == 200
    assert client.post("/messages", data={"channel": "whatsapp"}).status_code == 302
    assert db.session.get(MessagingContact, volunteer.id).channel == "whatsapp"
    assert client.post("/messages", data={"channel": "pigeon"}).status_code == 400
    assert client.post("/messages", data={}).status_code == 400
    assert db.session.get(MessagingContact, volunteer.id).channel == "whatsapp"


def test_the_channel_page_needs_a_volunteer(login_as, factory, client):
    assert client.get("/messages").status_code == 302
    assert login_as(factory.user("manager")).get("/messages").status_code == 403


# --- WhatsApp -----------------------------------------------------------------------------------


@pytest.fixture
def whatsapp_volunteer(factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_WHATSAPP_FROM", "+14155238886")
    volunteer = factory.volunteer(phone="+201005550001", locale="ar")
    db.session.add(MessagingContact(user_id=volunteer.id, channel="whatsapp"))
    db.session.commit()
    return volunteer


def test_whatsapp_inside_the_window_sends_the_text(whatsapp_volunteer, offered, factory, twilio):
    contact = db.session.get(MessagingContact, whatsapp_volunteer.id)
    contact.whatsapp_inbound_at = NOW - timedelta(hours=3)
    message = messaging.queue_offer(offered(whatsapp_volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    messaging.send_due(now=NOW)
    [request] = twilio.creates
    assert request.data["To"] == "whatsapp:+201005550001"
    assert request.data["From"] == "whatsapp:+14155238886"
    assert request.data["Body"] == message.body


def test_whatsapp_outside_the_window_uses_the_approved_template(
    whatsapp_volunteer, offered, factory, twilio, app, monkeypatch
):
    import json

    monkeypatch.setitem(
        app.config,
        "TWILIO_WHATSAPP_TEMPLATES",
        {"offer": {"ar": "HX" + "a" * 32, "en": "HX" + "b" * 32, "variables": ["place", "when"]}},
    )
    message = messaging.queue_offer(offered(whatsapp_volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    messaging.send_due(now=NOW)
    [request] = twilio.creates
    assert request.data["ContentSid"] == "HX" + "a" * 32
    variables = json.loads(request.data["ContentVariables"])
    assert set(variables) == {"1", "2"}
    assert variables["1"] == message.template_variables["place"]
    assert variables["2"] == message.template_variables["when"]
    assert "Body" not in request.data


def test_whatsapp_without_a_template_falls_back_to_sms(
    whatsapp_volunteer, offered, factory, twilio
):
    messaging.queue_offer(offered(whatsapp_volunteer, factory.shift(start=in_days(4))))
    db.session.commit()
    messaging.send_due(now=NOW)
    [request] = twilio.creates
    assert request.data["To"] == "+201005550001"
    assert request.data["From"] != "whatsapp:+14155238886"


def test_a_whatsapp_reply_opens_the_window_and_is_understood(
    whatsapp_volunteer, offered, factory, client, signed
):
    assignment = offered(whatsapp_volunteer, factory.shift(start=in_days(4)))
    params = {
        "MessageSid": "SM" + "4" * 32,
        "From": "whatsapp:+201005550001",
        "To": "whatsapp:+14155238886",
        "Body": "نعم",
    }
    assert signed(client, "/sms/inbound", params).status_code == 200
    db.session.expire_all()
    assert assignment.state == "confirmed"
    assert db.session.get(MessagingContact, whatsapp_volunteer.id).whatsapp_inbound_at


# --- admin pages --------------------------------------------------------------------------------


@pytest.fixture
def some_messages(factory, offered, twilio):
    volunteer = factory.volunteer(locale="ar")
    institution = factory.institution(name_ar="دار <b>الرحمة</b>", name_en="Dar <b>Rahma</b>")
    shift = factory.shift(factory.opportunity(institution), start=in_days(4))
    ok = messaging.queue_offer(offered(volunteer, shift))
    never = factory.volunteer()
    never.profile.sms_consent = False
    skipped = messaging.queue_offer(offered(never, factory.shift(start=in_days(5))))
    db.session.commit()
    return ok, skipped


def test_outbox_page_shows_segments_cost_and_escapes_text(login_as, factory, some_messages):
    client = login_as(factory.user("admin", locale=None))
    for headers, lang in ((ARABIC, 'lang="ar"'), (ENGLISH, 'lang="en"')):
        page = client.get("/sms/outbox", headers=headers)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert lang in html
        assert "&lt;b&gt;" in html and "<b>الرحمة" not in html
        assert "UCS-2" in html
        assert "0.200" in html or "0.100" in html


def test_outbox_filters(login_as, factory, some_messages):
    ok, skipped = some_messages
    client = login_as(factory.user("admin"))
    html = client.get("/sms/outbox?status=skipped", headers=ENGLISH).get_data(as_text=True)
    assert f"/sms/outbox/{skipped.id}" in html and f'/sms/outbox/{ok.id}"' not in html
    html = client.get(f"/sms/outbox?q={ok.to_number[-6:]}").get_data(as_text=True)
    assert f"/sms/outbox/{ok.id}" in html
    assert client.get("/sms/outbox?status=nonsense").status_code == 400
    assert client.get("/sms/outbox?kind=offer&channel=sms&page=٢").status_code == 200


def test_outbox_message_page_and_resend(login_as, factory, some_messages, twilio):
    ok, skipped = some_messages
    client = login_as(factory.user("admin"))
    page = client.get(f"/sms/outbox/{skipped.id}", headers=ENGLISH)
    assert page.status_code == 200
    assert "Status history" in page.get_data(as_text=True)
    assert client.get("/sms/outbox/999999").status_code == 404
    assert client.post(f"/sms/outbox/{ok.id}/resend").status_code == 303  # refused: pending
    db.session.refresh(ok)
    assert ok.status == "pending"
    twilio.script.append(twilio_error(400, 21211))
    messaging.send_due(now=NOW)
    db.session.refresh(ok)
    assert ok.status == "failed"
    db.session.delete(db.session.get(MessagingContact, ok.user_id))  # the number was fixed
    db.session.commit()
    assert client.post(f"/sms/outbox/{ok.id}/resend").status_code == 303
    db.session.refresh(ok)
    assert ok.status == "pending"
    assert messaging.send_due(now=NOW + timedelta(minutes=1)) == {"queued": 1}


def test_inbox_page(login_as, factory, client, signed):
    volunteer = factory.volunteer()
    signed(
        client,
        "/sms/inbound",
        {"MessageSid": "SM" + "3" * 32, "From": volunteer.phone, "Body": "<script>x</script>"},
    )
    admin_client = login_as(factory.user("admin"))
    for headers in (ARABIC, ENGLISH):
        page = admin_client.get("/sms/inbox", headers=headers)
        assert page.status_code == 200
        assert "&lt;script&gt;" in page.get_data(as_text=True)
    assert admin_client.get(f"/sms/inbox?q={volunteer.phone[-5:]}").status_code == 200


def test_admin_pages_are_for_admins_only(login_as, factory, some_messages, client):
    ok, _ = some_messages
    assert client.get("/sms/outbox").status_code == 302  # to the log-in page
    for role in ("volunteer", "manager", "coordinator"):
        client = login_as(factory.user(role))
        for url in ("/sms/outbox", "/sms/inbox", f"/sms/outbox/{ok.id}"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post(f"/sms/outbox/{ok.id}/resend").status_code == 403


def test_resend_posts_need_csrf(other_app, factory, some_messages):
    from tests.conftest import login

    _ok, skipped = some_messages
    strict = other_app(WTF_CSRF_ENABLED=True)
    admin = factory.user("admin")
    with strict.app_context():
        client = strict.test_client()
        login(client, admin)
        assert client.post(f"/sms/outbox/{skipped.id}/resend").status_code == 400
        page = client.get(f"/sms/outbox/{skipped.id}").get_data(as_text=True)
        token = csrf_token_from(page)
        response = client.post(f"/sms/outbox/{skipped.id}/resend", data={"csrf_token": token})
        assert response.status_code == 303
