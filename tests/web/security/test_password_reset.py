"""Forgotten passwords: SMS code or email link, hashed, single-use, expiring, no enumeration."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import login
from tests.web.security.conftest import snapshot
from web.extensions import db
from web.models import AuditEvent, OutboundMessage, PasswordReset, User, utcnow
from web.services import password_reset

NEW = "a brand new password"
SENT = (
    "If an account has this phone number or email, we sent it a code (SMS) or a link (email). "
    "It works for 30 minutes."
)


def en(**kw):
    return {"headers": {"Accept-Language": "en"}, **kw}


def sent_code(user) -> str:
    body = db.session.scalars(
        sa.select(OutboundMessage.body)
        .where(OutboundMessage.user_id == user.id)
        .order_by(OutboundMessage.id.desc())
    ).first()
    return re.search(r"\d{6}", body).group(0)


def reset_form(identifier: str, code: str, password: str = NEW) -> dict[str, str]:
    return {"identifier": identifier, "code": code, "password": password, "confirm": password}


def can_log_in(client, identifier: str, password: str) -> bool:
    response = client.post("/login", data={"identifier": identifier, "password": password})
    client.post("/logout")
    return response.status_code == 302


def test_reset_by_sms_code(client, factory):
    user = factory.volunteer(phone="+201012345678", locale="ar")
    response = client.post("/forgot-password", data={"identifier": "010 1234 5678"})
    assert response.status_code == 302 and response.headers["Location"] == "/reset-password"
    [reset] = db.session.scalars(sa.select(PasswordReset)).all()
    code = sent_code(user)
    assert reset.channel == "sms" and code not in reset.secret_hash and len(reset.secret_hash) == 64
    assert reset.expires_at - reset.created_at == timedelta(minutes=30)
    # The form is prefilled with what was typed; the code in Arabic-Indic digits is fine too.
    assert "010 1234 5678" in client.get("/reset-password").get_data(as_text=True)
    arabic_code = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.post("/reset-password", data=reset_form("01012345678", arabic_code))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert can_log_in(client, "01012345678", NEW)
    assert not can_log_in(client, "01012345678", "correct horse battery")
    # Single use: the same code again is refused, and changes nothing.
    response = client.post(
        "/reset-password", data=reset_form("01012345678", code, "another password!")
    )
    assert response.status_code == 400  # in Arabic: the user's language, kept in the session
    assert "هذا الرمز غير صحيح أو انتهت صلاحيته." in response.get_data(as_text=True)
    assert can_log_in(client, "01012345678", NEW)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "user.password_reset_requested" in actions and "user.password_reset" in actions


def test_reset_by_email_link_works_once(app, client, factory):
    factory.user("coordinator", email="huda@example.org", phone=None, locale="en")
    response = client.post("/forgot-password", data={"identifier": "Huda@Example.org"})
    assert response.status_code == 302
    [mail] = app.extensions["sent_mail"][-1:]
    assert mail["To"] == "huda@example.org" and mail["Subject"] == "Reset your password"
    link = re.search(r"http://localhost(/reset-password/\S+)", mail.get_content()).group(1)
    token = link.rsplit("/", 1)[1]
    [reset] = db.session.scalars(sa.select(PasswordReset)).all()
    assert reset.channel == "email" and token not in reset.secret_hash
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    assert can_log_in(client, "huda@example.org", NEW)
    again = client.post(link, data={"password": "third password!!", "confirm": "third password!!"})
    assert again.status_code == 404
    assert can_log_in(client, "huda@example.org", NEW)


def test_email_link_in_the_users_language(app, client, factory):
    factory.user("manager", email="samir@example.org", locale="ar")
    client.post("/forgot-password", data={"identifier": "samir@example.org"}, **en())
    mail = app.extensions["sent_mail"][-1]
    assert mail["Subject"] == "إعادة تعيين كلمة المرور"


def test_codes_and_links_expire(client, factory):
    user = factory.volunteer(phone="+201012345678")
    client.post("/forgot-password", data={"identifier": "01012345678"})
    code = sent_code(user)
    reset = db.session.scalars(sa.select(PasswordReset)).one()
    reset.expires_at = utcnow() - timedelta(seconds=1)
    reset.created_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    response = client.post("/reset-password", data=reset_form("01012345678", code))
    assert response.status_code == 400
    assert can_log_in(client, "01012345678", "correct horse battery")
    token_user = factory.user("admin", email="a@example.org")
    password_reset.request_reset("a@example.org", now=utcnow() - timedelta(minutes=31))
    assert token_user.id  # the link of an old request no longer opens
    token = re.search(
        r"/reset-password/(\S+)", client.application.extensions["sent_mail"][-1].get_content()
    ).group(1)
    assert client.get(f"/reset-password/{token}").status_code == 404


def test_a_new_request_kills_the_previous_code(client, factory):
    user = factory.volunteer(phone="+201012345678")
    client.post("/forgot-password", data={"identifier": "01012345678"})
    first = sent_code(user)
    client.post("/forgot-password", data={"identifier": "01012345678"})
    second = sent_code(user)
    if first != second:
        assert (
            client.post("/reset-password", data=reset_form("01012345678", first)).status_code == 400
        )
    assert client.post("/reset-password", data=reset_form("01012345678", second)).status_code == 302


def test_wrong_codes_are_counted_and_the_code_dies_after_five(client, factory):
    user = factory.volunteer(phone="+201012345678")
    client.post("/forgot-password", data={"identifier": "01012345678"})
    code = sent_code(user)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert (
            client.post("/reset-password", data=reset_form("01012345678", wrong)).status_code == 400
        )
    assert client.post("/reset-password", data=reset_form("01012345678", code)).status_code == 400
    assert can_log_in(client, "01012345678", "correct horse battery")


def test_no_account_enumeration(client, factory):
    factory.volunteer(phone="+201012345678", email="mona@example.org")
    pages = []
    for identifier in ("01012345678", "01099999999", "mona@example.org", "nobody@example.org"):
        response = client.post(
            "/forgot-password", data={"identifier": identifier}, follow_redirects=True, **en()
        )
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert SENT in page
        pages.append((response.request.path, page.replace(identifier, "")))
    assert pages[0] == pages[1] and pages[2] == pages[3]
    # Trying a code for an unknown account says the same as a wrong code.
    unknown = client.post("/reset-password", data=reset_form("01099999999", "123456"), **en())
    known = client.post("/reset-password", data=reset_form("01012345678", "123456"), **en())
    assert unknown.status_code == known.status_code == 400
    text = "This code is not right or has expired. Ask for a new one."
    assert text in unknown.get_data(as_text=True) and text in known.get_data(as_text=True)


def test_reset_errors_are_in_arabic_and_write_nothing(client, factory):
    factory.volunteer(phone="+201012345678")
    before = snapshot()
    response = client.post("/reset-password", data=reset_form("01012345678", "123456", "short"))
    assert response.status_code == 400
    assert "يجب ألا يقل عدد أحرف كلمة المرور عن 10" in response.get_data(as_text=True)
    assert snapshot() == before


def test_reset_ends_every_other_session(app, factory):
    user = factory.volunteer(phone="+201012345678")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    assert laptop.get("/account").status_code == 200
    phone.post("/forgot-password", data={"identifier": "01012345678"})
    assert (
        phone.post("/reset-password", data=reset_form("01012345678", sent_code(user))).status_code
        == 302
    )
    assert laptop.get("/account").status_code == 302  # back to the log-in page
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == 1


def test_password_change_ends_other_sessions_but_keeps_this_one(app, factory):
    user = factory.volunteer(email="mona@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    response = here.post(
        "/account/password",
        data={"old_password": "correct horse battery", "new_password": NEW, "confirm": NEW},
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_old_style_session_ids_do_not_log_anyone_in(app, factory):
    user = factory.volunteer()
    client = app.test_client()
    login(client, user)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)  # no session version: from before the change
    assert client.get("/account").status_code == 302
