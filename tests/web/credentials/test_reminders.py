"""Expiry reminders: one SMS per credential per threshold, from the worker, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.web.credentials.helpers import give
from web.extensions import db
from web.models import OutboundMessage
from web.services.credentials import queue_expiry_reminders
from web.worker import queue_credential_reminders

CAIRO = ZoneInfo("Africa/Cairo")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.astimezone(CAIRO).date()


def messages() -> list[OutboundMessage]:
    return list(db.session.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)))


def test_thirty_and_seven_days_before_expiry_once_each(app, factory):
    volunteer = factory.volunteer(locale="en")
    credential = give(volunteer, "first_aid", expires_on=TODAY + timedelta(days=25))
    assert queue_expiry_reminders(NOW) == 1
    assert queue_expiry_reminders(NOW) == 0  # the same day again: nothing new
    assert queue_expiry_reminders(NOW + timedelta(days=3)) == 0  # still the 30-day window
    (first,) = messages()
    assert first.kind == "credential_expiry" and first.user_id == volunteer.id
    assert first.idempotency_key == f"credential-expiry:{credential.id}:30:{credential.expires_on}"
    assert "First-aid certificate expires in 25 days" in first.body
    assert queue_expiry_reminders(NOW + timedelta(days=19)) == 1  # 6 days left
    assert queue_expiry_reminders(NOW + timedelta(days=20)) == 0
    second = messages()[-1]
    assert ":7:" in second.idempotency_key and "in 6 days" in second.body
    assert queue_expiry_reminders(NOW + timedelta(days=30)) == 0  # expired: nothing
    assert len(messages()) == 2


def test_arabic_reminder_and_only_the_tightest_threshold(app, factory):
    volunteer = factory.volunteer()  # no locale: Arabic
    give(volunteer, "child_safeguarding", expires_on=TODAY + timedelta(days=5))
    assert queue_expiry_reminders(NOW) == 1  # 5 days left: the 7-day one, not also the 30-day
    (message,) = messages()
    assert message.locale == "ar" and "تدريب حماية الطفل" in message.body
    assert ":7:" in message.idempotency_key


def test_no_reminder_for_pending_far_renewed_or_endless_credentials(app, factory):
    volunteer = factory.volunteer()
    give(volunteer, "first_aid", status="pending", expires_on=TODAY + timedelta(days=5))
    give(volunteer, "background_check", expires_on=TODAY + timedelta(days=90))
    give(volunteer, "psychological_first_aid")  # never expires
    give(volunteer, "child_safeguarding", expires_on=TODAY + timedelta(days=6))
    give(volunteer, "child_safeguarding", expires_on=TODAY + timedelta(days=400))  # renewed
    assert queue_expiry_reminders(NOW) == 0
    assert messages() == []


def test_the_worker_job_runs_in_its_own_app_context(app, factory):
    volunteer = factory.volunteer()
    give(volunteer, "first_aid", expires_on=TODAY + timedelta(days=7))
    assert queue_credential_reminders(app, NOW) == 1
    assert queue_credential_reminders(app, NOW) == 0


def test_the_worker_schedules_the_reminder_job(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from web.worker import build_scheduler

    scheduler = build_scheduler(app, BackgroundScheduler())
    assert "credential-reminders" in {job.id for job in scheduler.get_jobs()}


def test_a_volunteer_without_consent_gets_a_skipped_row_not_a_text(app, factory):
    volunteer = factory.volunteer()
    volunteer.profile.sms_consent = False
    db.session.commit()
    give(volunteer, "first_aid", expires_on=datetime.combine(TODAY, time(0)).date())
    assert queue_expiry_reminders(NOW) == 1
    (message,) = messages()
    assert message.status == "skipped"
