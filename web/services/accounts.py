"""Accounts: sign-up, log-in, passwords, language, staff accounts and scopes, phone numbers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from web.extensions import db
from web.i18n import SUPPORTED
from web.models import STAFF_ROLES, Governorate, Institution, User, VolunteerProfile, utcnow
from web.services import audit
from web.text import ascii_digits, clean_text

log = logging.getLogger(__name__)

NAME_MAX = 120
EMAIL_MAX = 254
PASSWORD_MIN = 10
PASSWORD_MAX = 128
PAGE_SIZE = 50


class PhoneError(ValueError):
    """The text given is not a valid phone number."""


class AccountError(ValueError):
    """A rule of accounts was broken; ``field`` names the form field it belongs to, if any."""

    status = 400

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class DuplicateAccountError(AccountError):
    """The phone number or email already belongs to another account."""

    status = 409


class AuthenticationError(AccountError):
    """Logging in failed; the message never tells which part was wrong."""


# --- small checks, shared by the forms (as validators), the services and the CLI -------------


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the active user of ``"<id>.<session_version>"`` (``User.get_id``).

    ``None`` ends the session of a deactivated user and every session older than the user's last
    password change or reset (the version in the session no longer matches).
    """
    number, _, version = (user_id or "").partition(".")
    if not number.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(number))
    if user is None or not user.active or (user.session_version or 0) != int(version):
        return None
    return user


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


def check_phone(raw: str | None, *, required: bool) -> str | None:
    """Return the E.164 form of a typed phone number, or raise a user-facing ``AccountError``."""
    if not raw or not raw.strip():
        if required:
            raise AccountError(_l("Enter your mobile phone number."), "phone")
        return None
    try:
        return normalise_phone(raw)
    except PhoneError:
        raise AccountError(
            _l("This is not a valid phone number. Example: 010 1234 5678 or +20 10 1234 5678."),
            "phone",
        ) from None


def check_email(raw: str | None, *, required: bool) -> str | None:
    """Return the email in lower case (so uniqueness ignores case), or raise ``AccountError``."""
    text = clean_text(raw).lower()
    if not text:
        if required:
            raise AccountError(_l("Enter an email address."), "email")
        return None
    if len(text) > EMAIL_MAX:
        raise AccountError(_l("The email address is too long."), "email")
    local, _, domain = text.rpartition("@")
    if not local or "." not in domain or " " in text or domain.startswith("."):
        raise AccountError(_l("This is not a valid email address."), "email")
    return text


def check_full_name(raw: str | None) -> str:
    """Return the cleaned name (no invisible direction marks), or raise ``AccountError``."""
    name = " ".join(clean_text(raw).split())
    if not name:
        raise AccountError(_l("Enter your full name."), "full_name")
    if len(name) > NAME_MAX:
        raise AccountError(
            _l("The name is too long (at most %(n)s characters).", n=NAME_MAX), "full_name"
        )
    return name


def check_password(password: str | None, field: str = "password") -> str:
    """Return the password if it is acceptable as a new password, or raise ``AccountError``."""
    password = password or ""
    if len(password) < PASSWORD_MIN:
        raise AccountError(
            _l("The password must have at least %(n)s characters.", n=PASSWORD_MIN), field
        )
    if len(password) > PASSWORD_MAX:
        raise AccountError(
            _l("The password is too long (at most %(n)s characters).", n=PASSWORD_MAX), field
        )
    return password


def check_locale(locale: str | None) -> str | None:
    """Return a supported language code (``None`` allowed), or raise ``AccountError``."""
    if locale in (None, ""):
        return None
    if locale not in SUPPORTED:
        raise AccountError(_l("Choose Arabic or English."), "locale")
    return locale


def _ensure_unique(phone: str | None, email: str | None) -> None:
    if phone is not None:
        taken = db.session.execute(sa.select(User.id).where(User.phone == phone)).first()
        if taken:
            raise DuplicateAccountError(
                _l("An account with this phone number already exists. Log in instead."), "phone"
            )
    if email is not None:
        taken = db.session.execute(
            sa.select(User.id).where(sa.func.lower(User.email) == email)
        ).first()
        if taken:
            raise DuplicateAccountError(
                _l("An account with this email address already exists."), "email"
            )


