"""Public browsing: which opportunities are listed, filters (good and bad), pages, languages."""

import re
from datetime import UTC, datetime, timedelta

import pytest

EN = {"Accept-Language": "en"}
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def soon(days: int = 2) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def page(client, query: str = "", headers=EN):
    response = client.get("/opportunities" + query, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def test_lists_open_opportunities_with_upcoming_open_shifts(client, factory):
    listed = factory.opportunity(title_en="Listed tutoring")
    factory.shift(listed, start=soon())
    draft = factory.opportunity(title_en="Draft choir", status="draft")
    factory.shift(draft, start=soon())
    closed = factory.opportunity(title_en="Closed sports", status="closed")
    factory.shift(closed, start=soon())
    past = factory.opportunity(title_en="Past visits")
    factory.shift(past, start=soon(-2))
    cancelled = factory.opportunity(title_en="Cancelled art")
    factory.shift(cancelled, start=soon(), status="cancelled")
    factory.opportunity(title_en="No shifts at all")
    hidden_home = factory.institution(active=False)
    factory.shift(factory.opportunity(hidden_home, title_en="Inactive home"), start=soon())

    status, html = page(client)
    assert status == 200
    assert "Listed tutoring" in html
    for absent in (
        "Draft choir",
        "Closed sports",
        "Past visits",
        "Cancelled art",
        "No shifts at all",
        "Inactive home",
    ):
        assert absent not in html
    assert "1 opportunity found" in html


def test_card_shows_institution_governorate_kind_dates_free_places_and_register(client, factory):
    home = factory.institution(
        kind="elderly_home", governorate="EG-GZ", name_en="Haram Elders", name_ar="دار الهرم"
    )
    opportunity = factory.opportunity(
        home, title_en="Companionship", description_en="Talk with the residents."
    )
    shift = factory.shift(opportunity, start=soon(), needed=3)
    shift.open_taken = 1
    factory.shift(opportunity, start=soon(3), needed=2)
    factory.db.session.commit()

    status, html = page(client)
    assert status == 200
    assert "Haram Elders" in html and "Giza" in html and "Elderly home" in html
    assert "Companionship" in html and "Talk with the residents." in html
    assert "4 free places" in html  # 2 of 3, plus 2 of 2
    assert html.count("<time datetime=") == 2
    assert 'href="/register"' in html or "Register to volunteer" in html
    assert f'href="/opportunities/{opportunity.id}"' in html
    assert "style=" not in html  # the CSP forbids inline styles and scripts
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_volunteer_sees_a_link_to_their_shifts_instead_of_register(app, client, factory, login_as):
    factory.shift(factory.opportunity(), start=soon())
    login_as(factory.volunteer())
    status, html = page(client)
    assert status == 200
    assert "Register to volunteer" not in html
    if "volunteer.shifts" in app.view_functions:
        assert "See shifts I can do" in html


def test_filter_by_governorate_kind_and_skill(client, factory):
    cairo = factory.institution(kind="orphanage", governorate="EG-C")
    giza = factory.institution(kind="elderly_home", governorate="EG-GZ")
    music = factory.opportunity(cairo, title_en="Choir practice")
    music.skills.append(factory.skill("music"))
    factory.shift(music, start=soon())
    reserved = factory.opportunity(giza, title_en="Physio mornings")
    factory.shift(reserved, start=soon(), skills={"physiotherapy": 1})
    plain = factory.opportunity(giza, title_en="Garden walks")
    factory.shift(plain, start=soon())
    factory.db.session.commit()

    giza_id = factory.governorate("EG-GZ").id
    _, html = page(client, f"?governorate={giza_id}")
    assert "Physio mornings" in html and "Garden walks" in html and "Choir practice" not in html

    _, html = page(client, "?kind=orphanage")
    assert "Choir practice" in html and "Garden walks" not in html

    _, html = page(client, f"?skill={factory.skill('music').id}")
    assert "Choir practice" in html and "Physio mornings" not in html
    # A skill reserved on an upcoming shift counts too.
    _, html = page(client, f"?skill={factory.skill('physiotherapy').id}")
    assert "Physio mornings" in html and "Garden walks" not in html

    _, html = page(client, f"?governorate={giza_id}&kind=elderly_home&skill=")
    assert "Garden walks" in html and "Choir practice" not in html
    assert f'<option value="{giza_id}" selected>' in html


def test_arabic_indic_digits_accepted_in_filters(client, factory):
    giza = factory.institution(governorate="EG-GZ")
    factory.shift(factory.opportunity(giza, title_en="Giza tutoring"), start=soon())
    factory.shift(factory.opportunity(title_en="Cairo tutoring"), start=soon())
    giza_id = str(factory.governorate("EG-GZ").id).translate(ARABIC_DIGITS)
    status, html = page(client, f"?governorate={giza_id}")
    assert status == 200
    assert "Giza tutoring" in html and "Cairo tutoring" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?governorate=999", "Unknown governorate filter"),
        ("?governorate=cairo", "Unknown governorate filter"),
        ("?governorate=-1", "Unknown governorate filter"),
        ("?kind=castle", "Unknown institution kind filter"),
        ("?kind=%3Cscript%3E", "Unknown institution kind filter"),
        ("?skill=999", "Unknown skill filter"),
        ("?skill=1.5", "Unknown skill filter"),
        ("?skill=" + "9" * 40, "Unknown skill filter"),
    ],
)
def test_unknown_filters_give_a_friendly_message(client, factory, query, message):
    factory.shift(factory.opportunity(title_en="Still listed"), start=soon())
    status, html = page(client, query)
    assert status == 400
    assert message in html
    assert "Still listed" in html  # the refused filter is dropped, the rest still works
    assert "<script>" not in html


