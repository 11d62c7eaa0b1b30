"""Scaffolding of the thread-race tests: volunteers to race with and jobs started at once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from datetime import date, time

from flask import Flask

from tests.conftest import ALL_WEEK, Factory, password_hash
from web.extensions import db
from web.models import AvailabilityRule, User, VolunteerProfile

# A job is called in its thread before the start (to load what it needs) and returns the step
# every thread then takes at the same moment.
Job = Callable[[], Callable[[], object]]


def create_volunteers(factory: Factory, count: int) -> list[int]:
    """Volunteers near Cairo, available all week, written in one transaction; their ids."""
    governorate_id = factory.governorate("EG-C").id
    users = []
    for n in range(count):
        user = User(
            full_name=f"Racer {n}",
            email=f"racer{n}@example.org",
            phone=f"+2011{n:08d}",
            role="volunteer",
            password_hash=password_hash(),
        )
        profile = VolunteerProfile(
            user=user,
            gender="female",
            date_of_birth=date(1995, 1, 1),
            governorate_id=governorate_id,
            home_lat=30.05,
            home_lon=31.24,
            travel_radius_km=25.0,
            languages=["ar"],
        )
        for weekday, start, end in ALL_WEEK:
            profile.availability_rules.append(
                AvailabilityRule(
                    weekday=weekday,
                    start_time=time.fromisoformat(start),
                    end_time=time.fromisoformat(end),
                )
            )
        users.append(user)
    db.session.add_all(users)
    db.session.commit()
    return [u.id for u in users]


def run_together(
    app: Flask, jobs: Sequence[Job], *, request_context: bool = False
) -> list[BaseException]:
    """Run every job in its own thread, app context and session, all released at once.

    Returns what the jobs raised; asserts that no thread hung.
    """
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job: Job) -> None:
        with contextlib.ExitStack() as contexts:
            contexts.enter_context(app.app_context())
            if request_context:
                contexts.enter_context(app.test_request_context())
            try:
                step = job()
                barrier.wait(timeout=120)
                step()
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


def at_once(step: Callable[[], object]) -> Job:
    """A job with nothing to load before the start."""
    return lambda: step
