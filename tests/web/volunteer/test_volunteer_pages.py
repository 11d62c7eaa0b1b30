"""Volunteer pages: access, both languages, shifts I can do, sign-up, withdrawal, my shifts."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import csrf_token_from, login, make_app
from web.extensions import db
from web.models import Assignment
from web.services.signup import sign_up

EN = {"Accept-Language": "en"}
PAGES = ["/profile", "/availability", "/shifts", "/my-shifts"]


def text(response) -> str:
    return response.get_data(as_text=True)


def test_pages_need_login(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_get_403(factory, login_as):
    client = login_as(factory.user("manager"))
    shift = factory.shift()
    for url in PAGES:
        assert client.get(url).status_code == 403
    assert client.post(f"/shifts/{shift.id}/signup").status_code == 403
    assert client.post(f"/shifts/{shift.id}/withdraw").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_pages_in_both_languages(factory, login_as):
    client = login_as(factory.volunteer())
    for url in PAGES:
        english = client.get(url, headers=EN)
        assert english.status_code == 200, url
        assert '<html lang="en" dir="ltr">' in text(english)
        arabic = client.get(url)
        assert arabic.status_code == 200, url
        assert '<html lang="ar" dir="rtl">' in text(arabic)


def test_shifts_lists_only_eligible_with_local_time_and_distance(factory, login_as):
    near = factory.institution(name_en="Near Home", lat=30.06, lon=31.25)
    far = factory.institution(name_en="Far Away", lat=31.2, lon=29.9)
    ok = factory.shift(factory.opportunity(near, title_en="Reading club"))
    factory.shift(factory.opportunity(far, title_en="Beach day"))
    factory.shift(factory.opportunity(near, title_en="Men only"), gender="male")
    client = login_as(factory.volunteer())
    page = text(client.get("/shifts", headers=EN))
    assert "Reading club" in page and "Near Home" in page
    assert "Beach day" not in page and "Men only" not in page
    assert "1.5 km" in page  # haversine from (30.05, 31.24) to (30.06, 31.25): 1.47
    local_start = ok.starts_at.astimezone(near_zone(near))
    assert f"{local_start.hour % 12 or 12}:00" in page
    assert f'action="/shifts/{ok.id}/signup"' in page
    arabic = text(client.get("/shifts"))
    assert near.name_ar in arabic and ok.opportunity.title_ar in arabic
    assert "Near Home" not in arabic


def near_zone(institution):
    from zoneinfo import ZoneInfo

    return ZoneInfo(institution.timezone)


def test_shifts_filters_and_bad_filters(factory, login_as):
    orphanage = factory.institution(kind="orphanage")
    home = factory.institution(kind="elderly_home")
    factory.shift(factory.opportunity(orphanage, title_en="Homework help"))
    factory.shift(factory.opportunity(home, title_en="Tea afternoon"), skills={"music": 1})
    client = login_as(factory.volunteer(skills=("music",)))
    page = text(client.get("/shifts?kind=elderly_home", headers=EN))
    assert "Tea afternoon" in page and "Homework help" not in page
    music = factory.skill("music").id
    page = text(client.get(f"/shifts?skill={music}", headers=EN))
    assert "Tea afternoon" in page and "Homework help" not in page
    far_day = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    page = text(client.get(f"/shifts?date_from={far_day}", headers=EN))
    assert "Tea afternoon" not in page and "Homework help" not in page
    for bad in (
        "kind=castle",
        "governorate=99999",
        "skill=abc",
        "date_from=2026-13-01",
        "date_from=2030-01-10&date_to=2030-01-01",
        "date_from=2030-01-01&date_to=2030-12-31",
        "page=abc",
        "page=0",
    ):
        response = client.get(f"/shifts?{bad}", headers=EN)
        assert response.status_code == 400, bad
    assert client.get("/shifts?page=١", headers=EN).status_code == 200


def test_shifts_asks_to_complete_the_profile(factory, login_as):
    client = login_as(factory.user("volunteer"))
    page = text(client.get("/shifts", headers=EN))
    assert "Complete my profile" in page


def test_sign_up_and_see_it_in_my_shifts(factory, login_as):
    shift = factory.shift(factory.opportunity(title_en="Story time"), needed=1)
    vol = factory.volunteer()
    client = login_as(vol)
    response = client.post(f"/shifts/{shift.id}/signup", headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith("/my-shifts")
    page = text(client.get("/my-shifts", headers=EN))
    assert "Story time" in page and "Confirmed" in page and "You are signed up" in page
    assert f'action="/shifts/{shift.id}/withdraw"' in page
    # Now listed under my shifts, no longer under shifts I can do.
    assert "Story time" not in text(client.get("/shifts", headers=EN))


def test_full_shift_puts_me_on_the_waitlist(factory, login_as):
    shift = factory.shift(needed=1)
    sign_up(factory.volunteer(), shift)
    client = login_as(factory.volunteer())
    listing = text(client.get("/shifts", headers=EN))
    assert "Join the waitlist" in listing
    client.post(f"/shifts/{shift.id}/signup", headers=EN)
    page = text(client.get("/my-shifts", headers=EN))
    assert "On the waitlist" in page and "Number 1 on the waitlist" in page


def test_refused_sign_up_explains_why_in_both_languages(factory, login_as):
    shift = factory.shift(gender="male")
    vol = factory.volunteer(gender="female")
    client = login_as(vol)
    response = client.post(f"/shifts/{shift.id}/signup", headers=EN)
    assert response.status_code == 400
    assert "This shift is for volunteers of another gender." in text(response)
    arabic = client.post(f"/shifts/{shift.id}/signup")
    assert arabic.status_code == 400 and '<html lang="ar" dir="rtl">' in text(arabic)
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_sign_up_conflicts_and_missing_shift(factory, login_as):
    shift = factory.shift()
    client = login_as(factory.volunteer())
    assert client.post(f"/shifts/{shift.id}/signup").status_code == 303
    assert client.post(f"/shifts/{shift.id}/signup", headers=EN).status_code == 409
    assert client.post("/shifts/999999/signup").status_code == 404
    assert client.post("/shifts/999999/withdraw").status_code == 404
    assert client.get(f"/shifts/{shift.id}/signup").status_code == 405
    past = factory.shift(start=datetime.now(UTC) - timedelta(days=1))
    response = client.post(f"/shifts/{past.id}/signup", headers=EN)
    assert response.status_code == 400 and "already started" in text(response)


def test_withdraw_and_sign_up_again(factory, login_as):
    shift = factory.shift(factory.opportunity(title_en="Garden work"))
    vol = factory.volunteer()
    client = login_as(vol)
    client.post(f"/shifts/{shift.id}/signup")
    response = client.post(f"/shifts/{shift.id}/withdraw", headers=EN)
    assert response.status_code == 303
    page = text(client.get("/my-shifts", headers=EN))
    assert "Cancelled" in page and "Sign up again" in page
    assert client.post(f"/shifts/{shift.id}/signup").status_code == 303
    rows = db.session.scalars(sa.select(Assignment)).all()
    assert len(rows) == 1 and rows[0].state == "confirmed"


def test_cannot_withdraw_another_volunteers_assignment(factory, login_as):
    shift = factory.shift()
    owner = factory.volunteer()
    theirs = sign_up(owner, shift)
    client = login_as(factory.volunteer())
    response = client.post(f"/shifts/{shift.id}/withdraw", headers=EN)
    assert response.status_code == 409
    assert "You are not signed up for this shift." in text(response)
    db.session.expire_all()
    assert db.session.get(Assignment, theirs.id).state == "confirmed"
    assert owner.full_name not in text(response)


def test_my_shifts_lists_past_shifts(factory, login_as):
    vol = factory.volunteer()
    shift = factory.shift(factory.opportunity(title_en="Old visit"))
    sign_up(vol, shift)
    shift.starts_at -= timedelta(days=10)
    shift.ends_at -= timedelta(days=10)
    db.session.commit()
    client = login_as(vol)
    page = text(client.get("/my-shifts", headers=EN))
    past = page.split("Past shifts", 1)[1]
    assert "Old visit" in past and "Withdraw" not in past


def test_sign_up_with_csrf_enabled(database_url, migrated_app):
    from tests.conftest import Factory, clean_database

    clean_database(migrated_app)
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            factory = Factory(app)
            shift = factory.shift()
            vol = factory.volunteer()
            client = app.test_client()
            login(client, vol)
            assert client.post(f"/shifts/{shift.id}/signup").status_code == 400
            assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
            token = csrf_token_from(text(client.get("/shifts", headers=EN)))
            response = client.post(f"/shifts/{shift.id}/signup", data={"csrf_token": token})
            assert response.status_code == 303
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
        clean_database(migrated_app)
