"""verified_credential_codes: only verified, unexpired credentials count (the others' contract)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.web.credentials.helpers import give
from web.extensions import db
from web.models import CredentialType
from web.services.credentials import verified_credential_codes


def test_the_migration_seeds_bilingual_credential_types(app):
    types = {t.code: t for t in db.session.scalars(sa.select(CredentialType))}
    assert {
        "child_safeguarding",
        "first_aid",
        "background_check",
        "monitoring_accreditation",
    } <= set(types)
    for kind in types.values():
        assert kind.name_ar and kind.name_en and kind.active


def test_only_verified_and_unexpired_credentials_count(app, factory):
    volunteer = factory.volunteer()
    on = date(2026, 6, 1)
    give(volunteer, "first_aid", expires_on=on)  # valid through its last day
    give(volunteer, "child_safeguarding", expires_on=on - timedelta(days=1))  # expired
    give(volunteer, "background_check", status="pending")
    give(volunteer, "monitoring_accreditation", status="rejected")
    give(volunteer, "psychological_first_aid")  # never expires
    assert verified_credential_codes(volunteer.profile, on) == {
        "first_aid",
        "psychological_first_aid",
    }
    assert verified_credential_codes(volunteer.profile, on + timedelta(days=1)) == {
        "psychological_first_aid"
    }
    other = factory.volunteer()
    assert verified_credential_codes(other.profile, on) == set()
