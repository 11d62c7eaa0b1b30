"""Helpers of the credentials tests: credential types by code, a credential given directly."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from web.extensions import db
from web.models import CredentialType, VolunteerCredential


def credential_type(code: str) -> CredentialType:
    return db.session.scalars(sa.select(CredentialType).where(CredentialType.code == code)).one()


def give(
    user,
    code: str,
    status: str = "verified",
    expires_on: date | None = None,
    issued_on: date = date(2025, 1, 1),
    document=None,
) -> VolunteerCredential:
    row = VolunteerCredential(
        volunteer_id=user.id,
        credential_type_id=credential_type(code).id,
        issued_on=issued_on,
        expires_on=expires_on,
        status=status,
        document=document,
        rejection_reason="",
    )
    db.session.add(row)
    db.session.commit()
    return row


def require(shift, *codes: str):
    shift.required_credentials = [credential_type(code) for code in codes]
    db.session.commit()
    return shift
