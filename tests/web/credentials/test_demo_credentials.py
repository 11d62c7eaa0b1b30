"""The demo shows accreditation: volunteer 1 with a verified and a pending credential, shifts
that require them, and a reset that removes the demo's files."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from web import demo_data
from web.extensions import db
from web.models import Shift, User, VolunteerCredential
from web.services import uploads
from web.services.signup import SignupError, sign_up


def test_the_demo_has_credentials_to_verify_and_shifts_that_need_them(app):
    demo_data.load()
    first = db.session.scalar(sa.select(User).where(User.email == f"volunteer1@{demo_data.DOMAIN}"))
    held = {
        (c.credential_type.code, c.status)
        for c in db.session.scalars(
            sa.select(VolunteerCredential).where(VolunteerCredential.volunteer_id == first.id)
        )
    }
    assert held == {("first_aid", "verified"), ("child_safeguarding", "pending")}
    guarded = [
        s
        for s in db.session.scalars(sa.select(Shift).order_by(Shift.starts_at))
        if any(t.code == "child_safeguarding" for t in s.required_credentials)
    ]
    assert guarded
    documents = [c.document for c in db.session.scalars(sa.select(VolunteerCredential))]
    assert all(
        d is not None and uploads.path_of(d).read_bytes().startswith(b"%PDF-") for d in documents
    )
    upcoming = [s for s in guarded if s.free > 0 and s.starts_at > demo_data.utcnow()]
    if upcoming:  # the pending training does not count yet
        with pytest.raises(SignupError) as refused:
            sign_up(first, upcoming[-1])
        assert "credentials" in refused.value.reasons
    paths = [uploads.path_of(d) for d in documents]
    demo_data.wipe()
    assert not any(p.exists() for p in paths)
