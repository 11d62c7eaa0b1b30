"""Coordinator coverage and shifts at risk against a hand-built week, with scopes and roles."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from web.services import coverage as service

EN = {"Accept-Language": "en"}
CAIRO = ZoneInfo("Africa/Cairo")
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def today() -> date:
    return datetime.now(CAIRO).date()


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A Cairo wall-clock time ``days`` after today, as an aware UTC datetime."""
    return datetime.combine(today() + timedelta(days=days), time(hour, minute), tzinfo=CAIRO)


@pytest.fixture
def week(factory):
    """Three institutions; four counted shifts (14 needed, 7 filled) and four that must not count.

    day +1: s1 Cairo orphanage 10:00, 4 needed (1 reserved), 3 filled (2 open + 1 reserved)
    day +2: s2 Cairo orphanage 10:00, 2 needed, 0 filled
            s4 Alexandria disability centre 09:00, 5 needed, 1 filled
    day +3: s3 Giza elderly home 00:30 Cairo time (the evening before in UTC), 3 needed, full
    """
    cairo = factory.institution(kind="orphanage", governorate="EG-C", name_en="Cairo Home")
    giza = factory.institution(kind="elderly_home", governorate="EG-GZ", name_en="Giza Elders")
    alex = factory.institution(
        kind="disability_centre", governorate="EG-ALX", name_en="Alex Centre"
    )
    o_cairo = factory.opportunity(cairo, title_en="Cairo tutoring")
    o_giza = factory.opportunity(giza, title_en="Giza visits")
    o_alex = factory.opportunity(alex, title_en="Alex physio")
    s1 = factory.shift(o_cairo, start=at(1, 10), needed=4, skills={"music": 1})
    s1.open_taken = 2
    s1.requirements[0].taken = 1
    s2 = factory.shift(o_cairo, start=at(2, 10), needed=2)
    s3 = factory.shift(o_giza, start=at(3, 0, 30), needed=3)
    s3.open_taken = 3
    s4 = factory.shift(o_alex, start=at(2, 9), needed=5)
    s4.open_taken = 1
    # Not counted: cancelled, outside the default 7 days, a draft opportunity's, a closed one's.
    factory.shift(o_cairo, start=at(1, 15), needed=10, status="cancelled")
    factory.shift(o_cairo, start=at(10, 10), needed=10)
    factory.shift(factory.opportunity(cairo, status="draft"), start=at(1, 12), needed=10)
    factory.shift(factory.opportunity(giza, status="closed"), start=at(1, 12), needed=10)
    factory.db.session.commit()
    return {"s1": s1, "s2": s2, "s3": s3, "s4": s4}


def numbers(rows):
    return {row.label: (row.needed, row.filled, row.shifts) for row in rows}


def run(args, scope):
    query = service.parse_query(args, scope, today())
    return query, service.coverage(query, scope)


def test_coverage_by_governorate_kind_and_day(app, week):
    query, report = run({}, None)
    assert not query.errors
    assert (report.first_day, report.last_day) == (today(), today() + timedelta(days=6))
    assert (report.total.needed, report.total.filled, report.total.shifts) == (14, 7, 4)
    assert numbers(report.by_governorate) == {
        "القاهرة": (6, 3, 2),
        "الجيزة": (3, 3, 1),
        "الإسكندرية": (5, 1, 1),
    }
    assert {row.key: (row.needed, row.filled) for row in report.by_kind} == {
        "orphanage": (6, 3),
        "elderly_home": (3, 3),
        "disability_centre": (5, 1),
    }
    by_day = [(row.key, row.needed, row.filled) for row in report.by_day]
    assert len(by_day) == 7
    assert by_day[1] == (today() + timedelta(days=1), 4, 3)
    assert by_day[2] == (today() + timedelta(days=2), 7, 1)
    # 00:30 in Cairo belongs to that Cairo day, although it is the evening before in UTC.
    assert by_day[3] == (today() + timedelta(days=3), 3, 3)
    assert sum(row[1] for row in by_day) == 14
    assert by_day[0][1:] == (0, 0)


def test_day_boundaries_are_cairo_midnights(app):
    bounds = service.day_bounds(date(2026, 1, 10), date(2026, 1, 11), "Africa/Cairo")
    assert bounds[0] == datetime(2026, 1, 9, 22, 0, tzinfo=UTC)
    assert len(bounds) == 3 and bounds[-1] - bounds[0] == timedelta(days=2)


