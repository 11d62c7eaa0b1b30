"""The manager's edits and cancellations together with real self sign-ups (counters agree)."""

from __future__ import annotations

import pytest

from tests.web.manager.conftest import local, make_shift, shift_form
from web.extensions import db
from web.models import Assignment
from web.services import signup


def test_signups_then_cancel_release_every_counter(manager_client, opportunity, factory):
    shift = make_shift(factory, opportunity, needed=2, skills={"music": 1})
    musician = factory.volunteer(skills=("music",))
    others = [factory.volunteer() for _ in range(2)]
    signup.sign_up(musician, shift)
    signup.sign_up(others[0], shift)
    waiting = signup.sign_up(others[1], shift)
    assert waiting.state == "waitlisted"
    db.session.expire_all()
    assert shift.taken == 2
    response = manager_client.post(f"/manage/shifts/{shift.id}/cancel", data={"scope": "shift"})
    assert response.status_code == 302
    db.session.expire_all()
    assert shift.open_taken == 0 and shift.requirements[0].taken == 0
    states = {a.volunteer_id: a.state for a in db.session.query(Assignment)}
    assert set(states.values()) == {"cancelled"}
    with pytest.raises(signup.SignupError):
        signup.sign_up(factory.volunteer(), shift)


def test_raising_places_lets_the_next_sign_up_in(manager_client, opportunity, factory):
    shift = factory.shift(opportunity, needed=1)
    first, second = factory.volunteer(), factory.volunteer()
    assert signup.sign_up(first, shift).state == "confirmed"
    day = local(shift.starts_at).date()
    times = (local(shift.starts_at).strftime("%H:%M"), local(shift.ends_at).strftime("%H:%M"))
    lowered = manager_client.post(
        f"/manage/shifts/{shift.id}/edit", data=shift_form(day, *times, needed=0)
    )
    assert lowered.status_code == 400
    raised = manager_client.post(
        f"/manage/shifts/{shift.id}/edit", data=shift_form(day, *times, needed=2)
    )
    assert raised.status_code == 302
    db.session.expire_all()
    assert signup.sign_up(second, shift).state == "confirmed"
    db.session.expire_all()
    assert shift.open_taken == 2 and shift.open_places == 2
