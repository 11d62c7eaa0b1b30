"""Locale choice (user, session, Accept-Language), text direction and bilingual field helpers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale

from web.text import ascii_digits  # noqa: F401  (re-exported: SMS modules import it from here)

SUPPORTED = ("ar", "en")
DEFAULT = "ar"


def select_locale() -> str:
    """Choose the locale: the user's stored choice, then the session, then Accept-Language."""
    if not has_request_context():
        return DEFAULT
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in SUPPORTED:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in SUPPORTED:
        return chosen
    return request.accept_languages.best_match(SUPPORTED) or DEFAULT


def current_language() -> str:
    """Return the active language code, ``ar`` or ``en``."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None and locale.language in SUPPORTED else DEFAULT


def text_direction(language: str | None = None) -> str:
    """Return ``rtl`` or ``ltr`` for a language, from Babel's character order."""
    return Locale.parse(language or current_language()).text_direction


def list_separator() -> str:
    """The comma between items of a list in the active language: Arabic uses U+060C."""
    return "\u060c " if current_language() == "ar" else ", "


def localized(text_ar: str | None, text_en: str | None) -> str:
    """Pick the Arabic or English text for the active language, falling back to the other."""
    if current_language() == "en":
        return text_en or text_ar or ""
    return text_ar or text_en or ""


def zone(name: str | None = None) -> ZoneInfo:
    """Return a zone by name, defaulting to the configured one (Africa/Cairo)."""
    return ZoneInfo(name or current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo"))


def to_local(moment: datetime, zone_name: str | None = None) -> datetime:
    """Convert an aware datetime to a zone for display."""
    return moment.astimezone(zone(zone_name))


def format_local(moment: datetime | None, zone_name: str | None = None, fmt: str = "medium") -> str:
    """Format an aware datetime in a zone and the active locale (e.g. a shift's start)."""
    if moment is None:
        return ""
    from babel.dates import format_datetime

    return format_datetime(moment, fmt, tzinfo=zone(zone_name), locale=get_locale() or DEFAULT)


def format_local_date(moment: datetime, zone_name: str | None = None, fmt: str = "full") -> str:
    """Format the local calendar day of an aware datetime in the active locale."""
    from babel.dates import format_date

    return format_date(to_local(moment, zone_name).date(), fmt, locale=get_locale() or DEFAULT)


def format_local_time(moment: datetime, zone_name: str | None = None) -> str:
    """Format the local time of day of an aware datetime in the active locale."""
    from babel.dates import format_time

    return format_time(to_local(moment, zone_name), "short", locale=get_locale() or DEFAULT)


def format_km(km: float) -> str:
    """A distance in km with one decimal, in the active locale."""
    from flask_babel import format_decimal, gettext

    return gettext("%(km)s km", km=format_decimal(round(km, 1), format="#,##0.0"))
