"""Opportunities of an institution (create, edit, close) and the institution's own details."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import (
    INSTITUTION_KINDS,
    Governorate,
    Institution,
    Opportunity,
    Shift,
    Skill,
    User,
    utcnow,
)
from web.models.opportunity import OPPORTUNITY_STATUSES
from web.services.accounts import PhoneError, normalise_phone
from web.services.audit import record
from web.services.shifts import RuleError, cancel_locked, lock_shift

TITLE_MAX = 200
LONG_TEXT_MAX = 5000
COMMITMENT_MAX = 300
NAME_MAX = 200
ADDRESS_MAX = 300

_LIMITS = {
    "title_ar": TITLE_MAX,
    "title_en": TITLE_MAX,
    "description_ar": LONG_TEXT_MAX,
    "description_en": LONG_TEXT_MAX,
    "requirements_ar": LONG_TEXT_MAX,
    "requirements_en": LONG_TEXT_MAX,
    "commitment_ar": COMMITMENT_MAX,
    "commitment_en": COMMITMENT_MAX,
}


@dataclass(frozen=True)
class OpportunityText:
    """The bilingual texts of an opportunity (already cleaned by the form)."""

    title_ar: str = ""
    title_en: str = ""
    description_ar: str = ""
    description_en: str = ""
    requirements_ar: str = ""
    requirements_en: str = ""
    commitment_ar: str = ""
    commitment_en: str = ""


def _check(text: OpportunityText, skill_ids: Iterable[int], status: str) -> list[Skill]:
    errors: list[tuple[str | None, Any]] = []
    if not text.title_ar.strip() and not text.title_en.strip():
        errors.append(("title_ar", _l("Give a title in Arabic or English (both are best).")))
    for name, limit in _LIMITS.items():
        if len(getattr(text, name)) > limit:
            errors.append((name, _l("Keep this under %(max)s characters.", max=limit)))
    if status not in OPPORTUNITY_STATUSES:
        errors.append(("status", _l("Choose a status from the list.")))
    wanted = sorted(set(skill_ids))
    skills = (
        list(
            db.session.execute(
                sa.select(Skill).where(Skill.id.in_(wanted), Skill.active.is_(True))
            ).scalars()
        )
        if wanted
        else []
    )
    if len(skills) != len(wanted):
        errors.append(("skills", _l("Choose skills from the list.")))
    if errors:
        raise RuleError(errors)
    return sorted(skills, key=lambda s: s.id)


def _apply(opportunity: Opportunity, text: OpportunityText) -> None:
    for item in fields(OpportunityText):
        setattr(opportunity, item.name, getattr(text, item.name).strip())


def create_opportunity(
    actor: User,
    institution: Institution,
    text: OpportunityText,
    skill_ids: Iterable[int] = (),
    status: str = "open",
    *,
    commit: bool = True,
) -> Opportunity:
    """Create an opportunity (draft or open) at an institution (``commit=False``: caller's)."""
    if status == "closed":
        raise RuleError([("status", _l("A new opportunity is a draft or open."))])
    skills = _check(text, skill_ids, status)
    opportunity = Opportunity(institution=institution, status=status, created_by=actor)
    _apply(opportunity, text)
    opportunity.skills = skills
    db.session.add(opportunity)
    db.session.flush()
    record(
        actor,
        "opportunity.create",
        "opportunity",
        opportunity.id,
        institution_id=institution.id,
        status=status,
        skills=[s.id for s in skills],
    )
    if commit:
        db.session.commit()
    return opportunity


def upcoming_open_shifts(opportunity: Opportunity, now: datetime | None = None) -> list[Shift]:
    """Shifts of an opportunity that are open and have not started."""
    now = now or utcnow()
    return list(
        db.session.execute(
            sa.select(Shift)
            .where(
                Shift.opportunity_id == opportunity.id,
                Shift.status == "open",
                Shift.starts_at > now,
            )
            .order_by(Shift.starts_at)
        ).scalars()
    )


def update_opportunity(
    actor: User,
    opportunity: Opportunity,
    text: OpportunityText,
    skill_ids: Iterable[int],
    status: str,
    now: datetime | None = None,
) -> Opportunity:
    """Change an opportunity; setting it to closed closes it as ``close_opportunity`` does."""
    skills = _check(text, skill_ids, status)
    before = {"status": opportunity.status, "title_ar": opportunity.title_ar}
    _apply(opportunity, text)
    opportunity.skills = skills
    closing = status == "closed" and opportunity.status != "closed"
    if not closing:
        opportunity.status = status
    record(
        actor,
        "opportunity.update",
        "opportunity",
        opportunity.id,
        before=before,
        status=status,
        skills=[s.id for s in skills],
    )
    if closing:
        close_opportunity(actor, opportunity, now)
    else:
        db.session.commit()
    return opportunity


def close_opportunity(
    actor: User, opportunity: Opportunity, now: datetime | None = None
) -> list[Shift]:
    """Close an opportunity: no new shifts or sign-ups, and its upcoming shifts are cancelled."""
    now = now or utcnow()
    if opportunity.status == "closed":
        raise RuleError([(None, _l("This opportunity is already closed."))], 409)
    opportunity.status = "closed"
    cancelled = []
    # Locked in id order, the order every multi-shift transaction uses (no deadlocks).
    for shift in sorted(upcoming_open_shifts(opportunity, now), key=lambda s: s.id):
        locked = lock_shift(shift.id)
        if locked.status == "open" and locked.starts_at > now:
            cancel_locked(actor, locked, now, "opportunity closed")
            cancelled.append(locked)
    record(
        actor,
        "opportunity.close",
        "opportunity",
        opportunity.id,
        shifts_cancelled=[s.id for s in cancelled],
    )
    db.session.commit()
    return cancelled


@dataclass(frozen=True)
class InstitutionDetails:
    """What a manager may change about their institution (kind/governorate: staff above)."""

    name_ar: str
    name_en: str
    address_ar: str = ""
    address_en: str = ""
    phone: str = ""
    kind: str | None = None
    governorate_id: int | None = None


@dataclass(frozen=True)
class NewInstitution:
    """Everything an institution is created with (place: a point; zone: an IANA name)."""

    name_ar: str
    name_en: str
    kind: str
    governorate_id: int
    lat: float | None = None
    lon: float | None = None
    address_ar: str = ""
    address_en: str = ""
    phone: str = ""
    timezone: str = ""


def create_institution(actor: User, details: NewInstitution, *, commit: bool = True) -> Institution:
    """Create an institution in the actor's area; no point given: the governorate's centre."""
    errors: list[tuple[str | None, Any]] = []
    if not details.name_ar.strip() and not details.name_en.strip():
        errors.append(("name_ar", _l("Give the name in Arabic or English (both are best).")))
    for name, limit in (
        ("name_ar", NAME_MAX),
        ("name_en", NAME_MAX),
        ("address_ar", ADDRESS_MAX),
        ("address_en", ADDRESS_MAX),
    ):
        if len(getattr(details, name)) > limit:
            errors.append((name, _l("Keep this under %(max)s characters.", max=limit)))
    phone: str | None = None
    if details.phone.strip():
        try:
            phone = normalise_phone(details.phone)
        except PhoneError:
            errors.append(("phone", _l("Enter a valid phone number.")))
    if actor.role not in ("admin", "coordinator"):
        raise RuleError([(None, _l("Only coordinators and admins add institutions."))], 403)
    if details.kind not in INSTITUTION_KINDS:
        errors.append(("kind", _l("Choose a kind from the list.")))
    governorate = db.session.get(Governorate, details.governorate_id)
    scope = actor.governorate_ids()
    if governorate is None:
        errors.append(("governorate", _l("Choose a governorate from the list.")))
    elif scope is not None and governorate.id not in scope:
        errors.append(("governorate", _l("This governorate is outside your area.")))
    if (details.lat is None) != (details.lon is None):
        errors.append(("lat", _l("Give both the latitude and the longitude, or neither.")))
    if details.lat is not None and not -90 <= details.lat <= 90:
        errors.append(("lat", _l("Latitude is between -90 and 90.")))
    if details.lon is not None and not -180 <= details.lon <= 180:
        errors.append(("lon", _l("Longitude is between -180 and 180.")))
    zone_name = details.timezone.strip() or current_app.config.get(
        "DEFAULT_TIMEZONE", "Africa/Cairo"
    )
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(("timezone", _l("Unknown time zone. Example: Africa/Cairo.")))
    if errors:
        raise RuleError(errors)
    assert governorate is not None
    institution = Institution(
        kind=details.kind,
        governorate=governorate,
        name_ar=details.name_ar.strip(),
        name_en=details.name_en.strip(),
        address_ar=details.address_ar.strip(),
        address_en=details.address_en.strip(),
        lat=governorate.lat if details.lat is None else details.lat,
        lon=governorate.lon if details.lon is None else details.lon,
        timezone=zone_name,
        phone=phone,
        active=True,
    )
    db.session.add(institution)
    db.session.flush()
    record(
        actor,
        "institution.create",
        "institution",
        institution.id,
        governorate=governorate.code,
        kind=details.kind,
    )
    if commit:
        db.session.commit()
    return institution


def update_institution(
    actor: User, institution: Institution, details: InstitutionDetails
) -> Institution:
    """Change an institution's names, address and phone; kind and governorate for staff only."""
    errors: list[tuple[str | None, Any]] = []
    if not details.name_ar.strip() and not details.name_en.strip():
        errors.append(("name_ar", _l("Give the name in Arabic or English (both are best).")))
    for name, limit in (
        ("name_ar", NAME_MAX),
        ("name_en", NAME_MAX),
        ("address_ar", ADDRESS_MAX),
        ("address_en", ADDRESS_MAX),
    ):
        if len(getattr(details, name)) > limit:
            errors.append((name, _l("Keep this under %(max)s characters.", max=limit)))
    phone: str | None = None
    if details.phone.strip():
        try:
            phone = normalise_phone(details.phone)
        except PhoneError:
            errors.append(("phone", _l("Enter a valid phone number.")))
    staff = actor.role in ("admin", "coordinator")
    changes_scope = (details.kind is not None and details.kind != institution.kind) or (
        details.governorate_id is not None and details.governorate_id != institution.governorate_id
    )
    if changes_scope and not staff:
        raise RuleError([(None, _l("Only coordinators and admins change the kind or place."))], 403)
    if details.kind is not None and details.kind not in INSTITUTION_KINDS:
        errors.append(("kind", _l("Choose a kind from the list.")))
    if details.governorate_id is not None:
        governorate = db.session.get(Governorate, details.governorate_id)
        scope = actor.governorate_ids()
        if governorate is None:
            errors.append(("governorate", _l("Choose a governorate from the list.")))
        elif scope is not None and governorate.id not in scope:
            errors.append(("governorate", _l("This governorate is outside your area.")))
    if errors:
        raise RuleError(errors)
    before = {
        "name_ar": institution.name_ar,
        "name_en": institution.name_en,
        "phone": institution.phone,
        "kind": institution.kind,
        "governorate_id": institution.governorate_id,
    }
    institution.name_ar = details.name_ar.strip()
    institution.name_en = details.name_en.strip()
    institution.address_ar = details.address_ar.strip()
    institution.address_en = details.address_en.strip()
    institution.phone = phone
    if staff and details.kind is not None:
        institution.kind = details.kind
    if staff and details.governorate_id is not None:
        institution.governorate_id = details.governorate_id
    record(actor, "institution.update", "institution", institution.id, before=before)
    db.session.commit()
    return institution
