"""The issue's walk-through: publish, see the Arabic offer, reply نعم signed, see it confirmed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.web.sms.conftest import TOKEN, in_days
from web.extensions import db
from web.models import Assignment, OutboundMessage


def test_publish_reply_confirm_and_remind(app, factory, runner, login_as, monkeypatch):
    from web.services.runs import execute_run, publish_run, start_run

    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    institution = factory.institution(name_ar="دار الأمل", name_en="Dar Al Amal")
    shift = factory.shift(factory.opportunity(institution), start=in_days(3, 9), needed=1)
    volunteer = factory.volunteer(locale="ar")
    coordinator = factory.user("coordinator", national_scope=True)
    run = start_run(
        coordinator,
        "national",
        [],
        shift.starts_at - timedelta(hours=1),
        shift.starts_at + timedelta(hours=4),
        time_limit_s=5,
    )
    execute_run(run)
    publish_run(run.id, coordinator)

    admin = login_as(factory.user("admin"))
    # The worker (here the command) sends it: the console backend at once, unless it is night
    # in Cairo, when quiet hours hold it until 08:00.
    sent = runner.invoke(args=["sms", "send-due"]).output
    assert "'sent': 1" in sent or "'deferred': 1" in sent
    outbox = admin.get("/sms/outbox", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "دار الأمل" in outbox

    result = runner.invoke(args=["sms", "simulate-reply", volunteer.phone, "نعم"])
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output and "<Message>" in result.output
    db.session.expire_all()
    assignment = db.session.scalars(sa.select(Assignment)).one()
    assert assignment.state == "confirmed"
    reminders = db.session.scalars(
        sa.select(OutboundMessage).where(OutboundMessage.kind == "reminder")
    ).all()
    assert {r.due_at for r in reminders} == {
        shift.starts_at - timedelta(hours=24),
        shift.starts_at - timedelta(hours=2),
    }
    result = runner.invoke(args=["sms", "send-due"])
    assert result.exit_code == 0
    assert "'skipped'" not in result.output  # reminders wait for their time


def test_simulate_reply_needs_a_token(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", None)
    result = runner.invoke(args=["sms", "simulate-reply", "+201001234567", "yes"])
    assert result.exit_code != 0
    assert "TWILIO_AUTH_TOKEN" in result.output
