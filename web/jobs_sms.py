"""Worker jobs of the SMS outbox: send due messages, reconcile, reminders, the weekly digest."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from web.extensions import db

log = logging.getLogger(__name__)


def send_due_messages(app: Flask) -> dict[str, int]:
    """Send every pending message whose time has come (each claimed once, so never twice)."""
    from web.services.messaging import send_due

    with app.app_context():
        try:
            counts = send_due()
            if counts:
                log.info("outbox: %s", counts)
            return counts
        finally:
            db.session.remove()


def reconcile_messages(app: Flask) -> dict[str, int]:
    """Look up messages left 'submitting' by a crash or timeout; never resend them blindly."""
    from web.services.messaging import reconcile_submitting

    with app.app_context():
        try:
            return reconcile_submitting()
        finally:
            db.session.remove()


def queue_reminders(app: Flask) -> int:
    """Reminder rows for confirmed assignments (idempotent keys: running twice adds nothing)."""
    from web.services.messaging import queue_due_reminders

    with app.app_context():
        try:
            return queue_due_reminders()
        finally:
            db.session.remove()


def weekly_digest(app: Flask) -> int:
    """Each manager's unfilled places of the coming week (one per manager per ISO week)."""
    from web.services.messaging import queue_weekly_digests

    with app.app_context():
        try:
            return queue_weekly_digests()
        finally:
            db.session.remove()


def add_sms_jobs(app: Flask, scheduler: BaseScheduler) -> None:
    """Add the outbox jobs to the worker's scheduler."""
    poll = float(app.config.get("SMS_POLL_SECONDS", app.config.get("WORKER_POLL_SECONDS", 2)))
    jobs: list[tuple[Any, Any, str]] = [
        (send_due_messages, IntervalTrigger(seconds=poll), "sms-send"),
        (reconcile_messages, IntervalTrigger(minutes=1), "sms-reconcile"),
        (queue_reminders, IntervalTrigger(minutes=5), "sms-reminders"),
        (
            weekly_digest,
            CronTrigger(
                day_of_week=app.config.get("SMS_DIGEST_DAY", "sat"),
                hour=int(app.config.get("SMS_DIGEST_HOUR", 9)),
                timezone=app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo"),
            ),
            "sms-digest",
        ),
    ]
    for func, trigger, job_id in jobs:
        scheduler.add_job(func, trigger, args=[app], id=job_id, replace_existing=True)
