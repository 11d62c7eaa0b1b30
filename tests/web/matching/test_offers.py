"""Answers to offers: accept confirms, decline frees the place for the waitlist or a replacement."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from web.extensions import db
from web.models import Assignment, MatchingRun
from web.services import offers, places, runs
from web.services.offers import OfferError


def offer_to(world, volunteer, shift=None):
    shift = shift or world.shift
    ok, why = places.offer(shift, volunteer.id, None)
    assert ok, why
    db.session.commit()
    return db.session.scalars(
        sa.select(Assignment).where(
            Assignment.shift_id == shift.id, Assignment.volunteer_id == volunteer.id
        )
    ).one()


def test_accept_confirms_once(world):
    volunteer = world.volunteers[0]
    assignment = offer_to(world, volunteer)
    assert offers.pending_offers(volunteer) == [assignment]
    offers.accept(assignment, volunteer)
    assert assignment.state == "confirmed"
    offers.accept(assignment, volunteer)  # twice is harmless
    assert assignment.state == "confirmed"
    assert offers.pending_offers(volunteer) == []


def test_someone_elses_offer_is_not_found(world):
    assignment = offer_to(world, world.volunteers[0])
    with pytest.raises(OfferError) as err:
        offers.accept(assignment, world.volunteers[1])
    assert err.value.status == 404
    assert assignment.state == "offered"


def test_decline_frees_the_place_and_queues_a_replacement(world):
    volunteer = world.volunteers[0]
    assignment = offer_to(world, volunteer)
    db.session.refresh(world.shift)
    assert world.shift.taken == 1
    offers.decline(assignment, volunteer, channel="sms")
    assert assignment.state == "declined"
    db.session.refresh(world.shift)
    assert world.shift.taken == 0
    run = db.session.scalars(sa.select(MatchingRun)).one()
    assert run.trigger == "replacement" and run.shift_ids == [world.shift.id] and run.auto_publish
    # The replacement goes to someone else, never back to the volunteer who declined.
    run = runs.execute_run(runs.claim_run(run.id))
    assert run.status == "published"
    offered = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.shift_id == world.shift.id, Assignment.state == "offered"
        )
    ).all()
    assert offered and volunteer.id not in {a.volunteer_id for a in offered}
    # Declining again changes nothing.
    offers.decline(assignment, volunteer)
    assert assignment.state == "declined"


def test_answers_to_closed_offers_are_refused(world):
    volunteer = world.volunteers[0]
    assignment = offer_to(world, volunteer)
    offers.decline(assignment, volunteer)
    with pytest.raises(OfferError):
        offers.accept(assignment, volunteer)


def test_volunteer_answers_offers_on_my_shifts(world, client, login_as):
    volunteer = world.volunteers[0]
    first = offer_to(world, volunteer)
    second = offer_to(world, volunteer, world.second_shift)
    login_as(volunteer)
    page = client.get("/my-shifts", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A coordinator offers you this shift." in page
    assert client.post(f"/offers/{first.id}/accept").status_code == 303
    assert client.post(f"/offers/{second.id}/decline").status_code == 303
    db.session.expire_all()
    assert db.session.get(Assignment, first.id).state == "confirmed"
    assert db.session.get(Assignment, second.id).state == "declined"


def test_nobody_answers_someone_elses_offer(world, client, login_as):
    assignment = offer_to(world, world.volunteers[0])
    login_as(world.volunteers[1])
    assert client.post(f"/offers/{assignment.id}/accept").status_code == 404
    assert client.post("/offers/999999/accept").status_code == 404
    assert client.post(f"/offers/{assignment.id}/maybe").status_code == 404
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).state == "offered"


def test_a_withdrawal_nobody_waits_for_queues_a_replacement(world):
    from web.services.signup import sign_up, withdraw

    volunteer = world.volunteers[0]
    sign_up(volunteer, world.shift)
    withdraw(volunteer, world.shift)
    run = db.session.scalars(sa.select(MatchingRun)).one()
    assert run.trigger == "replacement" and run.shift_ids == [world.shift.id]


def test_no_replacement_right_before_the_shift(world, app):
    from web.services.signup import sign_up, withdraw

    app.config["REPLACEMENT_MIN_NOTICE_HOURS"] = 24 * 30
    try:
        volunteer = world.volunteers[0]
        sign_up(volunteer, world.shift)
        withdraw(volunteer, world.shift)
    finally:
        app.config["REPLACEMENT_MIN_NOTICE_HOURS"] = 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0
