"""Two hundred threads racing for ten places get exactly ten, and a naive version would not.

The naive sign-up below reads how many places are taken and then writes, the way a first
version of any booking system does. The same check that passes for the real service catches it
overbooking, which proves the check can fail.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from tests.conftest import Factory
from tests.races import Job, create_volunteers, run_together
from web.extensions import db
from web.models import Assignment, Shift, User
from web.services.signup import sign_up

PLACES = 10


def racers(backend: str) -> int:
    # SQLite serialises writers behind its busy timeout: fewer threads keep the suite quick.
    return 200 if backend == "postgresql" else 60


def holders(shift_id: int) -> tuple[int, int]:
    """(assignments holding a place, the shift's counter of taken places)."""
    db.session.expire_all()
    shift = db.session.get(Shift, shift_id)
    held = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == shift_id, Assignment.state == "confirmed")
    )
    return held, shift.open_taken


def race(app: Flask, backend: str, attempt: Callable[[int, int], Job]) -> tuple[int, int, int]:
    """Race ``attempt`` for one shift of PLACES places; (holders, counter, errors)."""
    with app.app_context():
        factory = Factory(app)
        shift_id = factory.shift(needed=PLACES).id
        user_ids = create_volunteers(factory, racers(backend))
    errors = run_together(app, [attempt(user_id, shift_id) for user_id in user_ids])
    with app.app_context():
        held, counter = holders(shift_id)
        db.session.remove()
    return held, counter, len(errors)


def real_sign_up(user_id: int, shift_id: int) -> Job:
    def load() -> Callable[[], object]:
        user = db.session.get(User, user_id)
        shift = db.session.get(Shift, shift_id)
        _ = (user.role, user.active, shift.status)
        db.session.commit()  # give the connection back while the others load
        return lambda: sign_up(user, shift)

    return load


def naive_sign_up(user_id: int, shift_id: int) -> Job:
    """Read the free places, then write: every racer reads before anyone writes."""

    def load() -> Callable[[], object]:
        shift = db.session.get(Shift, shift_id)
        taken = shift.open_taken
        free = shift.open_places - taken
        db.session.commit()

        def write() -> None:
            if free <= 0:
                return
            booked = Assignment(
                shift_id=shift_id, volunteer_id=user_id, state="confirmed", source="self"
            )
            db.session.add(booked)
            db.session.execute(
                sa.update(Shift).where(Shift.id == shift_id).values(open_taken=taken + 1)
            )
            db.session.commit()

        return write

    return load


def test_two_hundred_threads_get_exactly_the_ten_places(race_app: Flask, backend: str) -> None:
    held, counter, errors = race(race_app, backend, real_sign_up)
    assert errors == 0
    assert held == PLACES
    assert counter == PLACES


def test_the_same_check_catches_a_naive_read_then_write(race_app: Flask, backend: str) -> None:
    held, counter, errors = race(race_app, backend, naive_sign_up)
    assert errors == 0
    # Every racer saw ten free places, so every racer booked one: the check above would fail.
    assert held == racers(backend) > PLACES
    assert counter == 1  # and the lost updates left the counter at one
