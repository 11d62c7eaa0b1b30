"""Security headers on every response, a CSP without unsafe-inline, HSTS only over https."""

from __future__ import annotations

import pytest

from web.config import load_config
from web.security import content_security_policy, tile_source

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/", "get"),
        ("/login", "get"),
        ("/no-such-page", "get"),
        ("/static/css/app.css", "get"),
        ("/sms/inbound", "post"),
        ("/login", "post"),
    ],
)
def test_every_response_carries_the_security_headers(client, path, method):
    response = getattr(client, method)(path)
    response.close()  # static files are streamed from an open file
    headers = response.headers
    assert headers["Content-Security-Policy"] == EXPECTED_CSP
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "microphone=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http


def test_html_pages_are_not_cached_but_static_files_may_be(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    with client.get("/static/css/app.css") as static:
        assert static.headers.get("Cache-Control") != "no-store"


def test_hsts_only_when_the_request_is_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_behind_a_trusted_proxy_follows_x_forwarded_proto(other_app):
    proxied = other_app(TRUSTED_PROXIES=1)
    client = proxied.test_client()
    https = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert "Strict-Transport-Security" in https.headers
    http = client.get("/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "1.2.3.4"})
    assert "Strict-Transport-Security" not in http.headers
    # Without a trusted proxy the header is only a claim and is ignored.
    direct = other_app().test_client()
    assert (
        "Strict-Transport-Security"
        not in direct.get("/", headers={"X-Forwarded-Proto": "https"}).headers
    )


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("https://tiles.example.org:8443/t/{z}/{x}/{y}.png?k=1", "https://tiles.example.org:8443"),
        ("https://user:pw@tiles.example.org/{z}.png", "https://tiles.example.org"),
        ("/static/tiles/{z}/{x}/{y}.png", None),  # our own host: 'self' covers it
        ("javascript:alert(1)", None),
        ("https://evil.example.org; script-src *", None),
        ("", None),
        (None, None),
    ],
)
def test_the_map_tile_host_comes_from_the_tile_url_setting(url, source):
    assert tile_source(url) == source


def test_csp_follows_the_configured_tile_server(other_app):
    app = other_app(MAP_TILE_URL="https://{s}.tiles.example.net/{z}/{x}/{y}.png")
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.net;" in csp
    assert "tile.openstreetmap.org" not in csp
    assert content_security_policy(None).count("img-src 'self' data:;") == 1


def test_cookie_flags_and_session_lifetime_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("SESSION_LIFETIME_HOURS", raising=False)
    config = load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "k" * 40})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600
    assert config["REMEMBER_COOKIE_DURATION"].days == 14
    development = load_config(str(tmp_path), {"APP_ENV": "development"})
    assert not development["SESSION_COOKIE_SECURE"]  # the demo runs on plain http


def test_logging_in_sets_a_session_cookie_that_expires(client, factory):
    factory.user("volunteer", email="mona@example.org")
    response = client.post(
        "/login", data={"identifier": "mona@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
