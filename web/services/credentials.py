"""Accreditation: volunteers' credentials, their documents, verification, expiry and reminders.

A credential counts (for sign-up, "shifts I can do", the waitlist and the matcher) only while it
is verified and not expired: ``expires_on`` is its last valid day, in the volunteer's zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from matcher import model as m
from web.extensions import db
from web.models import (
    CredentialType,
    OutboundMessage,
    Shift,
    User,
    VolunteerCredential,
    VolunteerProfile,
    shift_credential_requirement,
    utcnow,
)
from web.services import uploads
from web.services.audit import record
from web.services.availability import profile_zone

DOCUMENT_KIND = "credential_document"
REASON_MIN = 3
REASON_MAX = 300
MAX_PER_VOLUNTEER = 50
DEFAULT_REMINDER_DAYS = "30,7"


class CredentialError(ValueError):
    """A refused change; ``message`` is for the user, ``field`` names the form field (or None)."""

    def __init__(self, message: Any, field: str | None = None, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.status = status


# ---- reading -----------------------------------------------------------------------------------


def credential_types(*, active_only: bool = True) -> list[CredentialType]:
    """Credential types, by name in the active language."""
    query = sa.select(CredentialType)
    if active_only:
        query = query.where(CredentialType.active.is_(True))
    return sorted(db.session.scalars(query), key=lambda t: t.name)


def local_today(profile: VolunteerProfile | None, now: datetime | None = None) -> date:
    now = now or utcnow()
    if profile is None:
        return now.astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    return now.astimezone(profile_zone(profile)).date()


def status_of(credential: VolunteerCredential, today: date) -> str:
    """pending, verified, rejected or expired (verified but past its last valid day)."""
    if credential.status == "verified" and not credential.is_valid_on(today):
        return "expired"
    return credential.status


STATUS_LABELS = {
    "pending": _l("Waiting for verification"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired (no longer counts)"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _valid_clause(on: date) -> Any:
    return sa.and_(
        VolunteerCredential.status == "verified",
        sa.or_(VolunteerCredential.expires_on.is_(None), VolunteerCredential.expires_on >= on),
    )


def verified_credential_codes(profile: VolunteerProfile, on: date) -> set[str]:
    """Codes of the credential types the volunteer holds verified and unexpired on ``on``."""
    return set(
        db.session.scalars(
            sa.select(CredentialType.code)
            .join(VolunteerCredential, VolunteerCredential.credential_type_id == CredentialType.id)
            .where(VolunteerCredential.volunteer_id == profile.user_id, _valid_clause(on))
        )
    )


def expiry_moment(expires_on: date | None, zone: ZoneInfo) -> datetime | None:
    """The instant a credential stops counting: midnight after its last valid day, local."""
    if expires_on is None:
        return None
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def credentials_of(user_ids: Iterable[int], on: date) -> dict[int, list[tuple[str, date | None]]]:
    """Per volunteer, the (code, last valid day) of each credential valid on ``on`` (one query)."""
    ids = list(set(user_ids))
    found: dict[int, list[tuple[str, date | None]]] = defaultdict(list)
    if not ids:
        return found
    rows = db.session.execute(
        sa.select(
            VolunteerCredential.volunteer_id, CredentialType.code, VolunteerCredential.expires_on
        )
        .join(CredentialType, CredentialType.id == VolunteerCredential.credential_type_id)
        .where(VolunteerCredential.volunteer_id.in_(ids), _valid_clause(on))
        .order_by(VolunteerCredential.volunteer_id, CredentialType.code)
    )
    for user_id, code, expires_on in rows:
        found[user_id].append((code, expires_on))
    return found


def matcher_credentials(
    held: Sequence[tuple[str, date | None]], zone: ZoneInfo
) -> tuple[m.Credential, ...]:
    """The matcher's credentials, one per code (the latest expiry wins; None = never expires)."""
    best: dict[str, datetime | None] = {}
    for code, expires_on in held:
        moment = expiry_moment(expires_on, zone)
        known = best.get(code)
        if code in best and (known is None or (moment is not None and moment <= known)):
            continue
        best[code] = moment
    return tuple(m.Credential(name=code, expires=best[code]) for code in sorted(best))


def credentials_for_profile(profile: VolunteerProfile, on: date) -> tuple[m.Credential, ...]:
    """The volunteer's valid credentials as the matcher sees them."""
    held = credentials_of([profile.user_id], on).get(profile.user_id, [])
    return matcher_credentials(held, profile_zone(profile))