def _flush_new_account(user: User) -> None:
    """Insert the new user, turning a lost race on the unique phone/email into a form error."""
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        log.info("account creation lost a uniqueness race: %s", exc.orig)
        raise DuplicateAccountError(
            _l("An account with this phone number or email address already exists.")
        ) from None


# --- volunteers ---------------------------------------------------------------------------------


def _new_volunteer(
    full_name: str,
    phone: str,
    email: str | None,
    locale: str | None,
    governorate_id: int | None,
    password: str | None = None,
) -> tuple[User, Governorate | None]:
    """Check a new volunteer's details (and password, when one is given) and build the account
    with an empty profile, not yet added to the session."""
    name = check_full_name(full_name)
    e164 = check_phone(phone, required=True)
    address = check_email(email, required=False)
    if password is not None:
        check_password(password)
    language = check_locale(locale)
    governorate = None
    if governorate_id is not None:
        governorate = db.session.get(Governorate, governorate_id)
        if governorate is None:
            raise AccountError(_l("Choose a governorate from the list."), "governorate")
    _ensure_unique(e164, address)
    user = User(
        full_name=name,
        phone=e164,
        email=address,
        role="volunteer",
        phone_verified=False,
        locale=language,
        active=True,
    )
    user.profile = VolunteerProfile(governorate=governorate, sms_consent=False)
    return user, governorate


def register_volunteer(
    *,
    full_name: str,
    phone: str,
    password: str,
    email: str | None = None,
    locale: str | None = None,
    governorate_id: int | None = None,
    sms_consent: bool = False,
) -> User:
    """Create a volunteer with an empty profile; the phone is not verified yet."""
    user, governorate = _new_volunteer(full_name, phone, email, locale, governorate_id, password)
    user.profile.sms_consent = bool(sms_consent)
    user.set_password(password)
    _flush_new_account(user)
    audit.record(
        user,
        "user.registered",
        "user",
        user.id,
        governorate=governorate.code if governorate else None,
        sms_consent=bool(sms_consent),
    )
    db.session.commit()
    return user


# An imported volunteer has no password until they set one (no hash ever matches this value).
NO_PASSWORD = "!no-password"


def has_password(user: User) -> bool:
    """False for an account created by an import that has not set a password yet."""
    return user.password_hash != NO_PASSWORD


def import_volunteer(
    actor: User,
    *,
    full_name: str,
    phone: str,
    email: str | None = None,
    locale: str | None = None,
    governorate_id: int | None = None,
    via: str = "import",
) -> User:
    """Create a volunteer from a coordinator's file: no password (they set one later).

    Same checks as ``register_volunteer``; the transaction is left open for the caller, so that
    an import writes every row or none.
    """
    user, governorate = _new_volunteer(full_name, phone, email, locale, governorate_id)
    user.password_hash = NO_PASSWORD
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.imported",
        "user",
        user.id,
        via=via,
        governorate=governorate.code if governorate else None,
    )
    return user


# --- logging in and out -------------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not anyone's password")


def find_by_login(identifier: str | None) -> User | None:
    """The user whose email or phone (typed any way) is ``identifier``, or ``None``."""
    text = clean_text(identifier)
    if not text:
        return None
    if "@" in text:
        condition = sa.func.lower(User.email) == text.lower()
    else:
        try:
            condition = User.phone == normalise_phone(text)
        except PhoneError:
            return None
    return db.session.execute(sa.select(User).where(condition)).scalar_one_or_none()


def login_key(identifier: str | None) -> str:
    """The account an identifier names, whichever way it is typed (per-account rate limits)."""
    user = find_by_login(identifier)
    if user is not None:
        return f"user:{user.id}"
    text = clean_text(identifier)[:300].lower()
    if "@" not in text:
        with contextlib.suppress(PhoneError):
            return normalise_phone(text)
    return text


