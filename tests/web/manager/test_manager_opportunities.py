"""Creating, editing and closing opportunities through the manager's pages."""

from __future__ import annotations

from tests.conftest import make_app
from web.extensions import db
from web.models import AuditEvent, Opportunity, Shift

EN = {"Accept-Language": "en"}


def _data(**extra):
    data = {
        "title_ar": "تدريس أسبوعي",
        "title_en": "Weekly tutoring",
        "description_ar": "مساعدة البنات في المذاكرة",
        "description_en": "Help girls aged 10-14 with homework",
        "requirements_ar": "",
        "requirements_en": "Patience",
        "commitment_ar": "",
        "commitment_en": "Two hours every Saturday",
        "status": "open",
    }
    data.update(extra)
    return data


def test_create_opportunity_with_skills_in_english(manager_client, home, factory):
    tutoring, english = factory.skill("tutoring"), factory.skill("english")
    response = manager_client.post(
        f"/manage/institutions/{home.id}/opportunities/new",
        data=_data(skills=[str(tutoring.id), str(english.id)]),
        headers=EN,
    )
    assert response.status_code == 302
    opportunity = db.session.query(Opportunity).one()
    assert opportunity.institution_id == home.id
    assert [s.code for s in opportunity.skills] == ["tutoring", "english"]
    assert opportunity.commitment_en == "Two hours every Saturday"
    assert opportunity.status == "open"
    event = db.session.query(AuditEvent).filter_by(action="opportunity.create").one()
    assert event.object_id == opportunity.id
    page = manager_client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Weekly tutoring" in page and "English teaching" in page


def test_create_opportunity_in_arabic_with_arabic_title_only(manager_client, home):
    page = manager_client.get(f"/manage/institutions/{home.id}/opportunities/new")
    assert '<html lang="ar" dir="rtl">' in page.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/institutions/{home.id}/opportunities/new",
        data=_data(title_en="", status="draft"),
    )
    assert response.status_code == 302
    opportunity = db.session.query(Opportunity).one()
    assert opportunity.title_ar == "تدريس أسبوعي" and opportunity.title_en == ""
    assert opportunity.status == "draft"
    text = manager_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "تدريس أسبوعي" in text


def test_html_and_bidi_in_titles_are_stored_cleaned_and_shown_escaped(manager_client, home):
    response = manager_client.post(
        f"/manage/institutions/{home.id}/opportunities/new",
        data=_data(title_en="<b>Bold</b>\u202e\u200bgnirotut", description_en="<script>x</script>"),
    )
    assert response.status_code == 302
    opportunity = db.session.query(Opportunity).one()
    assert opportunity.title_en == "<b>Bold</b>gnirotut"
    assert "\u202e" not in opportunity.title_en
    text = manager_client.get(f"/manage/opportunities/{opportunity.id}", headers=EN).get_data(
        as_text=True
    )
    assert "&lt;b&gt;Bold&lt;/b&gt;gnirotut" in text
    assert "<b>Bold</b>" not in text and "<script>x</script>" not in text


OPPORTUNITY_BAD_INPUT = [
    ({"title_ar": "", "title_en": ""}, "Give a title in Arabic or English"),
    ({"title_ar": "   ", "title_en": "\u200b\u202e"}, "Give a title in Arabic or English"),
    ({"title_en": "x" * 201}, "200"),
    ({"description_ar": "x" * 5001}, "5000"),
    ({"commitment_en": "x" * 301}, "300"),
    ({"skills": ["99999"]}, "Choose skills from the list."),
    ({"skills": ["abc"]}, "Choose skills from the list."),
    ({"status": "published"}, "Choose a status from the list."),
    ({"status": "closed"}, "Choose a status from the list."),
]


def test_opportunity_form_refuses_bad_input_and_writes_nothing(manager_client, home):
    for data, message in OPPORTUNITY_BAD_INPUT:
        response = manager_client.post(
            f"/manage/institutions/{home.id}/opportunities/new", data=_data(**data), headers=EN
        )
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert db.session.query(Opportunity).count() == 0
    assert db.session.query(AuditEvent).count() == 0


