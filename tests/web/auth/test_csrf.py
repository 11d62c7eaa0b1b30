"""With CSRF protection on (as in production), a POST without the form's token changes nothing."""

import re

import pytest
import sqlalchemy as sa

from web import create_app
from web.extensions import db
from web.models import AuditEvent, User

PASSWORD = "correct horse battery"


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.fixture
def csrf_app(app, database_url):
    protected = create_app(
        {
            "TESTING": True,
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )
    yield protected
    with protected.app_context():
        db.engine.dispose()


def test_posts_without_token_are_refused_and_write_nothing(csrf_app, factory):
    factory.user("admin", email="admin@example.org")
    client = csrf_app.test_client()
    governorate = str(factory.governorate("EG-C").id)
    registration = {
        "full_name": "Mona",
        "phone": "01012345678",
        "password": "long enough pw",
        "confirm": "long enough pw",
        "locale": "ar",
        "governorate": governorate,
    }
    response = client.post("/register", data=registration, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)
    login = {"identifier": "admin@example.org", "password": PASSWORD}
    assert client.post("/login", data=login).status_code == 400
    assert client.post("/language", data={"language": "en"}).status_code == 400
    assert count(User) == 1 and count(AuditEvent) == 0

    # With the token from the page, the same posts go through.
    token = token_in(client.get("/register").get_data(as_text=True))
    response = client.post("/register", data={**registration, "csrf_token": token})
    assert response.status_code == 302
    assert count(User) == 2


def test_logout_and_admin_posts_need_the_token(csrf_app, factory):
    factory.user("admin", email="admin@example.org")
    client = csrf_app.test_client()
    token = token_in(client.get("/login").get_data(as_text=True))
    login = {"identifier": "admin@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=login).status_code == 302
    volunteer = factory.user("volunteer")
    assert client.post(f"/admin/users/{volunteer.id}/deactivate").status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still logged in
    db.session.refresh(volunteer)
    assert volunteer.active
    assert [a for (a,) in db.session.execute(sa.select(AuditEvent.action))] == ["user.logged_in"]
    token = token_in(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302
