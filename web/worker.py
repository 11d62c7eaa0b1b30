"""The worker process: APScheduler runs queued matching runs and fires the nightly schedules."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from web.extensions import db
from web.jobs_sms import add_sms_jobs
from web.models import MatchingSchedule, utcnow

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def poll_runs(app: Flask, limit: int = 10) -> list[int]:
    """Claim and solve queued runs one after another; returns the ids it ran.

    First it finishes what a killed worker left half done: self-publishing runs not published.
    """
    from web.services.runs import claim_next_run, execute_run, publish_interrupted_runs

    done: list[int] = []
    with app.app_context():
        for run_id in publish_interrupted_runs():
            log.info("published run %s, whose publishing a stopped worker left undone", run_id)
        for _ in range(limit):
            run = claim_next_run()
            if run is None:
                break
            log.info("solving run %s (%s)", run.id, run.scope_kind)
            run = execute_run(run)
            log.info("run %s finished: %s %s", run.id, run.status, run.metrics)
            done.append(run.id)
        db.session.remove()
    return done


def fire_schedule(app: Flask, schedule_id: int, now: datetime | None = None) -> int | None:
    """Queue the run of one schedule for its local day; a second call that day does nothing."""
    from web.services.runs import RunError, default_window, start_run

    with app.app_context():
        try:
            schedule = db.session.get(MatchingSchedule, schedule_id)
            if schedule is None or not schedule.enabled:
                return None
            now = now or utcnow()
            local_day = now.astimezone(ZoneInfo(schedule.timezone)).date().isoformat()
            start, end = default_window(schedule.window_days, now)
            run = start_run(
                None,
                schedule.scope_kind,
                schedule.scope_ids,
                start,
                end,
                time_limit_s=schedule.time_limit_s,
                trigger="nightly",
                auto_publish=schedule.auto_publish,
                schedule_id=schedule.id,
                scheduled_for=local_day,
            )
            log.info("schedule %s queued run %s for %s", schedule.id, run.id, local_day)
            return run.id
        except RunError as exc:
            log.warning("schedule %s did not start a run: %s", schedule_id, exc)
            return None
        finally:
            db.session.remove()


def queue_credential_reminders(app: Flask, now: datetime | None = None) -> int:
    """SMS reminders before credentials expire (idempotent: one per credential per threshold)."""
    from web.services.credentials import queue_expiry_reminders

    with app.app_context():
        try:
            queued = queue_expiry_reminders(now)
            if queued:
                log.info("queued %s credential expiry reminder(s)", queued)
            return queued
        finally:
            db.session.remove()


def schedule_job_id(schedule_id: int) -> str:
    return f"schedule-{schedule_id}"


def sync_schedules(app: Flask, scheduler: BaseScheduler) -> None:
    """Make the scheduler's cron jobs match the schedules admins keep in the database."""
    with app.app_context():
        schedules = db.session.scalars(
            sa.select(MatchingSchedule).where(MatchingSchedule.enabled.is_(True))
        ).all()
        wanted = {schedule_job_id(s.id): s for s in schedules}
        for job in scheduler.get_jobs():
            if job.id.startswith("schedule-") and job.id not in wanted:
                job.remove()
        for job_id, s in wanted.items():
            trigger = CronTrigger(hour=s.hour, minute=s.minute, timezone=ZoneInfo(s.timezone))
            existing = scheduler.get_job(job_id)
            if existing is not None and str(existing.trigger) == str(trigger):
                continue
            scheduler.add_job(
                fire_schedule,
                trigger,
                args=[app, s.id],
                id=job_id,
                name=s.name,
                replace_existing=True,
            )
        db.session.remove()


def build_scheduler(app: Flask, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """The worker's scheduler with its jobs: poll runs, sync schedules (and, through it, crons)."""
    scheduler = scheduler or BlockingScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    poll = float(app.config.get("WORKER_POLL_SECONDS", 2))
    scheduler.add_job(
        poll_runs, IntervalTrigger(seconds=poll), args=[app], id="poll-runs", replace_existing=True
    )
    scheduler.add_job(
        sync_schedules,
        IntervalTrigger(seconds=60),
        args=[app, scheduler],
        id="sync-schedules",
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )
    sync_schedules(app, scheduler)
    add_sms_jobs(app, scheduler)
    scheduler.add_job(
        purge_expired_data,
        CronTrigger(hour=3, minute=30, timezone=ZoneInfo("Africa/Cairo")),
        args=[app],
        id="purge-expired-data",
        replace_existing=True,
    )
    scheduler.add_job(
        queue_credential_reminders,
        IntervalTrigger(hours=1),
        args=[app],
        id="credential-reminders",
        replace_existing=True,
    )
    return scheduler


def purge_expired_data(app: Flask) -> dict[str, int]:
    """Delete messages and documents older than the retention settings allow (daily)."""
    from web.services.privacy import purge_expired

    with app.app_context():
        try:
            counts = purge_expired()
            if any(counts.values()):
                log.info("retention purge: %s", counts)
            return counts
        finally:
            db.session.remove()


def quiet_job_logs() -> None:
    """Keep APScheduler's "Running job ... executed successfully" lines (two every poll) out of
    the log at INFO; a job that raises is still logged at ERROR."""
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def start_worker(app: Flask) -> None:
    """Entry point of the worker process: recover from a dead worker, then run forever."""
    from web.services.runs import fail_stale_runs

    quiet_job_logs()

    with app.app_context():
        failed = fail_stale_runs()
        if failed:
            log.warning("marked %s run(s) left running by a dead worker as failed", failed)
        db.session.remove()
    scheduler = build_scheduler(app)
    log.info("worker started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("worker stopped")


def describe_jobs(scheduler: BaseScheduler) -> list[dict[str, Any]]:
    """The scheduler's jobs as plain dicts (for the admin page and logs)."""
    return [
        {"id": job.id, "name": job.name, "trigger": str(job.trigger)}
        for job in scheduler.get_jobs()
    ]
