"""Rate limits (per address and per account) and body size limits, with pages in both languages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from tests.web.security.conftest import snapshot
from web.security import large_upload

PASSWORD = "correct horse battery"
TOO_MANY = {
    "ar": "محاولات كثيرة جدًا. يُرجى الانتظار قليلًا ثم المحاولة مرة أخرى.",
    "en": "Too many attempts. Please wait a little and try again.",
}
TOO_LARGE = {"ar": "الملف المرفوع كبير جدًا.", "en": "The upload is too large."}


def from_address(address: str) -> dict[str, str]:
    return {"REMOTE_ADDR": address}


@pytest.mark.parametrize("language", ["ar", "en"])
def test_too_many_attempts_page_is_in_the_visitors_language(other_app, factory, language):
    factory.user("volunteer", email="mona@example.org")
    client = other_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute").test_client()
    wrong = {"identifier": "mona@example.org", "password": "wrong password!"}
    for _attempt in range(2):
        assert client.post("/login", data=wrong).status_code == 400
    response = client.post("/login", data=wrong, headers={"Accept-Language": language})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert TOO_MANY[language] in page
    assert f'<html lang="{language}"' in page
    assert "Retry-After" in response.headers
    with force_locale(language):
        assert _("Too many attempts. Please wait a little and try again.") == TOO_MANY[language]


def test_login_is_limited_per_account_across_addresses(other_app, factory):
    """Carriers share addresses; an attacker spreads guesses over many: both are handled."""
    factory.user("volunteer", email="mona@example.org", phone="+201012345678")
    client = other_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="100 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="3 per minute",
    ).test_client()
    wrong = {"identifier": "mona@example.org", "password": "wrong password!"}
    codes = [
        client.post("/login", data=wrong, environ_base=from_address(f"10.0.0.{n}")).status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    # The same account typed another way (phone in Arabic-Indic digits) is the same key...
    same = {"identifier": "٠١٠١٢٣٤٥٦٧٨", "password": PASSWORD}
    assert (
        client.post("/login", data=same, environ_base=from_address("10.0.0.9")).status_code == 429
    )
    # ...while another account behind the same shared address still logs in.
    factory.user("volunteer", email="amal@example.org")
    other = {"identifier": "amal@example.org", "password": PASSWORD}
    assert (
        client.post("/login", data=other, environ_base=from_address("10.0.0.1")).status_code == 302
    )


def test_login_per_address_limit_still_applies(other_app, factory):
    client = other_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="2 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="50/minute",
    ).test_client()
    codes = [
        client.post("/login", data={"identifier": f"u{n}@example.org", "password": "x"}).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]


def test_registration_and_password_reset_are_limited(other_app, factory):
    client = other_app(
        RATELIMIT_ENABLED=True,
        REGISTER_RATE_LIMIT="1 per minute",
        PASSWORD_RESET_RATE_LIMIT="100 per minute",
        PASSWORD_RESET_ACCOUNT_RATE_LIMIT="2 per hour",
    ).test_client()
    assert [client.post("/register", data={}).status_code for _ in range(2)] == [400, 429]
    factory.volunteer(phone="+201012345678")
    before = snapshot()
    ask = {"identifier": "01012345678"}
    codes = [
        client.post(
            "/forgot-password", data=ask, environ_base=from_address(f"10.1.0.{n}")
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    after = snapshot()
    assert after["password_reset"] == before["password_reset"] + 2  # the third wrote nothing


def test_webhooks_and_sign_ups_are_limited(other_app, factory):
    app = other_app(
        RATELIMIT_ENABLED=True, WEBHOOK_RATE_LIMIT="2 per minute", SIGNUP_RATE_LIMIT="1/minute"
    )
    client = app.test_client()
    # Unsigned posts are refused (403) and still count.
    assert [client.post("/sms/status").status_code for _ in range(3)] == [403, 403, 429]
    assert [client.post("/sms/inbound").status_code for _ in range(3)] == [403, 403, 429]
    from tests.conftest import login

    volunteer = factory.volunteer()
    login(client, volunteer)
    shift = factory.shift()
    assert client.post(f"/shifts/{shift.id}/signup").status_code == 303
    assert client.post(f"/shifts/{shift.id}/withdraw").status_code == 429


def test_sign_up_limit_is_per_account_not_per_address(other_app, factory):
    from tests.conftest import login

    app = other_app(RATELIMIT_ENABLED=True, SIGNUP_RATE_LIMIT="1/minute")
    first, second = app.test_client(), app.test_client()
    login(first, factory.volunteer())
    login(second, factory.volunteer())
    shift = factory.shift(needed=5)
    assert first.post(f"/shifts/{shift.id}/signup").status_code == 303
    assert second.post(f"/shifts/{shift.id}/signup").status_code == 303  # same address
    assert first.post(f"/shifts/{shift.id}/withdraw").status_code == 429


@pytest.mark.parametrize("language", ["ar", "en"])
def test_too_large_bodies_get_413_in_the_users_language_and_write_nothing(client, language):
    before = snapshot()
    body = {"full_name": "x" * (3 * 1024 * 1024), "phone": "01012345678"}
    response = client.post("/register", data=body, headers={"Accept-Language": language})
    assert response.status_code == 413
    assert TOO_LARGE[language] in response.get_data(as_text=True)
    assert snapshot() == before


def test_large_upload_views_accept_up_to_their_own_limit(other_app):
    app = other_app(MAX_CONTENT_LENGTH=1000, UPLOAD_MAX_CONTENT_LENGTH=5000)

    @app.post("/test-upload")
    @large_upload
    def upload() -> str:
        from flask import request

        return str(len(request.files["file"].read()))

    @app.post("/test-small")
    def small() -> str:
        from flask import request

        return str(len(request.files["file"].read()))

    client = app.test_client()

    def send(path: str, size: int):
        from io import BytesIO

        return client.post(path, data={"file": (BytesIO(b"a" * size), "f.csv")})

    assert send("/test-small", 500).status_code == 200
    assert send("/test-small", 2000).status_code == 413
    response = send("/test-upload", 2000)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "2000")
    assert send("/test-upload", 6000).status_code == 413