def test_inactive_skill_is_refused(manager_client, home, factory):
    music = factory.skill("music")
    music.active = False
    db.session.commit()
    try:
        response = manager_client.post(
            f"/manage/institutions/{home.id}/opportunities/new",
            data=_data(skills=[str(music.id)]),
            headers=EN,
        )
        assert response.status_code == 400
        assert db.session.query(Opportunity).count() == 0
    finally:  # skills are reference data: the database cleaner keeps them between tests
        music = factory.skill("music")
        music.active = True
        db.session.commit()


def test_edit_opportunity_changes_texts_skills_and_status(manager_client, opportunity, factory):
    form = manager_client.get(f"/manage/opportunities/{opportunity.id}/edit", headers=EN)
    assert opportunity.title_en in form.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/opportunities/{opportunity.id}/edit",
        data=_data(title_en="Reading club", status="draft", skills=[str(factory.skill().id)]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert opportunity.title_en == "Reading club" and opportunity.status == "draft"
    assert [s.code for s in opportunity.skills] == ["tutoring"]
    assert db.session.query(AuditEvent).filter_by(action="opportunity.update").count() == 1


def test_edit_with_empty_titles_keeps_the_old_ones(manager_client, opportunity):
    before = opportunity.title_en
    response = manager_client.post(
        f"/manage/opportunities/{opportunity.id}/edit",
        data=_data(title_ar="", title_en=""),
        headers=EN,
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert opportunity.title_en == before


def test_another_institutions_opportunity_cannot_be_edited_or_closed(
    manager_client, factory, other_home
):
    theirs = factory.opportunity(other_home)
    assert (
        manager_client.post(f"/manage/opportunities/{theirs.id}/edit", data=_data()).status_code
        == 403
    )
    assert manager_client.post(f"/manage/opportunities/{theirs.id}/close").status_code == 403
    db.session.expire_all()
    assert theirs.status == "open" and theirs.title_en != "Weekly tutoring"


def test_close_cancels_upcoming_shifts_and_releases_places(manager_client, opportunity, factory):
    from tests.web.manager.conftest import assign

    shift = factory.shift(opportunity, needed=2)
    volunteer = factory.volunteer()
    assignment = assign(shift, volunteer, "confirmed")
    confirm = manager_client.get(f"/manage/opportunities/{opportunity.id}/close", headers=EN)
    text = confirm.get_data(as_text=True)
    assert "1 upcoming shift will be cancelled." in text
    response = manager_client.post(f"/manage/opportunities/{opportunity.id}/close")
    assert response.status_code == 302
    db.session.expire_all()
    assert opportunity.status == "closed"
    assert shift.status == "cancelled" and shift.open_taken == 0
    assert assignment.state == "cancelled"
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"opportunity.close", "shift.cancel"} <= actions
    # A closed opportunity takes no new shifts.
    again = manager_client.post(
        f"/manage/opportunities/{opportunity.id}/shifts/new",
        data={"day": "2030-01-01", "start_time": "10:00", "end_time": "12:00", "needed": "2"},
        headers=EN,
    )
    assert again.status_code == 409
    assert db.session.query(Shift).count() == 1


def test_closing_through_the_edit_form_also_cancels_shifts(manager_client, opportunity, factory):
    shift = factory.shift(opportunity)
    response = manager_client.post(
        f"/manage/opportunities/{opportunity.id}/edit", data=_data(status="closed")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert opportunity.status == "closed" and shift.status == "cancelled"


def test_forms_refuse_a_post_without_csrf_token_and_accept_one_with_it(
    database_url, factory, manager, home
):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    from tests.conftest import csrf_token_from, login

    login(client, manager)
    url = f"/manage/institutions/{home.id}/opportunities/new"
    refused = client.post(url, data=_data(), headers=EN)
    assert refused.status_code == 400
    assert db.session.query(Opportunity).count() == 0
    token = csrf_token_from(client.get(url, headers=EN).get_data(as_text=True))
    accepted = client.post(url, data=_data(csrf_token=token), headers=EN)
    assert accepted.status_code == 302
    assert db.session.query(Opportunity).count() == 1
    with app.app_context():
        db.engine.dispose()
