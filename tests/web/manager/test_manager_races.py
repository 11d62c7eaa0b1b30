"""A manager cancelling or shrinking a shift while volunteers sign up at the same moment.

Every thread has its own application context, session and connection, and commits for real.
Whatever the interleaving, the counters must match the confirmed assignments, no place is
overbooked and nobody is left confirmed on a cancelled shift.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from tests.conftest import Factory
from tests.races import at_once, create_volunteers, run_together
from web.extensions import db
from web.models import HOLDING_STATES, Assignment, Shift, User
from web.services import shifts as shift_service
from web.services.signup import SignupError, sign_up


def _signer(user_id: int, shift_id: int) -> Callable[[], object]:
    return lambda: sign_up(db.session.get(User, user_id), db.session.get(Shift, shift_id))


def _threads(backend: str) -> int:
    return 20 if backend == "postgresql" else 8


def test_cancel_during_sign_ups_leaves_nobody_on_the_shift(race_app: Flask, backend: str) -> None:
    count = _threads(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift_id = factory.shift(needed=count // 2).id
        user_ids = create_volunteers(factory, count)
        manager_id = factory.user("manager").id

    def cancel() -> None:
        shift_service.cancel_shift(
            db.session.get(User, manager_id), db.session.get(Shift, shift_id)
        )

    jobs = [at_once(_signer(uid, shift_id)) for uid in user_ids]
    jobs.insert(count // 2, at_once(cancel))
    errors = run_together(race_app, jobs, request_context=True)
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
    # A sign-up that read the shift as open, then waited for the cancel's lock, re-reads the
    # status under the lock and is refused: nobody is left waitlisted on a cancelled shift.
    assert all(state == "cancelled" for state in states), states


def test_shrinking_during_sign_ups_never_overbooks(race_app: Flask, backend: str) -> None:
    count = _threads(backend)
    with race_app.app_context():
        factory = Factory(race_app)
        shift = factory.shift(needed=count)
        shift_id, starts_at, ends_at = shift.id, shift.starts_at, shift.ends_at
        user_ids = create_volunteers(factory, count)
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

    jobs = [at_once(_signer(uid, shift_id)) for uid in user_ids]
    jobs.insert(count // 3, at_once(shrink))
    errors = run_together(race_app, jobs, request_context=True)
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
