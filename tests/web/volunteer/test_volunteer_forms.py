"""Profile and availability forms: good input (Arabic digits too), every kind of bad input."""

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from web.extensions import db
from web.models import AuditEvent, AvailabilityException, AvailabilityRule, VolunteerProfile

EN = {"Accept-Language": "en"}


def text(response) -> str:
    return response.get_data(as_text=True)


def profile_form(factory, **changes):
    data = {
        "gender": "female",
        "date_of_birth": "1998-04-21",
        "governorate": str(factory.governorate("EG-C").id),
        "home_lat": "30.05",
        "home_lon": "31.24",
        "travel_radius_km": "20",
        "skills": [str(factory.skill("tutoring").id)],
        "languages": ["ar", "en"],
        "max_shifts_per_week": "2",
        "max_hours_per_week": "8",
        "sms_consent": "y",
        "submit": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_profile_saved_with_arabic_digits(factory, login_as):
    vol = factory.user("volunteer")  # no profile yet: the first save creates it
    client = login_as(vol)
    data = profile_form(
        factory,
        date_of_birth="١٩٩٨-٠٤-٢١",
        home_lat="٣٠٫٠٥",
        home_lon="۳۱.۲۴",
        travel_radius_km="٢٠",
        max_shifts_per_week="٣",
    )
    response = client.post("/profile", data=data, headers=EN)
    assert response.status_code == 303
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert profile.user_id == vol.id
    assert (profile.home_lat, profile.home_lon, profile.travel_radius_km) == (30.05, 31.24, 20.0)
    assert profile.date_of_birth == date(1998, 4, 21)
    assert profile.max_shifts_per_week == 3 and profile.max_hours_per_week == 8.0
    assert [s.code for s in profile.skills] == ["tutoring"]
    assert profile.languages == ["ar", "en"] and profile.sms_consent is True
    event = db.session.scalars(sa.select(AuditEvent)).one()
    assert event.action == "profile.updated" and "skills" in event.details["changed"]
    page = text(client.get("/profile", headers=EN))
    assert 'value="30.05"' in page and "Your profile was saved." in page
    assert 'inputmode="decimal"' in page and 'type="number"' not in page


def test_profile_use_governorate_centre_and_empty_home(factory, login_as):
    client = login_as(factory.volunteer())
    giza = factory.governorate("EG-GZ")
    data = profile_form(factory, governorate=str(giza.id), home_lat="", home_lon="")
    data.pop("submit")
    data["use_centre"] = "Use"
    assert client.post("/profile", data=data).status_code == 303
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert (profile.home_lat, profile.home_lon) == (giza.lat, giza.lon)
    # Both empty is allowed: the governorate's centre is the home point for matching.
    assert (
        client.post("/profile", data=profile_form(factory, home_lat="", home_lon="")).status_code
        == 303
    )
    db.session.expire_all()
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert profile.home_lat is None and profile.home_lon is None


def test_profile_sms_consent_and_stop_notice(factory, login_as):
    vol = factory.volunteer()
    client = login_as(vol)
    assert client.post("/profile", data=profile_form(factory, sms_consent=None)).status_code == 303
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert profile.sms_consent is False and profile.sms_opted_out_at is None
    assert "replying STOP" not in text(client.get("/profile", headers=EN))
    profile.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    assert "replying STOP" in text(client.get("/profile", headers=EN))
    # Ticking the box again does not undo a STOP sent by text: only START does.
    assert client.post("/profile", data=profile_form(factory)).status_code == 303
    db.session.expire_all()
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert profile.sms_consent is True and profile.sms_opted_out_at is not None


PROFILE_BAD = [
    ({"travel_radius_km": ""}, "This field is required."),
    ({"travel_radius_km": "far"}, "Enter a number."),
    ({"travel_radius_km": "900"}, "Enter a distance from 1 to 200 km."),
    ({"home_lat": "30.1", "home_lon": ""}, "Enter both latitude and longitude, or neither."),
    ({"home_lat": "95", "home_lon": "31"}, "Latitude is between -90 and 90."),
    ({"date_of_birth": "2999-01-01"}, "cannot be in the future"),
    ({"date_of_birth": "21/04/1998"}, "Enter a date as YYYY-MM-DD."),
    ({"gender": "other"}, "Choose from the list."),
    ({"governorate": "99999"}, "Choose from the list."),
    ({"governorate": "<i>1</i>"}, "Choose from the list."),
    ({"skills": ["99999"]}, "Choose from the list."),
    ({"skills": ["<b>x</b>"]}, "Choose from the list."),
    ({"languages": ["xx"]}, "Choose from the list."),
    ({"max_shifts_per_week": "0"}, "Enter a number from 1 to 21."),
    ({"max_shifts_per_week": "1.5"}, "Enter a whole number."),
    ({"max_hours_per_week": "500"}, "Enter a number from 1 to 80."),
    ({"preferred_institutions": ["99999"]}, "Choose from the list."),
    ({"governorate": "", "use_centre": "Use"}, "Choose your governorate first."),
]


def test_profile_bad_input_refused_and_nothing_written(factory, login_as):
    vol = factory.volunteer(radius=25.0)
    client = login_as(vol)
    for changes, message in PROFILE_BAD:
        response = client.post("/profile", data=profile_form(factory, **changes), headers=EN)
        assert response.status_code == 400, changes
        if message:
            assert message in text(response), changes
        db.session.expire_all()
        profile = db.session.scalars(sa.select(VolunteerProfile)).one()
        assert profile.travel_radius_km == 25.0 and profile.max_shifts_per_week is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_profile_repeated_skill_stored_once(factory, login_as):
    client = login_as(factory.volunteer())
    music = str(factory.skill("music").id)
    response = client.post("/profile", data=profile_form(factory, skills=[music, music]))
    assert response.status_code == 303
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert [s.code for s in profile.skills] == ["music"]


def test_profile_preferred_institution_only_from_the_offered_list(factory, login_as):
    cairo = factory.institution(name_en="Cairo Home", governorate="EG-C")
    alex = factory.institution(name_en="Alex Home", governorate="EG-ALX")
    client = login_as(factory.volunteer())
    page = text(client.get("/profile", headers=EN))
    assert "Cairo Home" in page and "Alex Home" not in page
    bad = profile_form(factory, preferred_institutions=[str(alex.id)])
    assert client.post("/profile", data=bad).status_code == 400
    good = profile_form(factory, preferred_institutions=[str(cairo.id)])
    assert client.post("/profile", data=good).status_code == 303
    profile = db.session.scalars(sa.select(VolunteerProfile)).one()
    assert [i.id for i in profile.preferred_institutions] == [cairo.id]


# ---- availability ------------------------------------------------------------------------


def rules_of(user):
    return db.session.scalars(
        sa.select(AvailabilityRule)
        .join(VolunteerProfile)
        .where(VolunteerProfile.user_id == user.id)
        .order_by(AvailabilityRule.id)
    ).all()


def test_add_and_remove_weekly_time_with_arabic_digits(factory, login_as):
    vol = factory.volunteer(availability=())
    client = login_as(vol)
    data = {"weekday": "٢", "start_time": "٠٩:٣٠", "end_time": "١٢:٠٠", "add_rule": "Add"}
    assert client.post("/availability/rules", data=data).status_code == 303
    rule = rules_of(vol)[0]
    assert (rule.weekday, rule.start_time, rule.end_time) == (2, time(9, 30), time(12))
    page = text(client.get("/availability", headers=EN))
    assert "Wednesday" in page and "09:30" in page
    assert client.post(f"/availability/rules/{rule.id}/delete").status_code == 303
    assert rules_of(vol) == []
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["availability.rule_added", "availability.rule_removed"]


def test_first_weekly_time_creates_the_profile(factory, login_as):
    vol = factory.user("volunteer")
    client = login_as(vol)
    data = {"weekday": "0", "start_time": "10:00", "end_time": "11:00"}
    assert client.post("/availability/rules", data=data).status_code == 303
    assert len(rules_of(vol)) == 1


RULE_BAD = [
    ({"weekday": "0", "start_time": "12:00", "end_time": "09:00"}, "The end must be after"),
    ({"weekday": "0", "start_time": "12:00", "end_time": "12:00"}, "The end must be after"),
    ({"weekday": "0", "start_time": "", "end_time": "09:00"}, "This field is required."),
    ({"weekday": "0", "start_time": "9am", "end_time": "10:00"}, "Enter a time as HH:MM."),
    ({"weekday": "9", "start_time": "09:00", "end_time": "10:00"}, "Choose from the list."),
    ({"weekday": "x", "start_time": "09:00", "end_time": "10:00"}, "Choose from the list."),
    ({}, "This field is required."),
]


def test_bad_weekly_time_refused(factory, login_as):
    vol = factory.volunteer(availability=())
    client = login_as(vol)
    for data, message in RULE_BAD:
        response = client.post("/availability/rules", data=data, headers=EN)
        assert response.status_code == 400, data
        if message:
            assert message in text(response), data
    assert rules_of(vol) == []


def test_duplicate_weekly_time_is_a_conflict(factory, login_as):
    vol = factory.volunteer(availability=((0, "09:00", "10:00"),))
    client = login_as(vol)
    data = {"weekday": "0", "start_time": "09:00", "end_time": "10:00"}
    response = client.post("/availability/rules", data=data, headers=EN)
    assert response.status_code == 409 and "You already have this entry." in text(response)
    assert len(rules_of(vol)) == 1


def test_cannot_remove_another_volunteers_time(factory, login_as):
    owner = factory.volunteer(availability=((0, "09:00", "10:00"),))
    other = factory.volunteer(availability=())
    rule = rules_of(owner)[0]
    client = login_as(other)
    assert client.post(f"/availability/rules/{rule.id}/delete").status_code == 404
    assert client.post("/availability/rules/999999/delete").status_code == 404
    assert client.get(f"/availability/rules/{rule.id}/delete").status_code == 405
    assert len(rules_of(owner)) == 1


def exceptions_of(user):
    return db.session.scalars(
        sa.select(AvailabilityException)
        .join(VolunteerProfile)
        .where(VolunteerProfile.user_id == user.id)
        .order_by(AvailabilityException.id)
    ).all()


def future(days: int = 10) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_add_exceptions_whole_day_part_and_extra(factory, login_as):
    vol = factory.volunteer()
    client = login_as(vol)
    posts = [
        {"day": future(10), "kind": "off"},
        {"day": future(11), "kind": "off", "start_time": "10:00", "end_time": "12:00"},
        {"day": future(12), "kind": "extra", "start_time": "٠٦:٠٠", "end_time": "٠٨:٠٠"},
    ]
    for data in posts:
        assert client.post("/availability/exceptions", data=data).status_code == 303
    rows = exceptions_of(vol)
    assert [(r.available, r.start_time, r.end_time) for r in rows] == [
        (False, None, None),
        (False, time(10), time(12)),
        (True, time(6), time(8)),
    ]
    page = text(client.get("/availability", headers=EN))
    assert "Whole day" in page and "Extra time available" in page
    shown = date.fromisoformat(future(10))
    assert f"{shown:%B} {shown.day}, {shown.year}" in page  # e.g. "Monday, December 7, 2026"
    assert client.post(f"/availability/exceptions/{rows[0].id}/delete").status_code == 303
    assert len(exceptions_of(vol)) == 2


def test_exception_note_cleaned_and_escaped(factory, login_as):
    vol = factory.volunteer()
    client = login_as(vol)
    note = "\u202e<script>alert(1)</script> سفر\u200b"
    data = {"day": future(), "kind": "off", "note": note}
    assert client.post("/availability/exceptions", data=data).status_code == 303
    stored = exceptions_of(vol)[0].note
    assert stored == "<script>alert(1)</script> سفر"
    page = text(client.get("/availability", headers=EN))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; سفر" in page and "<script>alert" not in page


EXCEPTION_BAD = [
    ({"day": "", "kind": "off"}, "This field is required."),
    ({"day": "2020-01-01", "kind": "off"}, "This day is in the past."),
    ({"day": "3000-01-01", "kind": "off"}, "within the next two years"),
    ({"day": "tomorrow", "kind": "off"}, "Enter a date as YYYY-MM-DD."),
    ({"day": "FUTURE", "kind": "extra"}, "Enter the hours you are available."),
    ({"day": "FUTURE", "kind": "off", "start_time": "10:00"}, "Enter both times"),
    (
        {"day": "FUTURE", "kind": "off", "start_time": "10:00", "end_time": "09:00"},
        "The end must be after the start.",
    ),
    ({"day": "FUTURE", "kind": "holiday"}, "Choose from the list."),
    ({"day": "FUTURE", "kind": "off", "note": "x" * 201}, "Use at most 200 characters."),
]


def test_bad_exception_refused(factory, login_as):
    vol = factory.volunteer()
    client = login_as(vol)
    for data, message in EXCEPTION_BAD:
        data = {k: (future() if v == "FUTURE" else v) for k, v in data.items()}
        response = client.post("/availability/exceptions", data=data, headers=EN)
        assert response.status_code == 400, data
        if message:
            assert message in text(response), data
    assert exceptions_of(vol) == []


def test_duplicate_whole_day_exception_is_a_conflict(factory, login_as):
    vol = factory.volunteer()
    client = login_as(vol)
    data = {"day": future(), "kind": "off"}
    assert client.post("/availability/exceptions", data=data).status_code == 303
    response = client.post("/availability/exceptions", data=data, headers=EN)
    assert response.status_code == 409
    assert len(exceptions_of(vol)) == 1


def test_cannot_remove_another_volunteers_exception(factory, login_as):
    owner, other = factory.volunteer(), factory.volunteer()
    login_as(owner).post("/availability/exceptions", data={"day": future(), "kind": "off"})
    row = exceptions_of(owner)[0]
    client = login_as(other)
    assert client.post(f"/availability/exceptions/{row.id}/delete").status_code == 404
    assert len(exceptions_of(owner)) == 1


def test_availability_page_lists_times_in_arabic(factory, login_as):
    client = login_as(factory.volunteer(availability=((4, "16:00", "18:00"),)))
    page = text(client.get("/availability"))
    assert '<html lang="ar" dir="rtl">' in page and "الجمعة" in page and "16:00" in page
