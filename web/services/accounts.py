"""Accounts: loading users for sessions, creating users, and phone number normalisation."""

from __future__ import annotations

import phonenumbers
from flask import current_app

from web.extensions import db
from web.i18n import ascii_digits
from web.models import User


class PhoneError(ValueError):
    """The text given is not a valid phone number."""


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user with this id, or ``None``."""
    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as E.164 (default region EG); Arabic-Indic and Persian digits accepted."""
    text = ascii_digits(raw or "").strip()
    for mark in ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2069"):
        text = text.replace(mark, "")
    if text.startswith("00"):
        text = "+" + text[2:]
    region = region or current_app.config.get("DEFAULT_PHONE_REGION", "EG")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("invalid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
