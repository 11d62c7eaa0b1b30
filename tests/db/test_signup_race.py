"""Concurrent sign-ups and withdrawals from many connections never overbook a shift.

Each thread pushes its own application context, so it has its own session and connection and
commits for real: 50 threads on PostgreSQL (TEST_DATABASE_URL), fewer on SQLite, where the
busy timeout serialises the writers.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from tests.conftest import Factory
from tests.races import Job, create_volunteers, run_together
from web.extensions import db
from web.models import Assignment, Shift, User
from web.services.signup import sign_up, withdraw

PLACES = 5


def threads_for(backend: str) -> int:
    return 50 if backend == "postgresql" else 12


def each_user(
    user_ids: list[int], action: Callable[[User, Shift], object], shift_id: int
) -> list[Job]:
    """One job per user: load the user and the shift, then ``action(user, shift)`` at once."""

    def job(user_id: int) -> Job:
        def load() -> Callable[[], object]:
            user = db.session.get(User, user_id)
            shift = db.session.get(Shift, shift_id)
            assert user is not None and shift is not None
            _ = (user.role, user.active, shift.status)
            db.session.commit()  # give the connection back while waiting for the others
            return lambda: action(user, shift)

        return load

    return [job(user_id) for user_id in user_ids]


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

    errors = run_together(race_app, each_user(user_ids, sign_up, shift_id))
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

    errors = run_together(race_app, each_user(holders, withdraw, shift_id))
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
