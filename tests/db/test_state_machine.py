"""Hypothesis drives sign-up, withdrawal, runs, offers and cancellation in any order.

After every step the database must keep the rules nothing may break, whatever the order:
a shift's counters equal the assignments holding its places and never pass them, every state
change is one the state machine allows, a cancelled shift holds nobody, nobody holds two
overlapping shifts, and a refused action changes nothing.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.conftest import Factory, clean_database
from web.extensions import db
from web.models import HOLDING_STATES, TRANSITIONS, Assignment, Shift, ShiftSkillRequirement, User
from web.services import offers, runs, shifts, signup
from web.worker import poll_runs

VOLUNTEERS = 4
SHIFTS = 3


def day_after_tomorrow(hour: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def assignment_rows() -> dict[int, tuple[int, int, str, int | None, int | None]]:
    db.session.expire_all()
    return {
        a.id: (a.shift_id, a.volunteer_id, a.state, a.position_skill_id, a.waitlist_position)
        for a in db.session.scalars(sa.select(Assignment))
    }


class Roster(RuleBasedStateMachine):
    """The app's place-keeping services under every interleaving hypothesis can think of."""

    app: Flask

    def __init__(self) -> None:
        super().__init__()
        clean_database(self.app)
        factory = Factory(self.app)
        institution = factory.institution(lat=30.06, lon=31.25, governorate="EG-C")
        opportunity = factory.opportunity(institution)
        # Two shifts overlap (8-11 and 10-13); the third needs a tutor and is later that day.
        self.shift_ids = [
            factory.shift(opportunity, start=day_after_tomorrow(8), needed=1).id,
            factory.shift(opportunity, start=day_after_tomorrow(10), needed=2).id,
            factory.shift(
                opportunity, start=day_after_tomorrow(15), needed=2, skills={"tutoring": 1}
            ).id,
        ]
        self.volunteer_ids = [
            factory.volunteer(lat=30.05, lon=31.24, skills=("tutoring",) if n == 0 else ()).id
            for n in range(VOLUNTEERS)
        ]
        self.manager_id = factory.user("manager").id
        institution.managers.append(db.session.get(User, self.manager_id))
        self.coordinator_id = factory.user("coordinator", national_scope=True).id
        db.session.commit()
        self.seen = assignment_rows()

    # --- what people do -----------------------------------------------------------------------

    def _user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def _shift(self, index: int) -> Shift:
        return db.session.get(Shift, self.shift_ids[index])

    def _refused(self, action: Any, *errors: type[BaseException]) -> None:
        """Run ``action``; when it refuses, nothing may have changed."""
        before = assignment_rows()
        try:
            action()
        except errors:
            db.session.rollback()
            assert assignment_rows() == before, "a refused action changed assignments"

    @rule(volunteer=st.integers(0, VOLUNTEERS - 1), shift=st.integers(0, SHIFTS - 1))
    def sign_up(self, volunteer: int, shift: int) -> None:
        user, target = self._user(self.volunteer_ids[volunteer]), self._shift(shift)
        self._refused(lambda: signup.sign_up(user, target), signup.SignupError)

    @rule(volunteer=st.integers(0, VOLUNTEERS - 1), shift=st.integers(0, SHIFTS - 1))
    def withdraw(self, volunteer: int, shift: int) -> None:
        user, target = self._user(self.volunteer_ids[volunteer]), self._shift(shift)
        self._refused(lambda: signup.withdraw(user, target), signup.SignupError)

    @rule()
    def run_and_publish(self) -> None:
        coordinator = self._user(self.coordinator_id)

        def action() -> None:
            run = runs.start_run(coordinator, "national", [], *runs.default_window(7))
            run = runs.execute_run(runs.claim_run(run.id))
            if run.status == "proposed":
                runs.publish_run(run.id, coordinator)

        self._refused(action, runs.RunError)

    @rule()
    def worker_solves_queued_runs(self) -> None:
        # Replacement runs (after a decline or a withdrawal) publish themselves.
        poll_runs(self.app, limit=5)

    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        answerable = db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.state.in_(("offered", "confirmed")))
            .order_by(Assignment.id)
        ).all()
        if not answerable:
            return
        assignment = data.draw(st.sampled_from(answerable))
        user = self._user(assignment.volunteer_id)
        answer = offers.accept if accept else offers.decline
        self._refused(lambda: answer(assignment, user), offers.OfferError)

    @rule(shift=st.integers(0, SHIFTS - 1))
    def cancel_shift(self, shift: int) -> None:
        target, manager = self._shift(shift), self._user(self.manager_id)
        if target.status != "open":
            return
        self._refused(lambda: shifts.cancel_shift(manager, target, "storm"), shifts.RuleError)

    # --- what must always hold --------------------------------------------------------------

    @invariant()
    def counters_equal_the_places_held(self) -> None:
        db.session.expire_all()
        for shift in db.session.scalars(sa.select(Shift)):
            holding = [a for a in shift.assignments if a.state in HOLDING_STATES]
            open_holders = [a for a in holding if a.position_skill_id is None]
            assert shift.open_taken == len(open_holders) <= shift.open_places
            for requirement in db.session.scalars(
                sa.select(ShiftSkillRequirement).where(ShiftSkillRequirement.shift_id == shift.id)
            ):
                held = [a for a in holding if a.position_skill_id == requirement.skill_id]
                assert requirement.taken == len(held) <= requirement.places
            if shift.status != "open":
                kept = [a for a in shift.assignments if a.state in (*HOLDING_STATES, "waitlisted")]
                assert not kept, "a cancelled shift still holds people"
            positions = [a.waitlist_position for a in shift.assignments if a.state == "waitlisted"]
            assert len(positions) == len(set(positions)) and all(p > 0 for p in positions)

    @invariant()
    def every_change_is_allowed(self) -> None:
        now = assignment_rows()
        for assignment_id, (shift_id, volunteer_id, state, *_rest) in now.items():
            before = self.seen.get(assignment_id)
            if before is None:
                continue
            assert (before[0], before[1]) == (shift_id, volunteer_id)
            # Two moves may happen in one step (a decline then a replacement offer): the new
            # state is reachable in at most two allowed moves.
            old = before[2]
            reachable = {old} | TRANSITIONS[old]
            reachable |= {s for middle in TRANSITIONS[old] for s in TRANSITIONS[middle]}
            assert state in reachable, f"assignment {assignment_id}: {old} -> {state}"
        assert set(self.seen) <= set(now), "an assignment row was lost"
        self.seen = now

    @invariant()
    def nobody_holds_overlapping_shifts(self) -> None:
        held = db.session.execute(
            sa.select(Assignment.volunteer_id, Shift.starts_at, Shift.ends_at)
            .join(Shift, Shift.id == Assignment.shift_id)
            .where(Assignment.state.in_(HOLDING_STATES))
        ).all()
        by_volunteer: dict[int, list[tuple[datetime, datetime]]] = {}
        for volunteer_id, starts, ends in held:
            by_volunteer.setdefault(volunteer_id, []).append((starts, ends))
        for spans in by_volunteer.values():
            spans.sort()
            for (_, first_end), (second_start, _) in itertools.pairwise(spans):
                assert first_end <= second_start


@pytest.mark.slow
def test_places_and_states_hold_under_any_order_of_actions(app: Flask) -> None:
    Roster.app = app
    run_state_machine_as_test(
        Roster,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
