"""`flask demo --reset` keeps the nightly national run that the migrations seed."""

import sqlalchemy as sa

from web import demo_data
from web.extensions import db
from web.models import Institution, MatchingSchedule


def test_wipe_puts_back_the_seeded_nightly_schedule(app, factory):
    factory.institution()
    db.session.add(
        MatchingSchedule(
            name="Extra",
            scope_kind="national",
            scope_ids=[],
            hour=3,
            minute=0,
            timezone="Africa/Cairo",
            window_days=3,
            time_limit_s=10.0,
            auto_publish=True,
            enabled=True,
        )
    )
    db.session.commit()
    demo_data.wipe()
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0
    schedules = db.session.scalars(sa.select(MatchingSchedule)).all()
    assert [(s.name, s.scope_kind, s.hour, s.minute, s.enabled) for s in schedules] == [
        ("Nightly national run", "national", 2, 0, True)
    ]
    assert schedules[0].timezone == "Africa/Cairo" and not schedules[0].auto_publish
