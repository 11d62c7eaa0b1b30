import pytest
import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError

from web.extensions import db
from web.models import AuditEvent, User, VolunteerProfile
from web.services import accounts


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.fixture
def form(factory):
    def _form(**overrides):
        data = {
            "full_name": "Mona Ali",
            "phone": "010 1234 5678",
            "email": "",
            "password": "long enough pw",
            "confirm": "long enough pw",
            "locale": "ar",
            "governorate": str(factory.governorate("EG-C").id),
            "sms_consent": "y",
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    return _form


def test_register_page_in_both_languages(client):
    page = client.get("/register").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert 'name="phone"' in page and 'type="tel"' in page
    assert "القاهرة" in page  # governorates in Arabic
    page = client.get("/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert "Cairo" in page and "Register as a volunteer" in page


def test_register_creates_volunteer_profile_audit_and_logs_in(client, form):
    response = client.post("/register", data=form(email="Mona@Example.ORG"))
    assert response.status_code == 302
    user = db.session.execute(sa.select(User)).scalar_one()
    assert user.full_name == "Mona Ali"
    assert user.phone == "+201012345678"
    assert user.email == "mona@example.org"
    assert user.role == "volunteer" and user.active and not user.phone_verified
    assert user.locale == "ar"
    assert user.check_password("long enough pw")
    profile = db.session.execute(sa.select(VolunteerProfile)).scalar_one()
    assert profile.user_id == user.id and profile.sms_consent is True
    assert profile.governorate.code == "EG-C"
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert (event.action, event.actor_id, event.object_id) == ("user.registered", user.id, user.id)
    # Logged in: the account page opens instead of redirecting to the login form.
    assert client.get("/account").status_code == 200


def test_register_lands_on_phone_verification(client, form, app):
    location = client.post("/register", data=form()).headers["Location"]
    with app.test_request_context():
        assert location == url_for("sms.verify")


def test_register_without_consent_and_in_english(client, form):
    response = client.post("/register", data=form(sms_consent=None, locale="en"))
    assert response.status_code == 302
    user = db.session.execute(sa.select(User)).scalar_one()
    assert user.locale == "en" and user.profile.sms_consent is False
    assert '<html lang="en" dir="ltr">' in client.get("/account").get_data(as_text=True)


def test_phone_in_arabic_indic_digits_is_stored_as_e164(client, form):
    assert client.post("/register", data=form(phone="٠١٠١٢٣٤٥٦٧٨")).status_code == 302
    assert db.session.execute(sa.select(User.phone)).scalar_one() == "+201012345678"


BAD_INPUT = [
    ({"full_name": ""}, "full_name", "Enter your full name."),
    ({"full_name": "   \u200f "}, "full_name", "Enter your full name."),
    ({"full_name": "x" * 121}, "full_name", "The name is too long"),
    ({"phone": ""}, "phone", "Enter your mobile phone number."),
    ({"phone": "12345"}, "phone", "This is not a valid phone number."),
    ({"phone": "010 1234"}, "phone", "This is not a valid phone number."),
    ({"phone": "phone"}, "phone", "This is not a valid phone number."),
    ({"phone": "9" * 300}, "phone", "This is not a valid phone number."),
    ({"email": "not-an-email"}, "email", "This is not a valid email address."),
    ({"email": "a@" + "b" * 260 + ".org"}, "email", "The email address is too long."),
    ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
    ({"password": "p" * 129, "confirm": "p" * 129}, "password", "too long"),
    ({"confirm": "something else"}, "confirm", "The two passwords are not the same."),
    ({"governorate": ""}, "governorate", "Choose your governorate."),
    ({"governorate": "99999"}, "governorate", "Choose a governorate from the list."),
    ({"governorate": "cairo"}, "governorate", "Choose a governorate from the list."),
    ({"locale": "fr"}, "locale", "Choose Arabic or English."),
    ({"locale": ""}, "locale", "Choose Arabic or English."),
]


def test_bad_input_is_refused_with_a_clear_message(client, form):
    for overrides, field, message in BAD_INPUT:
        response = client.post(
            "/register", data=form(**overrides), headers={"Accept-Language": "en"}
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 400, overrides
        assert message in page, overrides
        assert f'id="{field}-error"' in page, overrides
    assert count(User) == 0 and count(VolunteerProfile) == 0 and count(AuditEvent) == 0


def test_bad_input_messages_are_in_arabic_by_default(client, form):
    response = client.post("/register", data=form(phone="12345"))
    assert response.status_code == 400
    assert '<html lang="ar" dir="rtl">' in response.get_data(as_text=True)


def test_empty_post_is_refused(client):
    response = client.post("/register", data={})
    assert response.status_code == 400
    assert count(User) == 0


def test_name_with_html_and_bidi_is_stored_clean_and_shown_escaped(client, form):
    name = "\u202e<script>alert(1)</script> Mona\u200b  Ali\u2066"
    assert client.post("/register", data=form(full_name=name)).status_code == 302
    stored = db.session.execute(sa.select(User.full_name)).scalar_one()
    assert stored == "<script>alert(1)</script> Mona Ali"
    page = client.get("/account").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mona Ali" in page
    assert "<script>alert(1)</script>" not in page


def test_duplicate_phone_typed_differently_is_a_conflict(client, form, factory):
    factory.user(phone="+201012345678")
    before = count(User)
    response = client.post(
        "/register", data=form(phone="٠١٠١٢٣٤٥٦٧٨"), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 409
    assert "An account with this phone number already exists" in response.get_data(as_text=True)
    assert count(User) == before and count(VolunteerProfile) == 0


def test_duplicate_email_ignores_case(client, form, factory):
    factory.user(email="mona@example.org")
    before = count(User)
    response = client.post(
        "/register", data=form(email="MONA@example.org"), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 409
    assert "An account with this email address already exists" in response.get_data(as_text=True)
    assert count(User) == before


def test_lost_uniqueness_race_becomes_a_form_error(client, form, factory, monkeypatch):
    """Another request inserts the same phone between our check and our insert."""
    factory.user(phone="+201012345678")
    monkeypatch.setattr(accounts, "_ensure_unique", lambda phone, email: None)
    before = count(User)
    response = client.post("/register", data=form(), headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert count(User) == before and count(AuditEvent) == 0


def test_service_race_raises_duplicate_and_leaves_session_usable(app, factory, monkeypatch):
    factory.user(phone="+201099999999")
    monkeypatch.setattr(accounts, "_ensure_unique", lambda phone, email: None)
    with pytest.raises(accounts.DuplicateAccountError):
        accounts.register_volunteer(full_name="X", phone="01099999999", password="long enough pw")
    assert count(User) == 1  # the session was rolled back and still works
    with pytest.raises(IntegrityError):  # the constraint itself is what catches the race
        db.session.add(User(full_name="Y", phone="+201099999999", password_hash="x"))
        db.session.flush()
    db.session.rollback()


def test_logged_in_user_is_sent_away_from_register(client, factory, login_as):
    login_as(factory.user("volunteer"))
    assert client.get("/register").status_code == 302
