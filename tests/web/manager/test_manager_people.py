"""The roster of a shift and the contact list of an institution's confirmed volunteers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.web.manager.conftest import assign, make_shift
from web.extensions import db

EN = {"Accept-Language": "en"}


def test_roster_shows_names_phones_states_positions_and_waitlist(
    manager_client, opportunity, factory
):
    shift = make_shift(factory, opportunity, needed=2, skills={"music": 1})
    music = factory.skill("music")
    amal = factory.volunteer(full_name="Amal <b>Hassan</b>", phone="+201011112222")
    assign(shift, amal, "confirmed", skill=music)
    assign(shift, factory.volunteer(full_name="Basma Ali"), "confirmed")
    assign(shift, factory.volunteer(full_name="Dina Waiting"), "waitlisted", waitlist_position=1)
    assign(shift, factory.volunteer(full_name="Eman Gone"), "cancelled")
    text = manager_client.get(f"/manage/shifts/{shift.id}", headers=EN).get_data(as_text=True)
    assert "Amal &lt;b&gt;Hassan&lt;/b&gt;" in text and "<b>Hassan</b>" not in text
    assert "+201011112222" in text
    assert "Music and choir" in text and "Open place" in text
    assert "On the waiting list" in text and "Cancelled" in text
    assert text.index("Basma Ali") < text.index("Dina Waiting") < text.index("Eman Gone")
    assert "2 of 2 filled" in text
    arabic = manager_client.get(f"/manage/shifts/{shift.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "Basma Ali" in arabic


def test_empty_roster_says_so(manager_client, opportunity, factory):
    shift = factory.shift(opportunity)
    text = manager_client.get(f"/manage/shifts/{shift.id}", headers=EN).get_data(as_text=True)
    assert "Nobody has signed up yet." in text


def test_contacts_list_confirmed_volunteers_of_upcoming_shifts_only(
    manager_client, home, opportunity, factory, other_home
):
    upcoming = factory.shift(opportunity)
    past = factory.shift(opportunity, start=datetime.now(UTC) - timedelta(days=2))
    cancelled = factory.shift(opportunity)
    assign(upcoming, factory.volunteer(full_name="Confirmed Carla", phone="+201022223333"))
    assign(upcoming, factory.volunteer(full_name="Offered Olfa"), "offered")
    assign(past, factory.volunteer(full_name="Past Pakinam"))
    assign(cancelled, factory.volunteer(full_name="Cancelled Camelia"))
    cancelled.status = "cancelled"
    elsewhere = factory.shift(factory.opportunity(other_home))
    assign(elsewhere, factory.volunteer(full_name="Elsewhere Eman"))
    db.session.commit()
    text = manager_client.get(f"/manage/institutions/{home.id}/contacts", headers=EN).get_data(
        as_text=True
    )
    assert "Confirmed Carla" in text and "+201022223333" in text
    for hidden in ("Offered Olfa", "Past Pakinam", "Cancelled Camelia", "Elsewhere Eman"):
        assert hidden not in text
    arabic = manager_client.get(f"/manage/institutions/{home.id}/contacts").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "Confirmed Carla" in arabic


def test_contacts_are_refused_to_other_managers_and_volunteers_but_shown_to_admins(
    client, login_as, factory, home, opportunity
):
    shift = factory.shift(opportunity)
    assign(shift, factory.volunteer(full_name="Private Person"))
    url = f"/manage/institutions/{home.id}/contacts"
    login_as(factory.user("manager"))
    response = client.get(url)
    assert response.status_code == 403 and "Private Person" not in response.get_data(as_text=True)
    login_as(factory.volunteer())
    assert client.get(url).status_code == 403
    login_as(factory.user("admin"))
    assert "Private Person" in client.get(url).get_data(as_text=True)
