"""Dashboard, institution page, institution edit and authorisation of the manager area."""

from __future__ import annotations

from web.extensions import db
from web.models import AuditEvent, Institution

EN = {"Accept-Language": "en"}


def test_dashboard_lists_own_institution_with_next_shifts_in_both_languages(
    manager_client, home, opportunity, factory, other_home
):
    shift = factory.shift(opportunity, needed=4)
    factory.opportunity(other_home, title_en="Secret elsewhere")
    page = manager_client.get("/manage", headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in text
    assert "Dar Al Rahma" in text and "Other Home" not in text
    assert opportunity.title_en in text and "Secret elsewhere" not in text
    assert f"/manage/shifts/{shift.id}" in text
    assert "0 of 4 filled" in text
    arabic = manager_client.get("/manage").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "دار الرحمة" in arabic and opportunity.title_ar in arabic


def test_coordinator_sees_institutions_in_scope_and_admin_sees_all(
    client, login_as, factory, home, other_home
):
    coordinator = factory.user("coordinator", commit=False)
    coordinator.governorates = [factory.governorate("EG-ALX")]
    db.session.commit()
    login_as(coordinator)
    text = client.get("/manage", headers=EN).get_data(as_text=True)
    assert "Other Home" in text and "Dar Al Rahma" not in text
    assert client.get(f"/manage/institutions/{home.id}").status_code == 403
    assert client.get(f"/manage/institutions/{other_home.id}").status_code == 200
    login_as(factory.user("admin"))
    text = client.get("/manage", headers=EN).get_data(as_text=True)
    assert "Other Home" in text and "Dar Al Rahma" in text


MANAGER_PATHS = [
    "/manage/institutions/{home}",
    "/manage/institutions/{home}/edit",
    "/manage/institutions/{home}/contacts",
    "/manage/institutions/{home}/opportunities/new",
    "/manage/opportunities/{opp}",
    "/manage/opportunities/{opp}/edit",
    "/manage/opportunities/{opp}/close",
    "/manage/opportunities/{opp}/shifts/new",
    "/manage/opportunities/{opp}/series/new",
    "/manage/shifts/{shift}",
    "/manage/shifts/{shift}/edit",
    "/manage/shifts/{shift}/cancel",
]


def test_volunteers_get_403_and_anonymous_users_are_sent_to_log_in(
    client, login_as, factory, home, opportunity
):
    shift = factory.shift(opportunity)
    urls = ["/manage"] + [
        p.format(home=home.id, opp=opportunity.id, shift=shift.id) for p in MANAGER_PATHS
    ]
    for url in urls:
        assert client.get(url).status_code in (302, 401), url
    login_as(factory.volunteer())
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={}).status_code in (403, 405), url
    db.session.expire_all()
    assert shift.status == "open" and opportunity.status == "open"


def test_a_manager_never_reaches_another_institutions_objects(manager_client, factory, other_home):
    opportunity = factory.opportunity(other_home, title_en="Not yours")
    shift = factory.shift(opportunity)
    for path in MANAGER_PATHS:
        url = path.format(home=other_home.id, opp=opportunity.id, shift=shift.id)
        response = manager_client.get(url, headers=EN)
        assert response.status_code == 403, url
        assert "Not yours" not in response.get_data(as_text=True)
        posted = manager_client.post(url, data={"title_en": "Hijacked", "scope": "shift"})
        assert posted.status_code in (403, 405), url
    db.session.expire_all()
    assert opportunity.title_en == "Not yours" and opportunity.status == "open"
    assert shift.status == "open"
    assert db.session.query(AuditEvent).count() == 0


def test_unknown_ids_are_404(manager_client):
    for url in ("/manage/institutions/999", "/manage/opportunities/999", "/manage/shifts/999"):
        assert manager_client.get(url).status_code == 404


def test_institution_page_lists_opportunities_shifts_and_links(
    manager_client, home, opportunity, factory
):
    shift = factory.shift(opportunity)
    text = manager_client.get(f"/manage/institutions/{home.id}", headers=EN).get_data(as_text=True)
    for link in (
        f"/manage/opportunities/{opportunity.id}/edit",
        f"/manage/opportunities/{opportunity.id}/shifts/new",
        f"/manage/opportunities/{opportunity.id}/series/new",
        f"/manage/shifts/{shift.id}/edit",
        f"/manage/shifts/{shift.id}/cancel",
        f"/manage/institutions/{home.id}/contacts",
        f"/manage/institutions/{home.id}/edit",
    ):
        assert link in text
    arabic = manager_client.get(f"/manage/institutions/{home.id}").get_data(as_text=True)
    assert opportunity.title_ar in arabic and 'dir="rtl"' in arabic


def _institution_data(**extra):
    data = {
        "name_ar": "دار الرحمة الجديدة",
        "name_en": "New Rahma",
        "address_ar": "شارع التحرير",
        "address_en": "Tahrir Street",
        "phone": "٠١٠٠١٢٣٤٥٦٧",
    }
    data.update(extra)
    return data


def test_manager_edits_names_address_and_phone_but_not_kind_or_governorate(manager_client, home):
    form = manager_client.get(f"/manage/institutions/{home.id}/edit", headers=EN)
    assert 'name="kind"' not in form.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/institutions/{home.id}/edit",
        data=_institution_data(name_en="New \u202eRahma", kind="other", governorate="2"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert home.name_en == "New Rahma"
    assert home.phone == "+201001234567"
    assert home.kind == "orphanage" and home.governorate.code == "EG-C"
    event = db.session.query(AuditEvent).filter_by(action="institution.update").one()
    assert event.object_id == home.id


INSTITUTION_BAD_INPUT = [
    ({"name_ar": "", "name_en": ""}, "Give the name in Arabic or English"),
    ({"name_ar": "\u200f", "name_en": " \u202e "}, "Give the name in Arabic or English"),
    ({"name_en": "x" * 201}, "200"),
    ({"address_ar": "x" * 301}, "300"),
    ({"phone": "12"}, "valid phone"),
]


def test_institution_edit_refuses_bad_input(manager_client, home):
    for data, message in INSTITUTION_BAD_INPUT:
        response = manager_client.post(
            f"/manage/institutions/{home.id}/edit", data=_institution_data(**data), headers=EN
        )
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    db.session.expire_all()
    assert home.name_en == "Dar Al Rahma"
    assert db.session.query(AuditEvent).count() == 0


def test_coordinator_may_change_kind_and_governorate_in_scope_only(client, login_as, factory, home):
    coordinator = factory.user("coordinator", commit=False)
    coordinator.governorates = [factory.governorate("EG-C"), factory.governorate("EG-GZ")]
    db.session.commit()
    login_as(coordinator)
    giza = factory.governorate("EG-GZ")
    alexandria = factory.governorate("EG-ALX")
    url = f"/manage/institutions/{home.id}/edit"
    refused = client.post(
        url, data=_institution_data(kind="elderly_home", governorate=str(alexandria.id))
    )
    assert refused.status_code == 400
    ok = client.post(url, data=_institution_data(kind="elderly_home", governorate=str(giza.id)))
    assert ok.status_code == 302
    refreshed = db.session.get(Institution, home.id)
    db.session.refresh(refreshed)
    assert refreshed.kind == "elderly_home" and refreshed.governorate_id == giza.id
