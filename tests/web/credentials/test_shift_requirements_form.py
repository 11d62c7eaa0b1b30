"""Managers choose the credentials a shift (or every shift of a series) requires."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.web.credentials.helpers import credential_type
from tests.web.manager.conftest import future_day, shift_form
from web.extensions import db
from web.models import AuditEvent, Shift, ShiftSeries

EN = {"Accept-Language": "en"}


def test_a_new_shift_requires_the_chosen_credentials(app, factory, client, login_as):
    manager = factory.user("manager")
    opportunity = factory.opportunity(factory.institution(managers=(manager,)))
    login_as(manager)
    page = client.get(f"/manage/opportunities/{opportunity.id}/shifts/new", headers=EN)
    assert "First-aid certificate" in page.get_data(as_text=True)
    first_aid, safeguarding = credential_type("first_aid"), credential_type("child_safeguarding")
    chosen = [str(first_aid.id), str(safeguarding.id)]
    data = shift_form(future_day(5), required_credentials=chosen)
    response = client.post(
        f"/manage/opportunities/{opportunity.id}/shifts/new", data=data, headers=EN
    )
    assert response.status_code == 302
    shift = db.session.scalars(sa.select(Shift)).one()
    assert [t.code for t in shift.required_credentials] == ["child_safeguarding", "first_aid"]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "shift.create")
    ).one()
    assert event.details["credentials"] == sorted([first_aid.id, safeguarding.id])

    # the edit form shows them chosen, and removing one keeps the other
    edit = client.get(f"/manage/shifts/{shift.id}/edit", headers=EN).get_data(as_text=True)
    assert f'<option selected value="{first_aid.id}">' in edit
    data = shift_form(future_day(5), required_credentials=[str(first_aid.id)])
    assert client.post(f"/manage/shifts/{shift.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert [t.code for t in db.session.get(Shift, shift.id).required_credentials] == ["first_aid"]
    data = shift_form(future_day(5))
    assert client.post(f"/manage/shifts/{shift.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).required_credentials == []


def test_an_unknown_credential_is_refused_and_nothing_is_written(app, factory, client, login_as):
    manager = factory.user("manager")
    opportunity = factory.opportunity(factory.institution(managers=(manager,)))
    login_as(manager)
    data = shift_form(future_day(5), required_credentials=["99999"])
    response = client.post(
        f"/manage/opportunities/{opportunity.id}/shifts/new", data=data, headers=EN
    )
    assert response.status_code == 400
    assert "Choose credentials from the list." in response.get_data(as_text=True)
    arabic = client.post(
        f"/manage/opportunities/{opportunity.id}/shifts/new",
        data=data,
        headers={"Accept-Language": "ar"},
    )
    assert "اختر الشهادات من القائمة." in arabic.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 0


def test_every_shift_of_a_series_requires_the_credentials(app, factory, client, login_as):
    manager = factory.user("manager")
    opportunity = factory.opportunity(factory.institution(managers=(manager,)))
    login_as(manager)
    background = credential_type("background_check")
    data = shift_form(future_day(3), required_credentials=[str(background.id)])
    del data["day"]
    data.update(first_day=str(future_day(3)), weeks="3", excluded_days="")
    response = client.post(
        f"/manage/opportunities/{opportunity.id}/series/new", data=data, headers=EN
    )
    assert response.status_code == 302
    series = db.session.scalars(sa.select(ShiftSeries)).one()
    assert len(series.shifts) == 3
    assert all(
        [t.code for t in s.required_credentials] == ["background_check"] for s in series.shifts
    )
    assert series.shifts[1].starts_at - series.shifts[0].starts_at == timedelta(weeks=1)


def test_the_roster_and_the_public_page_name_the_requirement(app, factory, client, login_as):
    manager = factory.user("manager")
    opportunity = factory.opportunity(factory.institution(managers=(manager,)))
    shift = factory.shift(opportunity)
    shift.required_credentials = [credential_type("first_aid")]
    db.session.commit()
    public = client.get(f"/opportunities/{opportunity.id}", headers=EN).get_data(as_text=True)
    assert "Needs a verified First-aid certificate" in public
    login_as(manager)
    roster = client.get(f"/manage/shifts/{shift.id}", headers=EN).get_data(as_text=True)
    assert "First-aid certificate" in roster


def test_fewer_places_and_a_new_requirement_in_one_edit(app, factory, client, login_as):
    """The requirement is set without flushing a half-updated shift (places before counters)."""
    manager = factory.user("manager")
    opportunity = factory.opportunity(factory.institution(managers=(manager,)))
    login_as(manager)
    data = shift_form(future_day(5), needed="8")
    client.post(f"/manage/opportunities/{opportunity.id}/shifts/new", data=data)
    shift = db.session.scalars(sa.select(Shift)).one()
    assert (shift.needed, shift.open_places) == (8, 8)
    first_aid = credential_type("first_aid")
    data = shift_form(future_day(5), needed="2", required_credentials=[str(first_aid.id)])
    assert client.post(f"/manage/shifts/{shift.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    shift = db.session.get(Shift, shift.id)
    assert (shift.needed, shift.open_places) == (2, 2)
    assert [t.code for t in shift.required_credentials] == ["first_aid"]
