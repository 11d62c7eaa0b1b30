"""The demo shows a programme with a cohort, applications and sessions, and a visit report."""

from __future__ import annotations

import sqlalchemy as sa

from web.extensions import db
from web.models import Cohort, Enrolment, MonitoringReport, Programme, User
from web.services import monitoring


def test_demo_has_a_programme_cohort_enrolments_sessions_and_a_report(app):
    from web import demo_data

    demo_data.load()
    choir = db.session.scalars(sa.select(Programme).where(Programme.kind == "choir")).one()
    cohort = db.session.scalars(sa.select(Cohort).where(Cohort.programme_id == choir.id)).one()
    statuses = set(
        db.session.scalars(sa.select(Enrolment.status).where(Enrolment.cohort_id == cohort.id))
    )
    assert {"accepted", "applied", "waitlisted", "rejected"} <= statuses
    assert cohort.opportunities and cohort.opportunities[0].shifts
    report = db.session.scalars(sa.select(MonitoringReport)).one()
    assert report.status == "under_review" and report.severity == "serious"
    manager = report.institution.managers[0]
    assert not monitoring.can_read_report(manager, report)
    national = db.session.scalars(
        sa.select(User).where(User.email == f"coordinator@{demo_data.DOMAIN}")
    ).one()
    assert monitoring.can_read_report(national, report)