def matcher_credential_entries(
    held: Sequence[tuple[str, date | None]], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The v1 ``volunteers[].credentials`` entries."""
    return [
        {"name": c.name, "expires": c.expires.isoformat() if c.expires else None}
        for c in matcher_credentials(held, zone)
    ]


def required_codes(shift_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Per shift, the codes of the credential types it requires (one query)."""
    ids = list(set(shift_ids))
    found: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(shift_credential_requirement.c.shift_id, CredentialType.code)
        .join(
            CredentialType, CredentialType.id == shift_credential_requirement.c.credential_type_id
        )
        .where(shift_credential_requirement.c.shift_id.in_(ids))
    )
    for shift_id, code in rows:
        found[shift_id].add(code)
    return {shift_id: frozenset(codes) for shift_id, codes in found.items()}


def required_types(shift: Shift) -> list[CredentialType]:
    """The credential types a shift requires: its own and its programme's (if any)."""
    from web.services import programme_access

    types = list(shift.required_credentials)
    codes = {
        code
        for code in programme_access.required_for_shift(shift)
        if not programme_access.is_cohort_credential(code)
    } - {t.code for t in types}
    if codes:
        types += db.session.scalars(
            sa.select(CredentialType).where(CredentialType.code.in_(sorted(codes)))
        ).all()
    return types


def missing_for(profile: VolunteerProfile | None, shift: Shift) -> list[CredentialType]:
    """The credential types ``shift`` requires that the volunteer lacks at its start."""
    required = required_types(shift)
    if not required or profile is None:
        return required
    zone = profile_zone(profile)
    held = credentials_for_profile(profile, shift.starts_at.astimezone(zone).date())
    valid = {c.name for c in held if c.expires is None or c.expires > shift.starts_at}
    return [t for t in required if t.code not in valid]


def missing_texts(profile: VolunteerProfile | None, shift: Shift) -> list[str]:
    """'This shift needs a verified First-aid certificate...' for each missing credential."""
    return [
        str(
            _l(
                "This shift needs a verified, unexpired “%(name)s”: add it on your "
                "credentials page and wait for a coordinator to verify it.",
                name=t.name,
            )
        )
        for t in missing_for(profile, shift)
    ]


def volunteer_credentials(user: User) -> list[VolunteerCredential]:
    """The volunteer's credentials, newest first."""
    return list(
        db.session.scalars(
            sa.select(VolunteerCredential)
            .where(VolunteerCredential.volunteer_id == user.id)
            .options(joinedload(VolunteerCredential.credential_type))
            .order_by(VolunteerCredential.created_at.desc(), VolunteerCredential.id.desc())
        )
    )


# ---- who may see and review ------------------------------------------------------------------


def in_scope(user: User, volunteer: User) -> bool:
    """Coordinators (in the volunteer's governorate, or national) and admins."""
    if user.role == "admin":
        return True
    if user.role != "coordinator":
        return False
    scope = user.governorate_ids()
    if scope is None:
        return True
    profile = volunteer.profile
    return profile is not None and profile.governorate_id in scope


