"""Log-in with phone or email, redirects, remember-me, rate limiting, cookies and log-out."""

import sqlalchemy as sa
from flask import url_for

from web import create_app
from web.extensions import db
from web.models import AuditEvent, User

PASSWORD = "correct horse battery"  # what the factory gives every user


def actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_login_page_in_both_languages(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and 'name="identifier"' in page
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Phone number or email" in page


def test_login_with_phone_typed_any_way_or_email(client, factory):
    user = factory.user("volunteer", phone="+201012345678", email="mona@example.org")
    typed_ways = [
        "01012345678",
        "+20 10 1234 5678",
        "٠١٠١٢٣٤٥٦٧٨",
        "00201012345678",
        "Mona@Example.org",
    ]
    for identifier in typed_ways:
        response = client.post("/login", data={"identifier": identifier, "password": PASSWORD})
        assert response.status_code == 302, identifier
        assert client.get("/account").status_code == 200, identifier
        client.post("/logout")
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert actions() == ["user.logged_in", "user.logged_out"] * len(typed_ways)


def test_wrong_password_and_unknown_account_get_the_same_message(client, factory):
    user = factory.user("volunteer", phone="+201012345678")
    pages = []
    for identifier, password in [
        ("01012345678", "wrong password!"),
        ("01099999999", PASSWORD),
        ("nobody@example.org", PASSWORD),
        ("not a phone", PASSWORD),
    ]:
        response = client.post(
            "/login",
            data={"identifier": identifier, "password": password},
            headers={"Accept-Language": "en"},
        )
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "The phone number, email or password is not right." in page
        pages.append(page.replace(identifier, ""))
    assert len(set(pages)) == 1  # nothing tells which part was wrong
    db.session.refresh(user)
    assert user.last_login_at is None and actions() == []
    assert client.get("/account").status_code == 302


def test_empty_and_too_long_input(client):
    response = client.post("/login", data={}, headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter your phone number or email." in page and "Enter your password." in page
    response = client.post(
        "/login",
        data={"identifier": "1" * 301, "password": "x" * 129},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400 and "This is too long." in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(client, factory):
    factory.user("volunteer", phone="+201012345678", active=False)
    response = client.post(
        "/login",
        data={"identifier": "01012345678", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "This account has been deactivated" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302 and actions() == []


def test_deactivation_ends_an_open_session(client, factory, login_as):
    user = factory.user("volunteer")
    login_as(user)
    assert client.get("/account").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_next_is_followed_only_to_local_paths(client, factory, app):
    factory.user("admin", email="admin@example.org")
    with app.test_request_context():
        landing = url_for("admin.users")
    for next_url, followed in [
        ("/account", True),
        ("/account?tab=password", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
    ]:
        response = client.post(
            "/login",
            query_string={"next": next_url},
            data={"identifier": "admin@example.org", "password": PASSWORD},
        )
        assert response.headers["Location"] == (next_url if followed else landing), next_url
        client.post("/logout")


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Faccount")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'action="/login?next=/account"' in page  # the form posts the next page along


def test_remember_me_sets_a_lasting_cookie_only_when_asked(client, factory):
    factory.user("volunteer", email="mona@example.org")
    data = {"identifier": "mona@example.org", "password": PASSWORD}
    response = client.post("/login", data=data)
    assert not any("remember_token" in c for c in response.headers.getlist("Set-Cookie"))
    client.post("/logout")
    response = client.post("/login", data={**data, "remember": "y"})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token")]
    assert cookies and "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]


def test_logout_is_post_only_and_audited(client, factory, login_as):
    user = factory.user("volunteer")
    login_as(user)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 302
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert (event.action, event.actor_id) == ("user.logged_out", user.id)
    assert client.post("/logout").status_code == 302  # logging out twice is harmless


def test_logged_in_user_visiting_login_goes_to_their_landing_page(client, factory, login_as, app):
    login_as(factory.user("admin"))
    response = client.get("/login")
    with app.test_request_context():
        assert response.headers["Location"] == url_for("admin.users")


def _app_with(database_url, **config):
    settings = {
        "TESTING": True,
        "APP_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
    }
    settings.update(config)
    return create_app(settings)


def test_login_attempts_are_rate_limited(app, factory, database_url):
    factory.user("volunteer", email="mona@example.org")
    limited = _app_with(
        database_url,
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="3 per minute",
        REGISTER_RATE_LIMIT="2 per minute",
    )
    try:
        client = limited.test_client()
        wrong = {"identifier": "mona@example.org", "password": "wrong password!"}
        for _ in range(3):
            assert client.post("/login", data=wrong).status_code == 400
        response = client.post(
            "/login", data={"identifier": "mona@example.org", "password": PASSWORD}
        )
        assert response.status_code == 429
        assert client.get("/login").status_code == 200  # only the POST is limited
        # Sign-ups have their own limit.
        assert [client.post("/register", data={}).status_code for _ in range(3)] == [400, 400, 429]
        assert client.get("/register").status_code == 200
        assert actions() == []
    finally:
        with limited.app_context():
            db.engine.dispose()


def test_session_and_remember_cookies_are_secure_in_production(app, factory, database_url):
    factory.user("volunteer", email="mona@example.org")
    production = _app_with(database_url, TESTING=False, APP_ENV="production", SECRET_KEY="s" * 40)
    try:
        response = production.test_client().post(
            "/login", data={"identifier": "mona@example.org", "password": PASSWORD, "remember": "y"}
        )
        assert response.status_code == 302
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        for name in ("session", "remember_token"):
            assert "Secure" in cookies[name]
            assert "HttpOnly" in cookies[name]
            assert "SameSite=Lax" in cookies[name]
    finally:
        with production.app_context():
            db.engine.dispose()


def test_session_cookie_is_http_only_and_same_site_in_tests_too(client, factory):
    factory.user("volunteer", email="mona@example.org")
    response = client.post("/login", data={"identifier": "mona@example.org", "password": PASSWORD})
    session_cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    )
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_user_model_sees_login_time(client, factory):
    user = factory.user("volunteer", email="mona@example.org")
    client.post("/login", data={"identifier": "mona@example.org", "password": PASSWORD})
    stored = db.session.get(User, user.id)
    db.session.refresh(stored)
    assert stored.last_login_at.tzinfo is not None
