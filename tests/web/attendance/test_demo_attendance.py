"""The demo data shows attendance: volunteer 1 has hours (one by QR code) and gets a certificate."""

from __future__ import annotations

import sqlalchemy as sa

from web import demo_data
from web.extensions import db
from web.models import Assignment, HoursEntry, User
from web.services import attendance, certificates


def test_demo_volunteer_has_hours_and_a_certificate_that_verifies(app, client, login_as):
    demo_data.load()
    one = db.session.scalars(
        sa.select(User).where(User.email == f"volunteer1@{demo_data.DOMAIN}")
    ).one()
    assert attendance.total_minutes(one.id) > 0
    sources = set(db.session.scalars(sa.select(HoursEntry.source)))
    assert sources == {"manager", "qr", "correction"}
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).where(Assignment.state == "no_show")
    )
    login_as(one)
    assert client.post("/my-hours/certificates", data={"language": "ar"}).status_code == 303
    certificate = certificates.of_volunteer(one)[0]
    assert client.get(f"/my-hours/certificates/{certificate.id}.pdf").status_code == 200
    assert client.get(f"/certificates/{certificate.code}").status_code == 200