def can_view(user: User | None, credential: VolunteerCredential) -> bool:
    """The owner, and coordinators or admins whose scope covers the owner; never managers."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.id == credential.volunteer_id:
        return True
    return in_scope(user, credential.volunteer)


def review_queue(user: User, *, limit: int = 200) -> list[VolunteerCredential]:
    """Pending credentials the user may review, oldest first."""
    if user.role not in ("coordinator", "admin"):
        return []
    query = (
        sa.select(VolunteerCredential)
        .join(User, User.id == VolunteerCredential.volunteer_id)
        .where(VolunteerCredential.status == "pending", User.active.is_(True))
        .options(
            joinedload(VolunteerCredential.credential_type),
            joinedload(VolunteerCredential.volunteer),
            joinedload(VolunteerCredential.document),
        )
        .order_by(VolunteerCredential.created_at, VolunteerCredential.id)
        .limit(limit)
    )
    scope = user.governorate_ids()
    if scope is not None:
        query = query.join(VolunteerProfile, VolunteerProfile.user_id == User.id).where(
            VolunteerProfile.governorate_id.in_(sorted(scope))
        )
    return list(db.session.scalars(query).unique())


# ---- changes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialInput:
    """A credential the volunteer declares (validated by ``add_credential``)."""

    credential_type_id: int | None
    issued_on: date | None
    expires_on: date | None


def _format_day(day: date) -> str:
    return format_date(day, "medium", locale=get_locale() or "ar")


def add_credential(
    user: User, data: CredentialInput, document: Any, *, now: datetime | None = None
) -> VolunteerCredential:
    """Declare a credential with its document; it waits for a coordinator's verification.

    Everything is checked before anything is written; the document is stored by the uploads
    service and removed again if the transaction does not commit.
    """
    if user.role != "volunteer":
        raise CredentialError(_l("Only volunteers can add credentials."), status=403)
    today = local_today(user.profile, now)
    kind = None
    if data.credential_type_id is not None:
        kind = db.session.get(CredentialType, data.credential_type_id)
    if kind is None or not kind.active:
        raise CredentialError(_l("Choose a credential from the list."), "credential_type")
    if data.issued_on is None:
        raise CredentialError(_l("Enter a date as YYYY-MM-DD."), "issued_on")
    if data.issued_on > today:
        raise CredentialError(_l("The issue date cannot be in the future."), "issued_on")
    if data.issued_on < date(1950, 1, 1):
        raise CredentialError(_l("Check the issue date."), "issued_on")
    if data.expires_on is not None:
        if data.expires_on < data.issued_on:
            raise CredentialError(_l("The expiry date must be after the issue date."), "expires_on")
        if data.expires_on < today:
            raise CredentialError(
                _l("This credential has already expired; add the renewed one."), "expires_on"
            )
        if data.expires_on > today + timedelta(days=365 * 30):
            raise CredentialError(_l("Check the expiry date."), "expires_on")
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(VolunteerCredential)
        .where(VolunteerCredential.volunteer_id == user.id)
    )
    if (count or 0) >= MAX_PER_VOLUNTEER:
        raise CredentialError(
            _l("You have reached the maximum number of credentials. Remove an old one first.")
        )
    try:
        upload = uploads.save_upload(document, DOCUMENT_KIND, owner=user)
    except uploads.UploadError as exc:
        raise CredentialError(exc.message, "document") from exc
    credential = VolunteerCredential(
        volunteer_id=user.id,
        credential_type_id=kind.id,
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        status="pending",
        document=upload,
        rejection_reason="",
    )
    db.session.add(credential)
    db.session.flush()
    record(
        user,
        "credential.add",
        "volunteer_credential",
        credential.id,
        credential_type=kind.code,
        issued_on=data.issued_on.isoformat(),
        expires_on=data.expires_on.isoformat() if data.expires_on else None,
        document_id=upload.id,
        content_type=upload.content_type,
        size=upload.size,
    )
    db.session.commit()
    return credential


def remove_credential(user: User, credential: VolunteerCredential) -> None:
    """The volunteer removes one of their credentials (and its document)."""
    if credential.volunteer_id != user.id:
        raise CredentialError(_l("This credential is not yours."), status=403)
    record(
        user,
        "credential.remove",
        "volunteer_credential",
        credential.id,
        credential_type=credential.credential_type.code,
        status=credential.status,
    )
    document = credential.document
    db.session.delete(credential)
    if document is not None:
        uploads.delete_upload(document)
    db.session.commit()


def _lock(credential_id: int) -> VolunteerCredential | None:
    query = sa.select(VolunteerCredential).where(VolunteerCredential.id == credential_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def _reviewable(actor: User, credential_id: int) -> VolunteerCredential:
    credential = _lock(credential_id)
    if credential is None:
        raise CredentialError(_l("This credential no longer exists."), status=404)
    if not in_scope(actor, credential.volunteer):
        raise CredentialError(_l("You may not review this credential."), status=403)
    if credential.status != "pending":
        raise CredentialError(_l("This credential was already reviewed."), status=409)
    return credential


def verify(
    actor: User, credential: VolunteerCredential, *, now: datetime | None = None
) -> VolunteerCredential:
    """A coordinator in scope confirms the document: the credential counts from now on."""
    now = now or utcnow()
    try:
        credential = _reviewable(actor, credential.id)
    except CredentialError:
        db.session.rollback()
        raise
    credential.status = "verified"
    credential.reviewed_by_id = actor.id
    credential.reviewed_at = now
    credential.rejection_reason = ""
    record(
        actor,
        "credential.verify",
        "volunteer_credential",
        credential.id,
        volunteer_id=credential.volunteer_id,
        credential_type=credential.credential_type.code,
    )
    db.session.commit()
    return credential


def reject(
    actor: User, credential: VolunteerCredential, reason: str, *, now: datetime | None = None
) -> VolunteerCredential:
    """A coordinator in scope refuses the document, with a reason the volunteer sees."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise CredentialError(_l("Say why, so the volunteer can fix it."), "reason")
    if len(reason) > REASON_MAX:
        raise CredentialError(
            _l("Keep the reason under %(max)s characters.", max=REASON_MAX), "reason"
        )
    try:
        credential = _reviewable(actor, credential.id)
    except CredentialError:
        db.session.rollback()
        raise
    credential.status = "rejected"
    credential.reviewed_by_id = actor.id
    credential.reviewed_at = now
    credential.rejection_reason = reason
    record(
        actor,
        "credential.reject",
        "volunteer_credential",
        credential.id,
        volunteer_id=credential.volunteer_id,
        credential_type=credential.credential_type.code,
        reason=reason,
    )
    db.session.commit()
    return credential


