"""Admin pages: who may see them, the account list, new staff accounts, scopes, deactivation."""

import pytest
import sqlalchemy as sa

from web.extensions import db
from web.models import AuditEvent, User
from web.services import accounts

NEW_PASSWORD = "first password 1"


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def audit_rows() -> list[tuple[str, int | None, int | None]]:
    rows = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.object_id).order_by(
            AuditEvent.id
        )
    )
    return [tuple(row) for row in rows]


@pytest.fixture
def admin(factory, login_as):
    user = factory.user("admin", full_name="Admin One")
    login_as(user)
    return user


def staff_form(**overrides):
    data = {
        "role": "coordinator",
        "full_name": "Hoda Coordinator",
        "email": "hoda@example.org",
        "phone": "",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "locale": "",
        "national": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def admin_urls(user_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/admin/users"),
        ("get", "/admin/users/new"),
        ("post", "/admin/users/new"),
        ("get", f"/admin/users/{user_id}"),
        ("post", f"/admin/users/{user_id}"),
        ("post", f"/admin/users/{user_id}/deactivate"),
        ("post", f"/admin/users/{user_id}/reactivate"),
    ]


def test_anonymous_visitors_are_sent_to_login(client, factory):
    target = factory.user("volunteer")
    for method, url in admin_urls(target.id):
        response = getattr(client, method)(url, data=staff_form())
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    assert count(User) == 1 and count(AuditEvent) == 0


def test_other_roles_get_403_and_change_nothing(client, factory, login_as):
    target = factory.user("volunteer")
    for role in ["volunteer", "manager", "coordinator"]:
        login_as(factory.user(role, national_scope=role == "coordinator"))
        for method, url in admin_urls(target.id):
            response = getattr(client, method)(url, data=staff_form())
            assert response.status_code == 403, (role, url)
    db.session.refresh(target)
    assert target.active and count(User) == 4 and count(AuditEvent) == 0


def test_user_list_shows_staff_and_volunteers_in_both_languages(client, factory, admin):
    factory.volunteer(full_name="<b>Sara</b>\u202e Volunteer")
    factory.user("manager", full_name="Karim Manager")
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "&lt;b&gt;Sara&lt;/b&gt;" in page and "<b>Sara</b>" not in page
    assert "Karim Manager" in page and "Admin One" in page
    page = client.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "3 accounts" in page
    assert "Institution manager" in page and "Volunteer" in page


def test_user_list_filters_by_role_and_searches(client, factory, admin):
    factory.volunteer(full_name="Sara Volunteer", phone="+201012345678", email="sara@example.org")
    factory.user("manager", full_name="Karim Manager", email="karim@example.org")
    factory.user("coordinator", full_name="Hoda 100%", national_scope=True)

    def names(**query):
        page = client.get("/admin/users", query_string=query, headers={"Accept-Language": "en"})
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {n for n in ("Sara", "Karim", "Hoda", "Admin One") if n in text}

    assert names(role="manager") == {"Karim"}
    assert names(role="volunteer") == {"Sara"}
    assert names(q="karim@EXAMPLE") == {"Karim"}
    assert names(q="sara") == {"Sara"}
    assert names(q="01012345678") == {"Sara"}
    assert names(q="٠١٠١٢٣٤٥٦٧٨") == {"Sara"}
    assert names(q="100%") == {"Hoda"}
    assert names(q="%") == {"Hoda"}  # a literal percent sign, not a wildcard
    assert names(role="coordinator", q="sara") == set()
    assert client.get("/admin/users", query_string={"role": "pirate"}).status_code == 400
    assert client.get("/admin/users", query_string={"q": "x" * 101}).status_code == 400
    assert client.get("/admin/users", query_string={"page": "٩٩"}).status_code == 200


def test_search_users_paginates(app, factory):
    for _ in range(5):
        factory.user("volunteer")
    first = accounts.search_users(page=1, per_page=2)
    last = accounts.search_users(page=3, per_page=2)
    assert first.total == 5 and first.pages == 3 and len(last.items) == 1
    assert first.items[0].id > first.items[1].id  # newest first


def test_new_staff_page_in_both_languages(client, factory, admin):
    factory.institution(name_ar="دار الأمل", name_en="Dar Al Amal")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "دار الأمل" in page and "القاهرة" in page
    page = client.get("/admin/users/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Dar Al Amal" in page and "Cairo" in page and 'name="institutions"' in page


def test_admin_creates_a_manager_of_two_institutions(client, factory, admin):
    first, second = factory.institution(), factory.institution()
    factory.institution()
    response = client.post(
        "/admin/users/new",
        data=staff_form(
            role="manager",
            national=None,
            email="Karim@Example.org",
            phone="٠١٠١٢٣٤٥٦٧٨",
            institutions=[str(first.id), str(second.id)],
        ),
    )
    assert response.status_code == 302
    user = db.session.execute(sa.select(User).where(User.role == "manager")).scalar_one()
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.email == "karim@example.org" and user.phone == "+201012345678"
    assert [i.id for i in user.managed_institutions] == [first.id, second.id]
    assert user.check_password(NEW_PASSWORD) and user.active
    assert audit_rows() == [("user.staff_created", admin.id, user.id)]
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert event.details["institutions"] == [first.id, second.id]
    assert event.details["via"] == "web"


def test_admin_creates_coordinators_national_or_by_governorate(client, factory, admin):
    assert client.post("/admin/users/new", data=staff_form()).status_code == 302
    national = db.session.execute(
        sa.select(User).where(User.email == "hoda@example.org")
    ).scalar_one()
    assert national.national_scope and national.governorate_ids() is None
    response = client.post(
        "/admin/users/new",
        data=staff_form(email="amr@example.org", national=None, governorates=["EG-C", "EG-ALX"]),
    )
    assert response.status_code == 302
    scoped = db.session.execute(sa.select(User).where(User.email == "amr@example.org")).scalar_one()
    assert not scoped.national_scope
    assert {g.code for g in scoped.governorates} == {"EG-C", "EG-ALX"}


def test_admin_creates_another_admin(client, admin):
    response = client.post(
        "/admin/users/new", data=staff_form(role="admin", national=None, locale="en")
    )
    assert response.status_code == 302
    user = db.session.execute(sa.select(User).where(User.email == "hoda@example.org")).scalar_one()
    assert user.role == "admin" and user.locale == "en"


def test_new_staff_bad_input_writes_nothing(client, factory, admin):
    home = factory.institution()
    factory.user("volunteer", email="taken@example.org", phone="+201055555555")
    cases = [
        ({"role": ""}, "role", "Choose a staff role."),
        ({"role": "volunteer"}, "role", "Choose a staff role."),
        ({"full_name": ""}, "full_name", "Enter your full name."),
        ({"full_name": "n" * 121}, "full_name", "too long"),
        ({"email": ""}, "email", "Enter an email address."),
        ({"email": "nope"}, "email", "This is not a valid email address."),
        ({"phone": "123"}, "phone", "This is not a valid phone number."),
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"confirm": "different one"}, "confirm", "The two passwords are not the same."),
        ({"locale": "de"}, "locale", "Choose Arabic or English."),
        ({"role": "manager", "national": None}, "institutions", "at least one institution"),
        (
            {"role": "manager", "national": None, "institutions": ["99999"]},
            "institutions",
            "Choose institutions from the list.",
        ),
        (
            {"role": "manager", "national": None, "institutions": ["abc"]},
            "institutions",
            "Choose institutions from the list.",
        ),
        (
            {
                "role": "manager",
                "national": None,
                "institutions": [str(home.id)],
                "governorates": ["EG-C"],
            },
            "governorates",
            "not to governorates",
        ),
        ({"national": None}, "governorates", "national scope or at least one governorate"),
        ({"governorates": ["EG-C"]}, "governorates", "not both"),
        (
            {"national": None, "governorates": ["XX-9"]},
            "governorates",
            "Choose governorates from the list.",
        ),
        ({"institutions": [str(home.id)]}, "institutions", "Only managers"),
        ({"role": "admin"}, "role", "leave the scope empty"),
    ]
    for overrides, field, message in cases:
        response = client.post(
            "/admin/users/new", data=staff_form(**overrides), headers={"Accept-Language": "en"}
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 400, overrides
        assert message in page, overrides
        assert f'id="{field}-error"' in page, overrides
    for overrides, field in [
        ({"email": "TAKEN@example.org"}, "email"),
        ({"phone": "01055555555"}, "phone"),
    ]:
        response = client.post(
            "/admin/users/new", data=staff_form(**overrides), headers={"Accept-Language": "en"}
        )
        assert response.status_code == 409, overrides
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert count(User) == 2 and count(AuditEvent) == 0


def test_staff_name_with_html_and_bidi_is_cleaned_and_escaped(client, admin):
    name = "<img src=x onerror=alert(1)>\u2067Hoda\u2069"
    assert client.post("/admin/users/new", data=staff_form(full_name=name)).status_code == 302
    user = db.session.execute(sa.select(User).where(User.email == "hoda@example.org")).scalar_one()
    assert user.full_name == "<img src=x onerror=alert(1)>Hoda"
    for url in ("/admin/users", f"/admin/users/{user.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "&lt;img src=x onerror=alert(1)&gt;Hoda" in page and "<img src=x" not in page


def test_edit_scope_of_manager_and_coordinator(client, factory, admin):
    first, second = factory.institution(), factory.institution()
    manager = factory.user("manager")
    manager.managed_institutions.append(first)
    coordinator = factory.user("coordinator", national_scope=True)
    db.session.commit()
    page = client.get(f"/admin/users/{manager.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'name="institutions"' in page.get_data(as_text=True)

    response = client.post(f"/admin/users/{manager.id}", data={"institutions": [str(second.id)]})
    assert response.status_code == 302
    response = client.post(f"/admin/users/{coordinator.id}", data={"governorates": ["EG-GZ"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert [i.id for i in manager.managed_institutions] == [second.id]
    assert not coordinator.national_scope and [g.code for g in coordinator.governorates] == [
        "EG-GZ"
    ]
    assert [a for a, _, _ in audit_rows()] == ["user.scope_changed", "user.scope_changed"]
    event = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars().first()
    assert event.details["before"]["institutions"] == [first.id]
    assert event.details["after"]["institutions"] == [second.id]


def test_edit_scope_bad_input_changes_nothing(client, factory, admin):
    home = factory.institution()
    manager = factory.user("manager")
    manager.managed_institutions.append(home)
    coordinator = factory.user("coordinator", national_scope=True)
    volunteer = factory.user("volunteer")
    db.session.commit()
    for user, data in [
        (manager, {}),
        (manager, {"institutions": ["424242"]}),
        (coordinator, {}),
        (coordinator, {"national": "y", "governorates": ["EG-C"]}),
        (volunteer, {"governorates": ["EG-C"]}),
    ]:
        response = client.post(f"/admin/users/{user.id}", data=data)
        assert response.status_code == 400, (user.role, data)
    db.session.expire_all()
    assert [i.id for i in manager.managed_institutions] == [home.id]
    assert coordinator.national_scope and coordinator.governorates == []
    assert count(AuditEvent) == 0
    assert client.get("/admin/users/424242").status_code == 404
    assert client.post("/admin/users/424242/deactivate").status_code == 404


def test_deactivate_and_reactivate(client, factory, admin):
    volunteer = factory.user("volunteer", email="sara@example.org")
    response = client.post(
        f"/admin/users/{volunteer.id}/deactivate",
        data={"next": "list"},
        headers={"Accept-Language": "en"},  # the flash is written in the language of the POST
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    db.session.refresh(volunteer)
    assert not volunteer.active
    page = client.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Deactivated" in page and "can no longer log in" in page
    assert client.post(f"/admin/users/{volunteer.id}/deactivate").status_code == 302  # no-op
    assert client.post(f"/admin/users/{volunteer.id}/reactivate").status_code == 302
    db.session.refresh(volunteer)
    assert volunteer.active
    assert audit_rows() == [
        ("user.deactivated", admin.id, volunteer.id),
        ("user.reactivated", admin.id, volunteer.id),
    ]


def test_admin_cannot_deactivate_themselves(client, admin):
    response = client.post(f"/admin/users/{admin.id}/deactivate", headers={"Accept-Language": "en"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    assert "You cannot deactivate your own account." in page.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active and count(AuditEvent) == 0
