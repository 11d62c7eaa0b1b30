"""Security headers (a CSP without unsafe-inline, HSTS over https) and request size limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., Any])

LARGE_UPLOAD_ATTRIBUTE = "_allows_large_upload"
HSTS_SECONDS = 365 * 24 * 3600
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(self), display-capture=(), geolocation=(self), "
    "gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)


def user_or_address() -> str:
    """Rate-limit key: the logged-in account, else the client address (carriers share them)."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def large_upload(view: F) -> F:
    """Let this view receive bodies up to ``UPLOAD_MAX_CONTENT_LENGTH`` (file uploads, imports)."""
    setattr(view, LARGE_UPLOAD_ATTRIBUTE, True)
    return view


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of a map tile URL template: its scheme and host, ``{s}`` as a wildcard."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    # Leaflet's {s} subdomain placeholder ("{s}.tile.example.org") becomes "*.tile.example.org".
    if host.startswith("{s}."):
        host = "*." + host[4:]
    if "{" in host or "}" in host or " " in host or ";" in host or "'" in host:
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str | None = None) -> str:
    """The CSP of every response: only our own scripts and styles, never inline ones."""
    images = ["'self'", "data:"]
    source = tile_source(tile_url)
    if source:
        images.append(source)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _allow_large_upload() -> None:
    """Raise the body limit for views marked with ``@large_upload`` (before anything reads it)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, LARGE_UPLOAD_ATTRIBUTE, False):
        request.max_content_length = current_app.config["UPLOAD_MAX_CONTENT_LENGTH"]


def _set_headers(response: Response) -> Response:
    headers = response.headers
    config = current_app.config
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:  # behind a proxy, ProxyFix (TRUSTED_PROXIES) makes this right
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={HSTS_SECONDS}; includeSubDomains"
        )
    if response.mimetype == "text/html" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"  # pages can hold personal data; never cache them
    return response


def init_app(app: Flask) -> None:
    """Install the size-limit hook (before the extensions read the body) and the headers."""
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(app.config.get("MAP_TILE_URL"))
    app.before_request(_allow_large_upload)
    app.after_request(_set_headers)
