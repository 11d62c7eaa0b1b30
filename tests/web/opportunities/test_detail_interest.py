"""The opportunity page (texts, shifts in local time, free places) and volunteer interest."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.conftest import csrf_token_from, login, make_app
from web.models import AuditEvent, OpportunityInterest

EN = {"Accept-Language": "en"}
CAIRO = ZoneInfo("Africa/Cairo")


def local_start(days: int, hour: int, minute: int = 0) -> datetime:
    day = datetime.now(CAIRO).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=CAIRO).astimezone(UTC)


def full_opportunity(factory):
    home = factory.institution(
        kind="disability_centre", governorate="EG-ALX", name_en="Smouha Centre"
    )
    return factory.opportunity(
        home,
        title_en="Physio helpers",
        description_en="Help the physiotherapist.\nThe residents need to keep moving.",
        requirements_en="Patience.",
        commitment_en="One morning a week.",
    )


def test_detail_shows_texts_and_upcoming_shifts_in_local_time(client, factory):
    opportunity = full_opportunity(factory)
    first = factory.shift(
        opportunity, start=local_start(1, 10, 30), hours=2, needed=3, skills={"physiotherapy": 1}
    )
    first.open_taken = 1
    factory.shift(opportunity, start=local_start(2, 16), needed=2, gender="female", min_age=21)
    factory.shift(opportunity, start=local_start(-1, 9), needed=2)  # past: not shown
    factory.shift(opportunity, start=local_start(3, 9), status="cancelled")
    factory.db.session.commit()

    response = client.get(f"/opportunities/{opportunity.id}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Physio helpers" in html and "Smouha Centre" in html and "Alexandria" in html
    assert "<p>Help the physiotherapist.</p>" in html
    assert "<p>The residents need to keep moving.</p>" in html
    assert "Patience." in html and "One morning a week." in html
    assert "10:30\u202fAM – 12:30\u202fPM" in html  # the institution's zone, not UTC (CLDR spacing)
    assert "2 of 3 free" in html and "2 of 2 free" in html
    assert "1 place for Physiotherapy" in html
    assert "Women only" in html and "aged 21 or more" in html
    assert html.count("<tr>") == 3  # header + two upcoming open shifts


def test_detail_in_arabic(client, factory):
    opportunity = factory.opportunity(title_ar="زيارات كبار السن", title_en="Elder visits")
    factory.shift(opportunity, start=local_start(1, 10))
    html = client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "زيارات كبار السن" in html and "Elder visits" not in html


def test_detail_refuses_drafts_and_unknown_ids(client, factory):
    draft = factory.opportunity(status="draft")
    assert client.get(f"/opportunities/{draft.id}").status_code == 404
    assert client.get("/opportunities/999999").status_code == 404
    assert client.get("/opportunities/abc").status_code == 404
    hidden = factory.opportunity(factory.institution(active=False))
    assert client.get(f"/opportunities/{hidden.id}").status_code == 404


def test_closed_opportunity_is_shown_without_shifts_or_interest(client, factory, login_as):
    closed = factory.opportunity(status="closed", title_en="Old choir")
    factory.shift(closed, start=local_start(1, 10))
    login_as(factory.volunteer())
    html = client.get(f"/opportunities/{closed.id}", headers=EN).get_data(as_text=True)
    assert "Old choir" in html and "no longer takes volunteers" in html
    assert "I am interested" not in html
    assert client.post(f"/opportunities/{closed.id}/interest").status_code == 404


def test_anonymous_sees_register_and_is_sent_to_log_in_for_interest(client, factory):
    opportunity = factory.opportunity()
    html = client.get(f"/opportunities/{opportunity.id}", headers=EN).get_data(as_text=True)
    assert "I am interested" not in html
    assert "Register to volunteer" in html
    response = client.post(f"/opportunities/{opportunity.id}/interest")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert factory.db.session.scalar(sa.select(sa.func.count(OpportunityInterest.id))) == 0


def test_interest_is_stored_once_and_audited(client, factory, login_as):
    opportunity = factory.opportunity()
    volunteer = factory.volunteer()
    login_as(volunteer)
    html = client.get(f"/opportunities/{opportunity.id}", headers=EN).get_data(as_text=True)
    assert "I am interested" in html

    response = client.post(f"/opportunities/{opportunity.id}/interest", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/opportunities/{opportunity.id}")
    html = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "the institution will see that you are interested" in html
    assert "You have shown interest in this opportunity." in html
    assert "I am interested" not in html

    response = client.post(f"/opportunities/{opportunity.id}/interest", headers=EN)
    assert response.status_code == 302
    html = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "You had already shown interest" in html

    rows = factory.db.session.scalars(sa.select(OpportunityInterest)).all()
    assert [(r.opportunity_id, r.user_id) for r in rows] == [(opportunity.id, volunteer.id)]
    events = factory.db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "opportunity.interest")
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(volunteer.id, opportunity.id)]


def test_interest_only_for_volunteers_and_existing_opportunities(client, factory, login_as):
    opportunity = factory.opportunity()
    login_as(factory.user("manager"))
    assert client.post(f"/opportunities/{opportunity.id}/interest").status_code == 403
    login_as(factory.volunteer())
    assert client.post("/opportunities/999999/interest").status_code == 404
    draft = factory.opportunity(status="draft")
    assert client.post(f"/opportunities/{draft.id}/interest").status_code == 404
    assert client.get(f"/opportunities/{opportunity.id}/interest").status_code == 405


def test_interest_needs_the_csrf_token(app, database_url, factory):
    opportunity = factory.opportunity()
    volunteer = factory.volunteer()
    csrf_app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    login(client, volunteer)
    url = f"/opportunities/{opportunity.id}/interest"
    assert client.post(url, headers=EN).status_code == 400
    token = csrf_token_from(client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    with csrf_app.app_context():
        from web.extensions import db

        assert db.session.scalar(sa.select(sa.func.count(OpportunityInterest.id))) == 1
        db.session.remove()
        db.engine.dispose()