def test_filters_narrow_the_report(app, factory, week):
    giza = factory.governorate("EG-GZ").id
    _, report = run({"governorate": str(giza)}, None)
    assert (report.total.needed, report.total.filled) == (3, 3)
    _, report = run({"kind": "orphanage"}, None)
    assert (report.total.needed, report.total.filled) == (6, 3)
    start = (today() + timedelta(days=2)).isoformat().translate(ARABIC_DIGITS)
    end = (today() + timedelta(days=2)).isoformat()
    query, report = run({"start": start, "end": end}, None)
    assert not query.errors
    assert (report.total.needed, report.total.filled, len(report.by_day)) == (7, 1, 1)
    # A longer range reaches the shift ten days away.
    query, report = run({"end": (today() + timedelta(days=12)).isoformat()}, None)
    assert report.total.needed == 24


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"start": "tomorrow"}, "Enter dates as YYYY-MM-DD"),
        ({"end": "2026-02-30"}, "Enter dates as YYYY-MM-DD"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end date is before the start date"),
        ({"start": "2026-01-01", "end": "2026-12-31"}, "At most 62 days"),
        ({"governorate": "999"}, "Unknown governorate filter"),
        ({"governorate": "x"}, "Unknown governorate filter"),
        ({"kind": "zoo"}, "Unknown institution kind filter"),
    ],
)
def test_bad_filters_are_refused_with_a_message(app, client, factory, login_as, args, message):
    login_as(factory.user("coordinator", national_scope=True))
    response = client.get("/coordinate", query_string=args, headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_range_is_shortened_to_the_maximum(app):
    query = service.parse_query({"start": "2026-01-01", "end": "2026-12-31"}, None, today())
    assert (query.last_day - query.first_day).days + 1 == service.MAX_DAYS


def test_governorate_coordinator_sees_only_their_scope(app, client, factory, login_as, week):
    coordinator = factory.user("coordinator")
    coordinator.governorates.append(factory.governorate("EG-C"))
    factory.db.session.commit()
    scope = coordinator.governorate_ids()
    _, report = run({}, scope)
    assert (report.total.needed, report.total.filled) == (6, 3)
    assert list(numbers(report.by_governorate)) == ["القاهرة"]
    # Asking for a governorate outside the scope is refused, not shown.
    query, report = run({"governorate": str(factory.governorate("EG-GZ").id)}, scope)
    assert query.errors and report.total.needed == 6

    login_as(coordinator)
    html = client.get("/coordinate", headers=EN).get_data(as_text=True)
    assert "3 of 6 places filled in 2 shifts; 3 still free." in html
    assert "Giza" not in html and "Alexandria" not in html
    at_risk = client.get("/coordinate/at-risk", headers=EN).get_data(as_text=True)
    assert "Cairo Home" in at_risk and "Alex Centre" not in at_risk


def test_coordinator_without_governorates_sees_nothing(app, factory, week):
    coordinator = factory.user("coordinator")
    _, report = run({}, coordinator.governorate_ids())
    assert report.total.needed == 0 and report.by_governorate == []


def test_coverage_page_in_both_languages_with_meters(app, client, factory, login_as, week):
    login_as(factory.user("admin"))
    response = client.get("/coordinate", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    assert "7 of 14 places filled in 4 shifts; 7 still free." in html
    assert '<meter class="coverage-total" min="0" max="14" value="7"' in html
    assert '<meter min="0" max="6" value="3"' in html  # Cairo
    assert "Giza" in html and "Elderly home" in html
    assert "(days in the Africa/Cairo time zone)" in html
    first, last, day = (today() + timedelta(days=n) for n in (0, 6, 2))
    giza = factory.governorate("EG-GZ").id
    assert f'href="/coordinate?start={first}&amp;end={last}&amp;governorate={giza}"' in html
    assert f'href="/coordinate?start={first}&amp;end={last}&amp;kind=elderly_home"' in html
    assert f'href="/coordinate?start={day}&amp;end={day}"' in html
    assert "style=" not in html
    html = client.get("/coordinate").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "القاهرة" in html and "الجيزة" in html


@pytest.mark.parametrize("role", ["volunteer", "manager"])
def test_volunteers_and_managers_are_refused(client, factory, login_as, role):
    login_as(factory.user(role))
    assert client.get("/coordinate").status_code == 403
    assert client.get("/coordinate/at-risk").status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/coordinate")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_at_risk_lists_under_filled_shifts_starting_soon(app, client, factory, login_as, week):
    cairo = week["s1"].opportunity
    factory.shift(cairo, start=datetime.now(UTC) - timedelta(hours=1), needed=2)  # started
    factory.shift(cairo, start=datetime.now(UTC) + timedelta(hours=80), needed=2)  # too far
    result = service.at_risk(None, 72)
    assert [item.shift.id for item in result.items] == [
        week["s1"].id,
        week["s4"].id,
        week["s2"].id,
    ]
    assert [item.free for item in result.items] == [1, 4, 2]
    assert result.items[0].governorate.code == "EG-C"

    login_as(factory.user("coordinator", national_scope=True))
    html = client.get("/coordinate/at-risk", headers=EN).get_data(as_text=True)
    assert "3 shifts at risk" in html
    assert "1 of 4 free" in html and "4 of 5 free" in html and "2 of 2 free" in html
    assert "Giza Elders" not in html  # full
    assert html.index("Cairo tutoring") < html.index("Alex physio")
    if "manager.shift_roster" in app.view_functions:
        assert f'href="/manage/shifts/{week["s1"].id}"' in html
    html = client.get("/coordinate/at-risk").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and "القاهرة" in html


def test_at_risk_window_comes_from_the_configuration(app, client, factory, login_as, monkeypatch):
    shift = factory.shift(start=datetime.now(UTC) + timedelta(hours=30), needed=2)
    login_as(factory.user("admin"))
    monkeypatch.setitem(app.config, "SHIFTS_AT_RISK_HOURS", 24)
    html = client.get("/coordinate/at-risk", headers=EN).get_data(as_text=True)
    assert "No shift is at risk" in html
    monkeypatch.setitem(app.config, "SHIFTS_AT_RISK_HOURS", 48)
    html = client.get("/coordinate/at-risk", headers=EN).get_data(as_text=True)
    assert "1 shift at risk" in html and f"/opportunities/{shift.opportunity_id}" in html


def test_at_risk_pages(app, client, factory, login_as):
    opportunity = factory.opportunity()
    start = datetime.now(UTC) + timedelta(hours=2)
    for n in range(service.AT_RISK_PAGE_SIZE + 1):
        factory.shift(opportunity, start=start + timedelta(minutes=n), needed=1)
    login_as(factory.user("admin"))
    html = client.get("/coordinate/at-risk", headers=EN).get_data(as_text=True)
    assert "Page 1 of 2" in html and html.count("<meter") == service.AT_RISK_PAGE_SIZE
    html = client.get("/coordinate/at-risk?page=" + "2".translate(ARABIC_DIGITS)).get_data(
        as_text=True
    )
    assert html.count("<meter") == 1