def test_inactive_skill_is_an_unknown_filter(client, factory):
    skill = factory.skill("cooking")
    skill.active = False
    factory.db.session.commit()
    status, html = page(client, f"?skill={skill.id}")
    assert status == 400 and "Unknown skill filter" in html


def test_pagination_keeps_filters_and_accepts_arabic_digits(client, factory):
    home = factory.institution(governorate="EG-ALX")
    for n in range(13):
        opportunity = factory.opportunity(home, title_en=f"Session {n:02d}")
        factory.shift(opportunity, start=soon(1) + timedelta(hours=n))
    gid = factory.governorate("EG-ALX").id
    _, first = page(client, f"?governorate={gid}")
    assert first.count('class="card opportunity-card"') == 12
    assert "Page 1 of 2" in first
    assert f"governorate={gid}" in first.split('rel="next"')[1].split(">")[0]
    assert "Session 00" in first and "Session 12" not in first  # soonest first
    status, second = page(client, f"?governorate={gid}&page=" + "2".translate(ARABIC_DIGITS))
    assert status == 200
    assert second.count('class="card opportunity-card"') == 1 and "Session 12" in second
    _, beyond = page(client, f"?governorate={gid}&page=99")
    assert "Session 12" in beyond  # clamped to the last page
    _, junk = page(client, "?page=abc")
    assert "Page 1 of 2" in junk


def test_both_languages(client, factory):
    home = factory.institution(name_ar="دار الأمل", name_en="Hope Home", governorate="EG-ALX")
    factory.shift(
        factory.opportunity(home, title_ar="كورال الأطفال", title_en="Children's choir"),
        start=soon(),
    )
    html = client.get("/opportunities").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "كورال الأطفال" in html and "دار الأمل" in html and "الإسكندرية" in html
    html = client.get("/opportunities", headers=EN).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "Children&#39;s choir" in html and "Hope Home" in html and "Alexandria" in html


def test_user_text_is_escaped(client, factory):
    home = factory.institution(name_en="<b>Bold</b> home")
    factory.shift(factory.opportunity(home, title_en="<script>alert(1)</script>"), start=soon())
    _, html = page(client)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; home" in html


def test_browse_counts_free_places_in_sql_from_both_counters(client, factory):
    opportunity = factory.opportunity(title_en="Counted")
    shift = factory.shift(opportunity, start=soon(), needed=5, skills={"music": 2})
    shift.open_taken = 3
    shift.requirements[0].taken = 1
    factory.db.session.commit()
    _, html = page(client)
    assert "1 free place" in html and "1 free places" not in html
