"""A programme's required credentials hold on each session: verified and unexpired that day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from web.extensions import db
from web.models import CredentialType, VolunteerCredential
from web.services import programmes
from web.services.signup import SignupError, sign_up


def credential_type(code: str) -> CredentialType:
    return db.session.scalars(sa.select(CredentialType).where(CredentialType.code == code)).one()


def test_a_credential_expiring_before_a_session_keeps_the_volunteer_off_it(world, factory):
    programme = world["programme"]
    programmes.update_programme(
        world["coordinator"],
        programme,
        programmes.ProgrammeInput(
            kind=programme.kind,
            governorate_id=programme.governorate_id,
            name_ar=programme.name_ar,
            name_en=programme.name_en,
            institution_ids=(world["institution"].id,),
            credential_type_ids=(credential_type("first_aid").id,),
        ),
    )
    first, second = world["series"].shifts[0], world["series"].shifts[1]
    volunteer = factory.volunteer()
    credential = VolunteerCredential(
        volunteer_id=volunteer.id,
        credential_type_id=credential_type("first_aid").id,
        issued_on=date(2025, 1, 1),
        # valid on the first session's day, expired by the second (a week later)
        expires_on=first.starts_at.date() + timedelta(days=1),
        status="verified",
        rejection_reason="",
    )
    db.session.add(credential)
    db.session.commit()
    enrolment = programmes.apply(volunteer, world["cohort"], "I know first aid")
    programmes.decide(world["coordinator"], enrolment, "accepted")
    assert sign_up(volunteer, first).state == "confirmed"
    with pytest.raises(SignupError) as info:
        sign_up(volunteer, second)
    assert info.value.reasons == ("credentials",)
