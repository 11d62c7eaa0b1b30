"""The worker: nightly schedules fire once per local day, queued runs get solved, clock driven."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from web.extensions import db
from web.models import MatchingRun, MatchingSchedule
from web.worker import build_scheduler, fire_schedule, poll_runs, schedule_job_id


def nightly(**kw) -> MatchingSchedule:
    schedule = MatchingSchedule(
        name="Nightly",
        scope_kind="national",
        scope_ids=[],
        hour=2,
        minute=0,
        timezone="Africa/Cairo",
        window_days=7,
        time_limit_s=10,
        auto_publish=False,
        enabled=True,
    )
    for key, value in kw.items():
        setattr(schedule, key, value)
    db.session.add(schedule)
    db.session.commit()
    return schedule


def test_schedule_fires_at_two_in_cairo(app, world):
    schedule = nightly()
    scheduler = build_scheduler(app, BackgroundScheduler(timezone=UTC))
    job = scheduler.get_job(schedule_job_id(schedule.id))
    assert job is not None
    after = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    fire = job.trigger.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 02:00 in Cairo (UTC+2)


def test_a_fired_schedule_appears_in_history_after_the_worker_runs(app, world, client, login_as):
    schedule = nightly()
    now = datetime.now(UTC)
    run_id = fire_schedule(app, schedule.id, now=now)
    assert run_id is not None
    # Firing again the same local day (a second worker, a restart) does nothing.
    assert fire_schedule(app, schedule.id, now=now) is None
    assert poll_runs(app) == [run_id]
    run = db.session.get(MatchingRun, run_id)
    db.session.refresh(run)
    assert run.trigger == "nightly" and run.status == "proposed"
    login_as(world.coordinator)
    page = client.get("/coordinate/runs?trigger=nightly").get_data(as_text=True)
    assert f"#{run_id}" in page


def test_auto_publishing_schedule_publishes(app, world):
    schedule = nightly(auto_publish=True)
    run_id = fire_schedule(app, schedule.id)
    poll_runs(app)
    run = db.session.get(MatchingRun, run_id)
    db.session.refresh(run)
    assert run.status == "published"


def test_disabled_or_deleted_schedules_do_not_fire(app, world):
    schedule = nightly(enabled=False)
    assert fire_schedule(app, schedule.id) is None
    assert fire_schedule(app, 424242) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0


def test_schedule_jobs_follow_the_database(app, world):
    schedule = nightly()
    scheduler = BackgroundScheduler(timezone=UTC)
    build_scheduler(app, scheduler)
    assert scheduler.get_job(schedule_job_id(schedule.id)) is not None
    schedule.enabled = False
    db.session.commit()
    from web.worker import sync_schedules

    sync_schedules(app, scheduler)
    assert scheduler.get_job(schedule_job_id(schedule.id)) is None


def test_cli_runs_and_publishes_and_prints_the_summary(app, world, runner):
    result = runner.invoke(args=["matching", "run", "--scope", "governorates:EG-C", "--publish"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) >= 4 and "3" in result.output
    run = db.session.scalars(sa.select(MatchingRun)).one()
    assert run.status == "published"


def test_cli_rejects_a_bad_scope(app, world, runner):
    result = runner.invoke(args=["matching", "run", "--scope", "governorates:XX"])
    assert result.exit_code != 0
    assert "unknown governorate" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0
