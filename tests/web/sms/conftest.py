"""Fixtures of the SMS tests: a fake Twilio HTTP client inside the real Client, signed posts."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token-0123456789abcdef"
FROM = "+15005550006"
PUBLIC = "https://volunteers.example.org"


@dataclass
class Sent:
    """One request the Twilio client made."""

    method: str
    url: str
    data: dict[str, Any]
    params: dict[str, Any]
    auth: Any


@dataclass
class FakeTwilioHttp(HttpClient):
    """Answers like Twilio's API, records every request, and never touches the network."""

    requests: list[Sent] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)
    n: int = 0

    def __post_init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio"), False, None)

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append(Sent(method, url, dict(data or {}), dict(params or {}), auth))
        if method == "GET":
            return Response(200, json.dumps({"messages": self.listed, "next_page_uri": None}))
        item = self.script.pop(0) if self.script else None
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Response):
            return item
        self.n += 1
        payload = {
            "sid": f"SM{self.n:032d}",
            "status": "queued",
            "to": (data or {}).get("To"),
            "body": (data or {}).get("Body"),
            "account_sid": ACCOUNT,
        }
        return Response(201, json.dumps(payload))

    @property
    def creates(self) -> list[Sent]:
        return [r for r in self.requests if r.method == "POST"]


def twilio_error(status: int, code: int, message: str = "error") -> Response:
    return Response(status, json.dumps({"code": code, "message": message, "status": status}))


@pytest.fixture
def twilio(app, monkeypatch) -> FakeTwilioHttp:
    """Switch the app to the Twilio backend with a fake HTTP client."""
    fake = FakeTwilioHttp()
    for key, value in {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": FROM,
        "TWILIO_MESSAGING_SERVICE_SID": None,
        "PUBLIC_BASE_URL": PUBLIC,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "twilio_http_client", fake)
    return fake


@pytest.fixture
def signed(app, monkeypatch):
    """``signed(client, path, params)`` posts a webhook with a real Twilio signature."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)

    def post(
        client,
        path: str,
        params: dict[str, str],
        *,
        url: str | None = None,
        token: str = TOKEN,
        headers: dict[str, str] | None = None,
    ):
        target = url or f"http://localhost{path}"
        signature = RequestValidator(token).compute_signature(target, params)
        return client.post(
            path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
        )

    return post


def in_days(days: int, hour: int = 10) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@pytest.fixture
def offered(factory):
    """``offered(volunteer, shift)``: an offered assignment holding a place, as a run makes it."""
    from web.extensions import db
    from web.services import places

    def make(volunteer, shift):
        ok, reason = places.offer(shift, volunteer.id, None)
        assert ok, reason
        db.session.commit()
        from web.models import Assignment

        return (
            db.session.query(Assignment)
            .filter_by(shift_id=shift.id, volunteer_id=volunteer.id)
            .one()
        )

    return make


@pytest.fixture
def other_app(database_url):
    """``other_app(**config)``: a second app on the test database, its engine closed after."""
    from tests.conftest import make_app
    from web.extensions import db

    made = []

    def build(**overrides):
        made.append(make_app(database_url, **overrides))
        return made[-1]

    yield build
    for extra in made:
        with extra.app_context():
            db.engine.dispose()
