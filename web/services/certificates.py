"""Hours certificates: issued from the ledger with a verification code, and found again."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.i18n import to_local
from web.models import (
    CERTIFICATE_LANGUAGES,
    Certificate,
    Cohort,
    HoursEntry,
    Institution,
    Opportunity,
    Programme,
    Shift,
    User,
    utcnow,
)
from web.services import audit

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed is not misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 16  # 80 random bits
SNAPSHOT_VERSION = 1


class CertificateError(Exception):
    """The certificate cannot be issued; the message is for the user."""

    def __init__(self, message: object, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


def new_code() -> str:
    """A random, unguessable code, grouped by four: e.g. ``7K3M-Q9TZ-X2VB-HD4R``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalise_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes, O for 0, I or L for 1) in stored form."""
    raw = re.sub(r"[\s\-‐-―]", "", text or "").upper()
    raw = raw.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(raw) != CODE_CHARS or any(c not in ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def find(code: str) -> Certificate | None:
    """The certificate a code names, or ``None`` for an unknown or malformed code."""
    stored = normalise_code(code)
    if stored is None:
        return None
    return db.session.scalars(sa.select(Certificate).where(Certificate.code == stored)).first()


def _zone_name() -> str:
    return str(current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo"))


def _names(rows: list[Any]) -> list[dict[str, str]]:
    return [{"ar": ar, "en": en} for ar, en in rows]


def snapshot_for(volunteer: User, now: datetime) -> dict[str, Any]:
    """What a certificate issued now would say, from the hours ledger."""
    per_shift = (
        sa.select(HoursEntry.shift_id, sa.func.sum(HoursEntry.minutes).label("minutes"))
        .where(HoursEntry.volunteer_id == volunteer.id)
        .group_by(HoursEntry.shift_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Shift, per_shift.c.minutes)
        .join(per_shift, per_shift.c.shift_id == Shift.id)
        .where(per_shift.c.minutes > 0)
        .order_by(Shift.starts_at, Shift.id)
    ).all()
    minutes = sum(int(m) for _shift, m in rows)
    shift_ids = [s.id for s, _m in rows]
    institutions = db.session.execute(
        sa.select(Institution.name_ar, Institution.name_en)
        .where(Institution.id.in_({s.institution_id for s, _m in rows}))
        .order_by(Institution.name_en, Institution.id)
    ).all()
    opportunities = db.session.execute(
        sa.select(Opportunity.title_ar, Opportunity.title_en)
        .where(Opportunity.id.in_({s.opportunity_id for s, _m in rows}))
        .order_by(Opportunity.title_en, Opportunity.id)
    ).all()
    programmes = db.session.execute(
        sa.select(Programme.name_ar, Programme.name_en)
        .join(Cohort, Cohort.programme_id == Programme.id)
        .join(Opportunity, Opportunity.cohort_id == Cohort.id)
        .where(Opportunity.id.in_({s.opportunity_id for s, _m in rows}))
        .distinct()
        .order_by(Programme.name_en, Programme.name_ar)
    ).all()
    days = [to_local(s.starts_at, s.institution.timezone).date() for s, _m in rows]
    return {
        "version": SNAPSHOT_VERSION,
        "name": volunteer.full_name,
        "minutes": minutes,
        "shifts": len(shift_ids),
        "first_day": min(days).isoformat() if days else None,
        "last_day": max(days).isoformat() if days else None,
        "institutions": _names(list(institutions)),
        "opportunities": _names(list(opportunities)),
        "programmes": _names(list(programmes)),
        "issued_on": to_local(now, _zone_name()).date().isoformat(),
    }


def issue(volunteer: User, language: str | None, *, now: datetime | None = None) -> Certificate:
    """Issue a certificate of the volunteer's hours so far, in Arabic or English."""
    now = now or utcnow()
    if volunteer.role != "volunteer":
        raise CertificateError(_l("Only volunteers receive hours certificates."), status=403)
    if language not in CERTIFICATE_LANGUAGES:
        raise CertificateError(_l("Choose Arabic or English."))
    snapshot = snapshot_for(volunteer, now)
    if snapshot["minutes"] <= 0:
        raise CertificateError(
            _l("You have no recorded hours yet: a certificate needs at least one shift.")
        )
    code = new_code()
    while db.session.scalar(sa.select(Certificate.id).where(Certificate.code == code)):
        code = new_code()  # 80 random bits: practically never
    certificate = Certificate(
        code=code, volunteer_id=volunteer.id, language=language, issued_at=now, snapshot=snapshot
    )
    db.session.add(certificate)
    db.session.flush()
    audit.record(
        volunteer,
        "certificate.issue",
        "certificate",
        certificate.id,
        language=language,
        minutes=snapshot["minutes"],
    )
    db.session.commit()
    return certificate


def of_volunteer(volunteer: User) -> list[Certificate]:
    """A volunteer's certificates, newest first."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.volunteer_id == volunteer.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def verify_url(certificate: Certificate) -> str:
    """The absolute address of the certificate's public verification page."""
    path = url_for("attendance.certificate_public", code=certificate.code)
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + path
    return url_for("attendance.certificate_public", code=certificate.code, _external=True)


def day(value: str | None) -> date | None:
    """A snapshot's ISO day back as a date."""
    return date.fromisoformat(value) if value else None
