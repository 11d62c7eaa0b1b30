"""Marking a confirmed volunteer absent frees the place and queues a replacement run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from web.extensions import db
from web.models import Assignment, MatchingRun
from web.services import attendance, places
from web.services.attendance import AttendanceError


def confirmed(world, volunteer):
    ok, why = places.offer(world.shift, volunteer.id, None)
    assert ok, why
    assignment = db.session.scalars(
        sa.select(Assignment).where(Assignment.volunteer_id == volunteer.id)
    ).one()
    assignment.state = "confirmed"
    db.session.commit()
    return assignment


def test_absent_volunteer_is_replaced(world, factory):
    manager = factory.user("manager", managed_institutions=[world.institution])
    assignment = confirmed(world, world.volunteers[0])
    db.session.refresh(world.shift)
    assert world.shift.taken == 1
    attendance.mark_absent(manager, assignment)
    assert assignment.state == "no_show"
    db.session.refresh(world.shift)
    assert world.shift.taken == 0
    run = db.session.scalars(sa.select(MatchingRun)).one()
    assert run.trigger == "replacement" and run.shift_ids == [world.shift.id]
    attendance.mark_absent(manager, assignment)  # twice changes nothing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 1


def test_only_the_institutions_staff_mark_absence(world, factory):
    other_manager = factory.user("manager", managed_institutions=[world.far_institution])
    assignment = confirmed(world, world.volunteers[0])
    with pytest.raises(AttendanceError) as err:
        attendance.mark_absent(other_manager, assignment)
    assert err.value.status == 403
    assert assignment.state == "confirmed"


def test_only_confirmed_volunteers_are_marked_absent(world):
    assert places.offer(world.shift, world.volunteers[0].id, None)[0]
    offered = db.session.scalars(sa.select(Assignment)).one()
    with pytest.raises(AttendanceError):
        attendance.mark_absent(world.admin, offered)
    assert offered.state == "offered"


def test_manager_marks_absent_from_the_roster(world, factory, client, login_as):
    manager = factory.user("manager", managed_institutions=[world.institution])
    assignment = confirmed(world, world.volunteers[0])
    login_as(manager)
    page = client.get(f"/manage/shifts/{world.shift.id}").get_data(as_text=True)
    assert f"/manage/assignments/{assignment.id}/absent" in page
    response = client.post(f"/manage/assignments/{assignment.id}/absent")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).state == "no_show"


def test_other_managers_cannot_mark_absent(world, factory, client, login_as):
    other = factory.user("manager", managed_institutions=[world.far_institution])
    assignment = confirmed(world, world.volunteers[0])
    login_as(other)
    assert client.post(f"/manage/assignments/{assignment.id}/absent").status_code == 403
    assert client.post("/manage/assignments/999999/absent").status_code == 404
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).state == "confirmed"
