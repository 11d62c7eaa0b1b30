"""The demo data gives the dashboards something to say: past weeks, hours, no-shows, runs."""

from __future__ import annotations

import sqlalchemy as sa

from web import demo_data
from web.models import Assignment, HoursEntry, Shift, User, utcnow
from web.services import dashboards as service
from web.services.coverage import local_today


def test_demo_history_fills_the_dashboard(app):
    demo_data.load()
    session = app.extensions["sqlalchemy"].session
    today = local_today()
    board = service.dashboard(service.parse_query({}, None, today), None, "Africa/Cairo")
    past = [week for week in board.activity.weeks if week.week < service.monday(today)]
    assert len(past) == service.WEEKS_BACK
    assert all(week.active > 5 and week.hours > 10 and week.attended for week in past)
    assert 0 < board.activity.no_show_rate < 0.5
    assert any(row.rate is not None and 0 < row.rate < 1 for row in board.retention)
    assert board.runs and all(run.demand >= run.bound >= run.filled for run in board.runs)
    # The ledger's hours are only on shifts that have ended; net, never more than their length.
    rows = session.execute(
        sa.select(Shift.starts_at, Shift.ends_at, sa.func.sum(HoursEntry.minutes))
        .join(HoursEntry, HoursEntry.shift_id == Shift.id)
        .group_by(Shift.id, Shift.starts_at, Shift.ends_at, HoursEntry.volunteer_id)
    ).all()
    assert len(rows) > 100
    for start, end, minutes in rows:
        assert end <= utcnow() and 0 <= minutes <= (end - start).total_seconds() / 60
    # The Cairo coordinator sees Cairo's numbers, fewer than the country's.
    cairo = session.scalar(
        sa.select(User).where(User.email == "cairo.coordinator@demo.example.org")
    )
    scope = cairo.governorate_ids()
    local = service.dashboard(service.parse_query({}, scope, today), scope, "Africa/Cairo")
    assert 0 < local.coverage.total.needed < board.coverage.total.needed
    assert local.runs and {run.scope_kind for run in local.runs} == {"governorates"}
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) > 300
