"""The account page: details, preferred language and password change."""

import sqlalchemy as sa

from web.extensions import db
from web.models import AuditEvent

PASSWORD = "correct horse battery"


def actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_account_page_in_both_languages(client, factory, login_as):
    login_as(factory.user("volunteer", full_name="منى علي", phone="+201012345678"))
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "منى علي" in page and '<dd dir="ltr">+201012345678</dd>' in page
    page = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "Change password" in page
    assert 'action="/logout"' in page


def test_anonymous_visitors_are_sent_to_login(client):
    for method, path in [("get", "/account"), ("post", "/account"), ("post", "/account/password")]:
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_language_preference_is_stored_on_the_user(client, factory, login_as):
    user = factory.user("volunteer", locale="ar")
    login_as(user)
    response = client.post("/account", data={"locale": "en"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.locale == "en"
    assert actions() == ["user.locale_changed"]
    page = client.get("/account", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert "Your language has been saved." in page  # flashed in the new language


def test_unknown_language_is_refused(client, factory, login_as):
    user = factory.user("volunteer", locale="ar")
    login_as(user)
    for value in ["fr", "", "x" * 500]:
        response = client.post("/account", data={"locale": value})
        assert response.status_code == 400, value
    db.session.refresh(user)
    assert user.locale == "ar" and actions() == []


def test_change_password(client, factory, login_as):
    user = factory.user("volunteer")
    login_as(user)
    response = client.post(
        "/account/password",
        data={
            "old_password": PASSWORD,
            "new_password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.check_password("a brand new secret") and not user.check_password(PASSWORD)
    assert actions() == ["user.password_changed"]


def test_change_password_bad_input_changes_nothing(client, factory, login_as):
    user = factory.user("volunteer")
    login_as(user)
    before = user.password_hash
    cases = [
        (
            {"old_password": "not my password", "new_password": "x" * 12, "confirm": "x" * 12},
            "old_password",
            "The current password is not right.",
        ),
        (
            {"old_password": PASSWORD, "new_password": "short", "confirm": "short"},
            "new_password",
            "at least 10 characters",
        ),
        (
            {"old_password": PASSWORD, "new_password": "y" * 129, "confirm": "y" * 129},
            "new_password",
            "too long",
        ),
        (
            {"old_password": PASSWORD, "new_password": "x" * 12, "confirm": "z" * 12},
            "confirm",
            "The two passwords are not the same.",
        ),
        ({}, "old_password", "Enter your current password."),
    ]
    for data, field, message in cases:
        response = client.post("/account/password", data=data, headers={"Accept-Language": "en"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400, data
        assert message in page and f'id="{field}-error"' in page, data
    db.session.refresh(user)
    assert user.password_hash == before and actions() == []
