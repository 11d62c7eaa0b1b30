"""The private iCal feed: confirmed shifts only, UTC times, stable UIDs, revocable hashed token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from icalendar import Calendar

from web.extensions import db
from web.models import CalendarFeed
from web.services import calendar_feed
from web.services.shifts import cancel_shift
from web.services.signup import sign_up

CAIRO = ZoneInfo("Africa/Cairo")
EN = {"Accept-Language": "en"}


def shift_on(factory, days: int, **kw):
    day = datetime.now(CAIRO).date() + timedelta(days=days)
    return factory.shift(start=datetime.combine(day, time(10), tzinfo=CAIRO), **kw)


def make_link(client) -> str:
    page = client.post("/calendar/link", headers=EN)
    assert page.status_code == 200
    match = re.search(r'value="(http[^"]+/calendar/([^"/]+)\.ics)"', page.get_data(as_text=True))
    assert match, "the new link is shown on the page"
    return match.group(2)


def events(client, token: str) -> dict[str, dict]:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.get_data())
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_the_feed_lists_confirmed_shifts_in_utc_with_stable_uids(app, factory, client, login_as):
    volunteer = factory.volunteer(locale="en")
    confirmed = shift_on(factory, 3, needed=1)
    full = shift_on(factory, 4, needed=1)
    sign_up(volunteer, confirmed)
    sign_up(factory.volunteer(), full)
    assert sign_up(volunteer, full).state == "waitlisted"
    someone_else = shift_on(factory, 5)
    sign_up(factory.volunteer(), someone_else)

    login_as(volunteer)
    token = make_link(client)
    found = events(client, token)
    uid = f"shift-{confirmed.id}-volunteer-{volunteer.id}@volunteer-matching"
    assert list(found) == [uid]  # not the waitlisted shift, not another volunteer's
    event = found[uid]
    assert event["dtstart"].dt == confirmed.starts_at.astimezone(UTC)
    assert event["dtstart"].dt.tzinfo is not None and event["dtstart"].dt.utcoffset() == timedelta(
        0
    )
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == confirmed.opportunity.title_en
    raw = client.get(f"/calendar/{token}.ics").get_data(as_text=True)
    assert f"DTSTART:{confirmed.starts_at.astimezone(UTC):%Y%m%dT%H%M%S}Z" in raw
    assert list(events(client, token)) == [uid]  # the same UID on every fetch


def test_a_cancelled_shift_stays_as_cancelled(app, factory, client, login_as):
    volunteer = factory.volunteer()
    shift = shift_on(factory, 3)
    sign_up(volunteer, shift)
    manager = factory.user("admin")
    cancel_shift(manager, shift, "rain")
    login_as(volunteer)
    token = make_link(client)
    (event,) = events(client, token).values()
    assert str(event["status"]) == "CANCELLED"


def test_only_a_hash_is_stored_and_a_new_link_or_revoking_kills_the_old(
    app, factory, client, login_as
):
    volunteer = factory.volunteer()
    login_as(volunteer)
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    first = make_link(client)
    stored = db.session.scalars(sa.select(CalendarFeed)).one()
    assert first not in stored.token_hash and len(stored.token_hash) == 64
    assert client.get(f"/calendar/{first}.ics").status_code == 200
    second = make_link(client)
    assert second != first
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    assert client.get(f"/calendar/{second}.ics").status_code == 200
    assert client.post("/calendar/revoke").status_code == 303
    assert client.get(f"/calendar/{second}.ics").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarFeed)) == 0


def test_the_feed_needs_no_login_but_an_inactive_volunteers_link_is_dead(app, factory, client):
    volunteer = factory.volunteer()
    token = calendar_feed.issue_token(volunteer)
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    volunteer.active = False
    db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_profile_page_offers_the_link_and_staff_cannot_make_one(app, factory, client, login_as):
    volunteer = factory.volunteer()
    login_as(volunteer)
    page = client.get("/profile", headers=EN).get_data(as_text=True)
    assert "Make my calendar link" in page
    make_link(client)
    page = client.get("/profile", headers=EN).get_data(as_text=True)
    assert "Make a new link" in page and "Stop the link" in page
    login_as(factory.user("manager"))
    assert client.post("/calendar/link").status_code == 403