def authenticate(identifier: str | None, password: str | None) -> User:
    """Check a phone-or-email and a password; mark the login; raise ``AuthenticationError``."""
    user = find_by_login(identifier)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")  # same time as a wrong password
        log.info("failed login: unknown account")
        raise AuthenticationError(_l("The phone number, email or password is not right."))
    if not user.check_password(password or ""):
        log.info("failed login: wrong password for user %s", user.id)
        raise AuthenticationError(_l("The phone number, email or password is not right."))
    if not user.active:
        log.info("refused login of deactivated user %s", user.id)
        raise AuthenticationError(
            _l("This account has been deactivated. Please contact the coordinators.")
        )
    user.last_login_at = utcnow()
    audit.record(user, "user.logged_in", "user", user.id)
    db.session.commit()
    return user


def record_logout(user: User) -> None:
    """Write the audit event of a log-out."""
    audit.record(user, "user.logged_out", "user", user.id)
    db.session.commit()


def change_password(user: User, old_password: str | None, new_password: str | None) -> None:
    """Replace the password after checking the old one."""
    if not user.check_password(old_password or ""):
        raise AccountError(_l("The current password is not right."), "old_password")
    check_password(new_password, "new_password")
    assert new_password is not None
    user.set_password(new_password)
    user.end_sessions()  # other devices are logged out; the caller logs this one in again
    audit.record(user, "user.password_changed", "user", user.id)
    db.session.commit()


def set_locale(user: User, locale: str | None) -> None:
    """Store the user's preferred language (``None``: follow the browser)."""
    language = check_locale(locale)
    if user.locale == language:
        return
    audit.record(user, "user.locale_changed", "user", user.id, old=user.locale, new=language)
    user.locale = language
    db.session.commit()


# --- staff accounts and their scopes ------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a staff member may act on: institutions (managers) or governorates (coordinators)."""

    institutions: list[Institution]
    governorates: list[Governorate]
    national: bool


def governorates_by_name() -> list[Governorate]:
    """Every governorate, sorted by its name in the active language (for select lists)."""
    return sorted(db.session.execute(sa.select(Governorate)).scalars(), key=lambda g: g.name)


def governorates_by_code(codes: Iterable[str]) -> list[Governorate]:
    """The governorates with these codes (any case); ``AccountError`` names unknown ones."""
    wanted = sorted({c.strip().upper() for c in codes if c and c.strip()})
    if not wanted:
        return []
    found = (
        db.session.execute(sa.select(Governorate).where(Governorate.code.in_(wanted)))
        .scalars()
        .all()
    )
    missing = sorted(set(wanted) - {g.code for g in found})
    if missing:
        raise AccountError(
            _l("Unknown governorate: %(codes)s", codes=", ".join(missing)), "governorates"
        )
    return sorted(found, key=lambda g: g.id)


