"""Concurrent sign-ups and withdrawals from many connections never overbook a shift.

Each thread pushes its own application context, so it has its own session and connection and
commits for real: 50 threads on PostgreSQL (TEST_DATABASE_URL), fewer on SQLite, where the
busy timeout serialises the writers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, time

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import ALL_WEEK, Factory, clean_database, make_app, password_hash
from web.extensions import db
from web.models import Assignment, AvailabilityRule, Shift, User, VolunteerProfile
from web.services.signup import sign_up, withdraw

PLACES = 5


@pytest.fixture
def race_app(migrated_app: Flask, database_url: str, backend: str) -> Iterator[Flask]:
    """An app of its own with a pool big enough for the threads, on a clean database."""
    clean_database(migrated_app)
    options = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 5, "pool_timeout": 60}
    app = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clean_database(migrated_app)


def threads_for(backend: str) -> int:
    return 50 if backend == "postgresql" else 12


def create_volunteers(factory: Factory, count: int) -> list[int]:
    """Volunteers near Cairo, available all week, written in one transaction."""
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
    app: Flask, user_ids: list[int], action: Callable[[User, Shift], object], shift_id: int
) -> list[BaseException]:
    """Run ``action`` for every user at once, each in its own thread, context and session."""
    barrier = threading.Barrier(len(user_ids))
    errors: list[BaseException] = []

    def worker(user_id: int) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                shift = db.session.get(Shift, shift_id)
                assert user is not None and shift is not None
                _ = (user.role, user.active, shift.status)
                db.session.commit()  # give the connection back while waiting for the others
                barrier.wait(timeout=120)
                action(user, shift)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a sign-up thread hung"
    return errors


def snapshot(shift_id: int) -> tuple[int, list[Assignment]]:
    db.session.expire_all()
    shift = db.session.get(Shift, shift_id)
    rows = db.session.scalars(
        sa.select(Assignment).where(Assignment.shift_id == shift_id).order_by(Assignment.id)
    ).all()
    return shift.open_taken, list(rows)


def test_concurrent_sign_ups_fill_exactly_the_places(race_app: Flask, backend: str) -> None:
    count = threads_for(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift_id = factory.shift(needed=PLACES).id
        user_ids = create_volunteers(factory, count)

    errors = run_together(race_app, user_ids, sign_up, shift_id)
    assert errors == []

    with race_app.app_context():
        open_taken, rows = snapshot(shift_id)
        confirmed = [r for r in rows if r.state == "confirmed"]
        waitlisted = [r for r in rows if r.state == "waitlisted"]
        assert len(rows) == count
        assert len(confirmed) == PLACES == open_taken
        assert sorted(r.waitlist_position for r in waitlisted) == list(range(1, count - PLACES + 1))
        assert all(r.source == "self" for r in rows)

        # A withdrawal gives the place to waitlist number 1, in the same transaction.
        first_waiting = next(r for r in waitlisted if r.waitlist_position == 1)
        leaver = db.session.get(User, confirmed[0].volunteer_id)
        _, promoted = withdraw(leaver, db.session.get(Shift, shift_id))
        assert promoted is not None and promoted.id == first_waiting.id
        open_taken, rows = snapshot(shift_id)
        assert open_taken == PLACES
        assert sum(r.state == "confirmed" for r in rows) == PLACES
        db.session.remove()


def test_concurrent_withdrawals_promote_distinct_waitlisted(race_app: Flask, backend: str) -> None:
    count = threads_for(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift_id = factory.shift(needed=PLACES).id
        user_ids = create_volunteers(factory, count)
        shift = db.session.get(Shift, shift_id)
        for uid in user_ids:  # one by one: the first PLACES confirmed, the rest waitlisted
            sign_up(db.session.get(User, uid), shift)
        holders = user_ids[:PLACES]
        db.session.remove()

    errors = run_together(race_app, holders, withdraw, shift_id)
    assert errors == []

    with race_app.app_context():
        open_taken, rows = snapshot(shift_id)
        by_user = {r.volunteer_id: r for r in rows}
        assert open_taken == PLACES
        assert all(by_user[uid].state == "cancelled" for uid in holders)
        promoted = [by_user[uid] for uid in user_ids[PLACES : 2 * PLACES]]
        assert all(r.state == "confirmed" for r in promoted)
        still = sorted(r.waitlist_position for r in rows if r.state == "waitlisted")
        assert still == list(range(PLACES + 1, count - PLACES + 1))
        db.session.remove()
