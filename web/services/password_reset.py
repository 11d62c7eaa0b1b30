"""Forgotten passwords: a code by SMS or a link by email, hashed, single-use, expiring."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import PasswordReset, User, utcnow
from web.services import audit, mail, messaging
from web.services.accounts import AccountError, check_password, find_by_login
from web.text import ascii_digits

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CODE_DIGITS = 6


def minutes() -> int:
    """How long a code or link works (PASSWORD_RESET_MINUTES, 30 by default)."""
    return int(current_app.config.get("PASSWORD_RESET_MINUTES", 30))


def _hash(secret: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"password-reset:{secret}".encode(), hashlib.sha256).hexdigest()


def _code_secret(user_id: int, code: str) -> str:
    return f"{user_id}:{code}"


def wrong_code_error() -> AccountError:
    """One message for every failure, so nothing tells whether the account exists."""
    return AccountError(_l("This code is not right or has expired. Ask for a new one."), "code")


def request_reset(identifier: str | None, now: datetime | None = None) -> None:
    """Send a reset code (typed a phone) or link (typed an email); silent for unknown accounts."""
    now = now or utcnow()
    user = find_by_login(identifier)
    if user is None or not user.active:
        log.info("password reset asked for an unknown or inactive account")
        return
    by_email = "@" in (identifier or "")
    if not by_email and not user.phone:
        return
    # Earlier unused requests stop working: only the newest code or link is valid.
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .where(PasswordReset.expires_at > now)
        .values(expires_at=now)
    )
    expires = now + timedelta(minutes=minutes())
    if by_email:
        token = secrets.token_urlsafe(32)
        reset = PasswordReset(
            user_id=user.id,
            channel="email",
            secret_hash=_hash(token),
            attempts=0,
            created_at=now,
            expires_at=expires,
        )
        db.session.add(reset)
        db.session.flush()
        _send_link(user, token)
    else:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        reset = PasswordReset(
            user_id=user.id,
            channel="sms",
            secret_hash=_hash(_code_secret(user.id, code)),
            attempts=0,
            created_at=now,
            expires_at=expires,
        )
        db.session.add(reset)
        db.session.flush()
        messaging.enqueue(
            user,
            "verification",
            f"password-reset:{reset.id}",
            {"code": code, "minutes": minutes()},
            now=now,
        )
    audit.record(user, "user.password_reset_requested", "user", user.id, channel=reset.channel)
    db.session.commit()


def _send_link(user: User, token: str) -> None:
    link = url_for("auth.reset_with_link", token=token, _external=True)
    locale = messaging.recipient_locale(user)

    def texts() -> tuple[str, str]:
        subject = _("Reset your password")
        body = _(
            "Someone (we hope you) asked to reset the password of your volunteer matching "
            "account. Open this link within %(num)d minutes to choose a new one:\n\n%(link)s\n\n"
            "If it was not you, ignore this email: your password stays the same.",
            num=minutes(),
            link=link,
        )
        return str(subject), str(body)

    subject, body = messaging.in_locale(locale, texts)
    assert user.email is not None
    mail.send(user.email, subject, body)


def _finish(user: User, reset: PasswordReset, password: str, now: datetime) -> User:
    user.set_password(password)
    user.end_sessions()  # every session and remember-me cookie of the account stops working
    reset.used_at = now
    audit.record(user, "user.password_reset", "user", user.id, channel=reset.channel)
    db.session.commit()
    return user


def reset_with_code(
    identifier: str | None, code: str | None, password: str | None, now: datetime | None = None
) -> User:
    """Set a new password with the code sent by SMS; wrong tries count against the code."""
    now = now or utcnow()
    check_password(password)
    assert password is not None
    user = find_by_login(identifier)
    reset = None
    if user is not None and user.active:
        reset = db.session.scalars(
            sa.select(PasswordReset)
            .where(PasswordReset.user_id == user.id, PasswordReset.channel == "sms")
            .order_by(PasswordReset.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
    if reset is None or user is None or reset.used_at is not None or reset.expires_at <= now:
        raise wrong_code_error()
    if reset.attempts >= MAX_ATTEMPTS:
        raise wrong_code_error()
    typed = "".join(ascii_digits(code or "").split())
    reset.attempts += 1
    if not hmac.compare_digest(_hash(_code_secret(user.id, typed)), reset.secret_hash):
        audit.record(user, "user.password_reset_wrong_code", "user", user.id)
        db.session.commit()
        raise wrong_code_error()
    return _finish(user, reset, password, now)


def link_reset(token: str, now: datetime | None = None) -> PasswordReset | None:
    """The unused, unexpired email reset this link's token belongs to, or ``None``."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    reset = db.session.scalars(
        sa.select(PasswordReset).where(
            PasswordReset.secret_hash == _hash(token), PasswordReset.channel == "email"
        )
    ).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset


def reset_with_link(token: str, password: str | None, now: datetime | None = None) -> User:
    """Set a new password with the link sent by email (works once)."""
    now = now or utcnow()
    check_password(password)
    assert password is not None
    reset = link_reset(token, now)
    user = db.session.get(User, reset.user_id) if reset is not None else None
    if reset is None or user is None or not user.active:
        raise AccountError(_l("This link has expired or was already used. Ask for a new one."))
    # Lock the row so two tabs using the same link cannot both succeed.
    db.session.refresh(reset, with_for_update=True)
    if reset.used_at is not None:
        raise AccountError(_l("This link has expired or was already used. Ask for a new one."))
    return _finish(user, reset, password, now)