def set_shift_requirements(shift: Shift, credential_type_ids: Iterable[int]) -> list[str]:
    """Make ``shift`` require exactly these credential types (in the caller's transaction)."""
    ids = sorted(set(credential_type_ids))
    kinds = list(db.session.scalars(sa.select(CredentialType).where(CredentialType.id.in_(ids))))
    if len(kinds) != len(ids):
        raise CredentialError(_l("Choose credentials from the list."), "required_credentials")
    shift.required_credentials = sorted(kinds, key=lambda t: t.id)
    return [t.code for t in shift.required_credentials]


def check_type_ids(credential_type_ids: Iterable[int]) -> bool:
    """Every id names an existing credential type."""
    ids = set(credential_type_ids)
    if not ids:
        return True
    found = db.session.scalar(
        sa.select(sa.func.count()).select_from(CredentialType).where(CredentialType.id.in_(ids))
    )
    return found == len(ids)


# ---- expiry reminders --------------------------------------------------------------------------


def reminder_days() -> list[int]:
    """Days before expiry a reminder goes out (config CREDENTIAL_REMINDER_DAYS, e.g. "30,7")."""
    raw = str(current_app.config.get("CREDENTIAL_REMINDER_DAYS", DEFAULT_REMINDER_DAYS))
    days = {int(part) for part in raw.split(",") if part.strip().isdigit()}
    return sorted((d for d in days if d > 0), reverse=True)


def queue_expiry_reminders(now: datetime | None = None) -> int:
    """One SMS per credential per threshold as its expiry nears (idempotent: keys in the outbox).

    Only the tightest threshold that applies is sent (a credential found 5 days before expiry
    gets the 7-day reminder, not also the 30-day one); nothing is sent when the volunteer
    already holds a verified credential of the same type that lasts longer.
    """
    from web.services.messaging import enqueue

    now = now or utcnow()
    thresholds = reminder_days()
    if not thresholds:
        return 0
    zone = ZoneInfo(current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo"))
    today = now.astimezone(zone).date()
    rows = db.session.scalars(
        sa.select(VolunteerCredential)
        .join(User, User.id == VolunteerCredential.volunteer_id)
        .where(
            VolunteerCredential.status == "verified",
            VolunteerCredential.expires_on.is_not(None),
            VolunteerCredential.expires_on >= today - timedelta(days=1),
            VolunteerCredential.expires_on <= today + timedelta(days=max(thresholds) + 1),
            User.active.is_(True),
        )
        .options(
            joinedload(VolunteerCredential.credential_type),
            joinedload(VolunteerCredential.volunteer),
        )
        .order_by(VolunteerCredential.id)
    ).unique()
    queued = 0
    for credential in rows:
        user = credential.volunteer
        assert credential.expires_on is not None
        local = local_today(user.profile, now)
        left = (credential.expires_on - local).days
        if left < 0:
            continue
        applicable = [d for d in thresholds if left <= d]
        if not applicable:
            continue
        threshold = min(applicable)
        if _renewed(credential):
            continue
        key = f"credential-expiry:{credential.id}:{threshold}:{credential.expires_on.isoformat()}"
        values = {
            "name_ar": credential.credential_type.name_ar,
            "name_en": credential.credential_type.name_en,
            "expires_on": credential.expires_on.isoformat(),
            "days": left,
        }
        known = db.session.scalar(
            sa.select(OutboundMessage.id).where(OutboundMessage.idempotency_key == key)
        )
        if known is not None:
            continue
        enqueue(user, "credential_expiry", key, values, now=now)
        queued += 1
    db.session.commit()
    return queued


def _renewed(credential: VolunteerCredential) -> bool:
    assert credential.expires_on is not None
    later = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(VolunteerCredential)
        .where(
            VolunteerCredential.volunteer_id == credential.volunteer_id,
            VolunteerCredential.credential_type_id == credential.credential_type_id,
            VolunteerCredential.id != credential.id,
            VolunteerCredential.status == "verified",
            sa.or_(
                VolunteerCredential.expires_on.is_(None),
                VolunteerCredential.expires_on > credential.expires_on,
            ),
        )
    )
    return bool(later)