def institutions_by_id(ids: Iterable[int]) -> list[Institution]:
    """The institutions with these ids, or ``AccountError`` naming the unknown ones."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = db.session.execute(sa.select(Institution).where(Institution.id.in_(wanted))).scalars()
    found_list = list(found)
    missing = sorted(set(wanted) - {i.id for i in found_list})
    if missing:
        raise AccountError(
            _l("Unknown institution: %(ids)s", ids=", ".join(map(str, missing))), "institutions"
        )
    return sorted(found_list, key=lambda i: i.id)


def check_scope(
    role: str,
    institution_ids: Sequence[int] = (),
    governorate_codes: Sequence[str] = (),
    national: bool = False,
) -> Scope:
    """Scope rules: a manager has institutions; a coordinator is national or has governorates."""
    if role not in STAFF_ROLES:
        raise AccountError(_l("Choose a staff role."), "role")
    institutions = institutions_by_id(institution_ids)
    governorates = governorates_by_code(governorate_codes)
    if role == "manager":
        if not institutions:
            raise AccountError(_l("A manager needs at least one institution."), "institutions")
        if governorates or national:
            raise AccountError(
                _l("A manager is bound to institutions, not to governorates."), "governorates"
            )
        return Scope(institutions, [], False)
    if institutions:
        raise AccountError(_l("Only managers are bound to institutions."), "institutions")
    if role == "coordinator":
        if national and governorates:
            raise AccountError(
                _l("Choose either national scope or governorates, not both."), "governorates"
            )
        if not national and not governorates:
            raise AccountError(
                _l("A coordinator needs national scope or at least one governorate."),
                "governorates",
            )
        return Scope([], governorates, bool(national))
    if governorates or national:
        raise AccountError(_l("An admin sees the whole country; leave the scope empty."), "role")
    return Scope([], [], False)


def _describe_scope(scope: Scope) -> dict[str, Any]:
    return {
        "institutions": [i.id for i in scope.institutions],
        "governorates": [g.code for g in scope.governorates],
        "national": scope.national,
    }


def create_staff(
    actor: User | None,
    *,
    role: str,
    full_name: str,
    email: str,
    password: str,
    phone: str | None = None,
    institution_ids: Sequence[int] = (),
    governorate_codes: Sequence[str] = (),
    national: bool = False,
    locale: str | None = None,
    via: str = "web",
) -> User:
    """Create a manager, coordinator or admin account with its scope (the page and the CLI)."""
    name = check_full_name(full_name)
    address = check_email(email, required=True)
    e164 = check_phone(phone, required=False)
    check_password(password)
    language = check_locale(locale)
    scope = check_scope(role, institution_ids, governorate_codes, national)
    _ensure_unique(e164, address)
    user = User(
        full_name=name,
        email=address,
        phone=e164,
        role=role,
        phone_verified=False,
        locale=language,
        active=True,
        national_scope=scope.national,
    )
    user.set_password(password)
    user.managed_institutions = scope.institutions
    user.governorates = scope.governorates
    _flush_new_account(user)
    audit.record(
        actor, "user.staff_created", "user", user.id, role=role, via=via, **_describe_scope(scope)
    )
    db.session.commit()
    return user


def update_staff_scope(
    actor: User | None,
    user: User,
    *,
    institution_ids: Sequence[int] = (),
    governorate_codes: Sequence[str] = (),
    national: bool = False,
) -> None:
    """Replace a manager's institutions or a coordinator's governorates / national scope."""
    if user.role not in ("manager", "coordinator"):
        raise AccountError(_l("Only managers and coordinators have a scope to edit."))
    scope = check_scope(user.role, institution_ids, governorate_codes, national)
    before = _describe_scope(
        Scope(list(user.managed_institutions), list(user.governorates), user.national_scope)
    )
    user.managed_institutions = scope.institutions
    user.governorates = scope.governorates
    user.national_scope = scope.national
    audit.record(
        actor, "user.scope_changed", "user", user.id, before=before, after=_describe_scope(scope)
    )
    db.session.commit()


def set_active(actor: User | None, user: User, active: bool) -> None:
    """Deactivate (the user can no longer log in; open sessions end) or reactivate an account."""
    if actor is not None and actor.id == user.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    action = "user.reactivated" if active else "user.deactivated"
    audit.record(actor, action, "user", user.id)
    db.session.commit()


def search_users(
    role: str | None = None, query: str | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> Any:
    """A page of users (newest first), filtered by role and by a name, email or phone search."""
    statement = sa.select(User).order_by(User.id.desc())
    if role:
        statement = statement.where(User.role == role)
    text = clean_text(query)
    if text:
        conditions = [
            User.full_name.icontains(text, autoescape=True),
            User.email.icontains(text, autoescape=True),
        ]
        digits = ascii_digits(text).replace(" ", "").lstrip("+0")
        if digits.isdigit():
            conditions.append(User.phone.contains(digits, autoescape=True))
            with contextlib.suppress(PhoneError):
                conditions.append(User.phone == normalise_phone(text))
        statement = statement.where(sa.or_(*conditions))
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)
