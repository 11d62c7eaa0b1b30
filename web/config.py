"""Configuration read from environment variables, with safe defaults for development and tests."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the environment does not configure the service safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from the environment, then apply ``overrides``."""
    env = os.environ
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV") or env.get("APP_ENV", "production")
    testing = bool(overrides.get("TESTING", False))
    development = app_env in {"development", "demo"}
    default_db = "sqlite:///" + str(Path(instance_path) / "volunteers.sqlite")
    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL", default_db)),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "ar",
        "BABEL_DEFAULT_TIMEZONE": "Africa/Cairo",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": ("ar", "en"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Africa/Cairo"),
        "DEFAULT_PHONE_REGION": env.get("DEFAULT_PHONE_REGION", "EG"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not (development or testing),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not (development or testing),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(env.get("SESSION_LIFETIME_HOURS", 12))),
        "REMEMBER_COOKIE_DURATION": timedelta(days=float(env.get("REMEMBER_COOKIE_DAYS", 14))),
        # Request bodies: MAX_CONTENT_LENGTH everywhere, UPLOAD_MAX_CONTENT_LENGTH on views marked
        # @large_upload (web/security.py: file uploads and imports). Both answer 413 beyond.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "UPLOAD_MAX_CONTENT_LENGTH": int(env.get("UPLOAD_MAX_CONTENT_LENGTH", 10 * 1024 * 1024)),
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Per client address; mobile carriers in Egypt put many phones behind one address, so the
        # per-address limits are generous and the per-account ones strict (docs/security.md).
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "30 per minute;300 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour"),
        "PASSWORD_RESET_RATE_LIMIT": env.get(
            "PASSWORD_RESET_RATE_LIMIT", "5 per minute;20 per hour"
        ),
        "PASSWORD_RESET_ACCOUNT_RATE_LIMIT": env.get(
            "PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "3 per 15 minutes;6 per day"
        ),
        "WEBHOOK_RATE_LIMIT": env.get("WEBHOOK_RATE_LIMIT", "300 per minute"),
        "REGISTER_RATE_LIMIT": env.get("REGISTER_RATE_LIMIT", "5 per minute;30 per hour"),
        "SIGNUP_RATE_LIMIT": env.get("SIGNUP_RATE_LIMIT", "30 per minute"),
        # Retention (docs/privacy.md): days to keep SMS/WhatsApp messages and the documents of
        # expired or rejected credentials; 0 keeps them. The worker purges once a day.
        "MESSAGE_RETENTION_DAYS": int(env.get("MESSAGE_RETENTION_DAYS", 365)),
        "DOCUMENT_RETENTION_DAYS": int(env.get("DOCUMENT_RETENTION_DAYS", 365)),
        "SHIFTS_AT_RISK_HOURS": int(env.get("SHIFTS_AT_RISK_HOURS", 72)),
        "SERIES_MAX_WEEKS": int(env.get("SERIES_MAX_WEEKS", 26)),
        "MIN_REST_MINUTES": int(env.get("MIN_REST_MINUTES", 30)),
        "MATCHER_THREADS": int(env["MATCHER_THREADS"]) if env.get("MATCHER_THREADS") else None,
        "WORKER_POLL_SECONDS": float(env.get("WORKER_POLL_SECONDS", 2)),
        "REPLACEMENT_MIN_NOTICE_HOURS": float(env.get("REPLACEMENT_MIN_NOTICE_HOURS", 2)),
        # CSV/Excel imports (docs/import-export.md).
        "IMPORT_MAX_ROWS": int(env.get("IMPORT_MAX_ROWS", 1000)),
        "IMPORT_MAX_BYTES": int(env.get("IMPORT_MAX_BYTES", 1024 * 1024)),
        "IMPORT_TTL_HOURS": int(env.get("IMPORT_TTL_HOURS", 24)),
        # Attendance (docs/attendance.md).
        "ATTENDANCE_OPENS_MINUTES": int(env.get("ATTENDANCE_OPENS_MINUTES", 60)),
        "ATTENDANCE_CLOSES_MINUTES": int(env.get("ATTENDANCE_CLOSES_MINUTES", 120)),
        "NO_SHOW_LOOKBACK_DAYS": int(env.get("NO_SHOW_LOOKBACK_DAYS", 365)),
        "MATCHER_WEIGH_NO_SHOWS": _bool(env.get("MATCHER_WEIGH_NO_SHOWS"), False),
        "PREFERRED_URL_SCHEME": "https" if not (development or testing) else "http",
        # SMS and WhatsApp (docs/sms.md).
        "SMS_BACKEND": env.get("SMS_BACKEND", "console"),
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN"),
        "TWILIO_FROM": env.get("TWILIO_FROM"),
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID"),
        "TWILIO_WHATSAPP_FROM": env.get("TWILIO_WHATSAPP_FROM"),
        "TWILIO_WHATSAPP_TEMPLATES": json.loads(env.get("TWILIO_WHATSAPP_TEMPLATES") or "{}"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL"),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", 0)),
        "SMS_MAX_ATTEMPTS": int(env.get("SMS_MAX_ATTEMPTS", 5)),
        "SMS_REMINDER_HOURS": env.get("SMS_REMINDER_HOURS", "24,2"),
        "SMS_SEGMENT_PRICE": float(env.get("SMS_SEGMENT_PRICE", 0.1)),
        "SMS_PRICE_CURRENCY": env.get("SMS_PRICE_CURRENCY", "USD"),
        "SMS_VERIFY_RATE_LIMIT": env.get("SMS_VERIFY_RATE_LIMIT", "3 per 10 minutes;10 per day"),
        # Email (password reset links): console logs them; smtp sends (docs/security.md).
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "console"),
        "MAIL_FROM": env.get("MAIL_FROM"),
        "MAIL_SMTP_HOST": env.get("MAIL_SMTP_HOST"),
        "MAIL_SMTP_PORT": int(env.get("MAIL_SMTP_PORT", 587)),
        "MAIL_SMTP_USER": env.get("MAIL_SMTP_USER"),
        "MAIL_SMTP_PASSWORD": env.get("MAIL_SMTP_PASSWORD"),
        "PASSWORD_RESET_MINUTES": int(env.get("PASSWORD_RESET_MINUTES", 30)),
        "SMS_DIGEST_DAY": env.get("SMS_DIGEST_DAY", "sat"),
        "SMS_DIGEST_HOUR": int(env.get("SMS_DIGEST_HOUR", 9)),
        # Uploaded files (docs/credentials.md): outside the web root, by default
        # <instance>/uploads; per-kind size limits in bytes, e.g. {"credential_document": 2097152}.
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER"),
        "UPLOAD_LIMITS": json.loads(env.get("UPLOAD_LIMITS") or "{}"),
        "CREDENTIAL_REMINDER_DAYS": env.get("CREDENTIAL_REMINDER_DAYS", "30,7"),
        # The service guide's map (docs/dashboards.md): a tile URL template such as
        # https://tile.example.org/{z}/{x}/{y}.png and its attribution; unset: markers on a plain
        # background, no tiles. The CSP lets images come from its host (web/security.py).
        "MAP_TILE_URL": env.get("MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": env.get("MAP_TILE_ATTRIBUTION", ""),
        "MAP_MAX_ZOOM": int(env.get("MAP_MAX_ZOOM", 18)),
    }
    config.update(overrides)
    if config["SECRET_KEY"] is None:
        if development or config.get("TESTING"):
            config["SECRET_KEY"] = "dev-only-secret-key-not-for-production"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "value (for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set APP_ENV=development for local use."
            )
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    return config


def normalise_database_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` URLs to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
