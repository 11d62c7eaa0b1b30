"""Dashboards on a hand-built fortnight: numbers, local week and month edges, scope, CSV files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from web.services import dashboards as service

EN = {"Accept-Language": "en"}
CAIRO = ZoneInfo("Africa/Cairo")
ZONE = "Africa/Cairo"
FIRST_WEEK = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
INJECTION = '=HYPERLINK("http://evil.example","x")'


def cairo(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=CAIRO)


def assign(factory, shift, volunteer, state: str, *minutes: int) -> None:
    """An assignment, and for each of ``minutes`` a line of the attendance hours ledger."""
    from web.models import Assignment, HoursEntry

    factory.db.session.add(
        Assignment(shift=shift, volunteer_id=volunteer.id, state=state, source="self")
    )
    for amount in minutes:
        factory.db.session.add(
            HoursEntry(
                volunteer_id=volunteer.id,
                shift=shift,
                minutes=amount,
                source="manager" if amount >= 0 else "correction",
            )
        )


@pytest.fixture
def world(factory):
    """Two weeks from Monday 2 March 2026 in Cairo and Giza, and runs of three scopes.

    week 1: s1 Cairo Tue 10:00 3h, 4 needed: v1, v2 attended, v3 no-show (2 filled);
               ledger: v1 180 min, v2 180 min and a correction of -30
            s2 Giza  Wed 10:00 2h, 2 needed: v4 attended (1 filled), ledger 120 min
            s4 Cairo Sun 8 March 23:30 (21:30 UTC) 1h, 1 needed: v2 confirmed, not marked
    week 2: s3 Cairo Mon 9 March 00:30 (22:30 UTC on Sunday) 2h, 2 needed: v1 attended, 120 min
    not counted: a cancelled shift, a draft's shift, a shift on Sunday 1 March (before).
    January and February (retention only): v1, v2 in January; v1 on 1 February 00:30 Cairo.
    """
    from web.models import MatchingRun

    from_cairo = factory.institution(kind="orphanage", governorate="EG-C", name_en="Cairo Home")
    giza = factory.institution(kind="elderly_home", governorate="EG-GZ", name_en="Giza Elders")
    odd = factory.institution(
        kind="other", governorate="EG-C", name_en=INJECTION, name_ar=INJECTION
    )
    o_cairo = factory.opportunity(from_cairo)
    o_giza = factory.opportunity(giza)
    v1, v2, v3, v4, v5 = (factory.volunteer() for _ in range(5))
    week1, week2 = FIRST_WEEK, FIRST_WEEK + timedelta(weeks=1)
    s1 = factory.shift(o_cairo, start=cairo(week1 + timedelta(days=1), 10), hours=3, needed=4)
    s1.open_taken = 2
    s2 = factory.shift(o_giza, start=cairo(week1 + timedelta(days=2), 10), hours=2, needed=2)
    s2.open_taken = 1
    s4 = factory.shift(o_cairo, start=cairo(week1 + timedelta(days=6), 23, 30), hours=1, needed=1)
    s4.open_taken = 1
    s3 = factory.shift(o_cairo, start=cairo(week2, 0, 30), hours=2, needed=2)
    s3.open_taken = 1
    assign(factory, s1, v1, "attended", 180)
    assign(factory, s1, v2, "attended", 180, -30)
    assign(factory, s1, v3, "no_show")
    assign(factory, s2, v4, "attended", 120)
    assign(factory, s4, v2, "confirmed")
    assign(factory, s3, v1, "attended", 120)
    cancelled = factory.shift(
        o_cairo, start=cairo(week1 + timedelta(days=3), 10), needed=10, status="cancelled"
    )
    assign(factory, cancelled, v5, "attended")
    draft = factory.opportunity(from_cairo, status="draft")
    factory.shift(draft, start=cairo(week1 + timedelta(days=3), 12), needed=10)
    before = factory.shift(o_cairo, start=cairo(week1 - timedelta(days=1), 23), needed=7)
    assign(factory, before, v5, "attended", 60)
    january = factory.shift(o_cairo, start=cairo(date(2026, 1, 10), 10), needed=3)
    assign(factory, january, v1, "attended")
    assign(factory, january, v2, "attended")
    february = factory.shift(o_cairo, start=cairo(date(2026, 2, 1), 0, 30), needed=3)
    assign(factory, february, v1, "attended")

    def run(kind, ids, created, demand, filled, bound, status="published"):
        factory.db.session.add(
            MatchingRun(
                trigger="manual",
                status=status,
                scope_kind=kind,
                scope_ids=ids,
                window_start=created,
                window_end=created + timedelta(days=7),
                created_at=created,
                metrics={"demand": demand, "filled": filled, "upper_bound": bound},
            )
        )

    gid = factory.governorate("EG-GZ").id
    run("national", [], cairo(week1, 2), 10, 7, 8)
    run("governorates", [gid], cairo(week1 + timedelta(days=2), 2), 2, 1, 2)
    run("institutions", [odd.id], cairo(week2 + timedelta(days=1), 2), 3, 3, 3)
    run("national", [], cairo(week1 + timedelta(days=3), 2), 5, 0, 0, status="failed")
    run("national", [], cairo(date(2026, 2, 1), 2), 9, 9, 9)
    factory.db.session.commit()
    return {"cairo": from_cairo, "giza": giza, "odd": odd}


def query(scope=None, **args):
    args = {"start": FIRST_WEEK.isoformat(), "weeks": "2", **args}
    parsed = service.parse_query(args, scope, NOW.date())
    assert parsed.errors == []
    return parsed


def gov(factory, code):
    return factory.governorate(code).id


def test_weekly_coverage_counts_by_local_week_governorate_and_kind(app, world):
    report = service.weekly_coverage(query(), None, ZONE, NOW)
    assert report.weeks == [FIRST_WEEK, FIRST_WEEK + timedelta(weeks=1)]
    assert [(c.needed, c.filled, c.shifts) for c in report.by_week] == [(7, 4, 3), (2, 1, 1)]
    governorates = {
        row.label: [(c.needed, c.filled) for c in row.cells] for row in report.by_governorate
    }
    assert governorates == {"القاهرة": [(5, 3), (2, 1)], "الجيزة": [(2, 1), (0, 0)]}
    kinds = {row.key: row.total for row in report.by_kind}
    assert {k: (c.needed, c.filled) for k, c in kinds.items()} == {
        "orphanage": (7, 4),
        "elderly_home": (2, 1),
    }
    assert (report.total.needed, report.total.filled, report.total.free) == (9, 5, 4)


def test_activity_hours_and_no_show_rate_per_week(app, world):
    report = service.activity(query(), None, ZONE, NOW)
    first, second = report.weeks
    assert (first.active, first.hours, first.attended, first.no_shows) == (3, 7.5, 3, 1)
    assert first.no_show_rate == pytest.approx(0.25)
    assert (second.active, second.hours, second.attended, second.no_shows) == (1, 2.0, 1, 0)
    assert second.no_show_rate == 0.0
    assert report.active == 3  # v1, v2, v4: distinct over the range, not 3 + 1
    assert report.hours == 9.5  # the ledger's net minutes, correction included
    assert report.no_show_rate == pytest.approx(0.2)


def test_shifts_not_started_are_not_activity(app, world):
    early = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # after s1 and s2, before s4 and s3
    report = service.activity(query(), None, ZONE, early)
    assert [w.active for w in report.weeks] == [3, 0]


def test_retention_by_local_month(app, world, factory):
    rows = service.retention(None, ZONE, date(2026, 3, 20), months=3, now=NOW)
    assert [(r.month, r.active, r.returned) for r in rows] == [
        (date(2026, 1, 1), 2, 1),
        (date(2026, 2, 1), 1, 1),
        (date(2026, 3, 1), 4, None),  # v1, v2, v4 and v5 (Sunday 1 March)
    ]
    assert rows[0].rate == 0.5
    giza = service.retention({gov(factory, "EG-GZ")}, ZONE, date(2026, 3, 20), 3, now=NOW)
    assert [(r.active, r.returned) for r in giza] == [(0, 0), (0, 0), (1, None)]


def test_runs_fill_and_bound_in_the_range_and_scope(app, world, factory):
    rows = service.runs(query(), None, ZONE)
    assert [(r.demand, r.filled, r.bound) for r in rows] == [(10, 7, 8), (2, 1, 2), (3, 3, 3)]
    assert rows[0].fill_rate == 0.7 and rows[0].gap == 1
    giza = service.runs(query({gov(factory, "EG-GZ")}), {gov(factory, "EG-GZ")}, ZONE)
    assert [(r.demand, r.filled) for r in giza] == [(2, 1)]
    cairo_rows = service.runs(query({gov(factory, "EG-C")}), {gov(factory, "EG-C")}, ZONE)
    assert [(r.demand, r.filled) for r in cairo_rows] == [(3, 3)]
    national_filtered = service.runs(query(governorate=str(gov(factory, "EG-GZ"))), None, ZONE)
    assert [(r.demand, r.filled) for r in national_filtered] == [(2, 1)]


def test_giza_coordinator_sees_giza_only(app, client, factory, login_as, world):
    coordinator = factory.user("coordinator")
    coordinator.governorates.append(factory.governorate("EG-GZ"))
    factory.db.session.commit()
    login_as(coordinator)
    args = f"?start={FIRST_WEEK.isoformat()}&weeks=2"
    page = client.get("/coordinate/dashboard" + args, headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ">Giza<" in html and ">Cairo<" not in html
    coverage = read_csv(client.get("/coordinate/dashboard/coverage.csv" + args, headers=EN))
    assert coverage[1:] == [["2026-03-02", "Giza", "Elderly home", "1", "2", "1", "1"]]
    volunteers = read_csv(client.get("/coordinate/dashboard/volunteers.csv" + args, headers=EN))
    assert volunteers[1:] == [
        ["2026-03-02", "1", "2.0", "1", "0", "0.0"],
        ["2026-03-09", "0", "0.0", "0", "0", ""],
    ]
    runs = read_csv(client.get("/coordinate/dashboard/runs.csv" + args, headers=EN))
    assert [row[4:7] for row in runs[1:]] == [["2", "1", "2"]]
    assert runs[1][1] == "2026-03-04T02:00+02:00"  # created, in Cairo time
    # Asking for Cairo is refused: the page says so and still shows Giza's numbers only.
    cairo_id = factory.governorate("EG-C").id
    refused = client.get(f"/coordinate/dashboard{args}&governorate={cairo_id}", headers=EN)
    assert refused.status_code == 400
    assert "Unknown governorate filter" in refused.get_data(as_text=True)
    cairo_csv = read_csv(
        client.get(f"/coordinate/dashboard/coverage.csv{args}&governorate={cairo_id}", headers=EN)
    )
    assert {row[1] for row in cairo_csv[1:]} == {"Giza"}


def test_national_coordinator_sees_every_governorate(app, client, factory, login_as, world):
    login_as(factory.user("coordinator", national_scope=True))
    args = f"?start={FIRST_WEEK.isoformat()}&weeks=2"
    coverage = read_csv(client.get("/coordinate/dashboard/coverage.csv" + args, headers=EN))
    assert coverage[1:] == [
        ["2026-03-02", "Cairo", "Orphanage", "2", "5", "3", "2"],
        ["2026-03-02", "Giza", "Elderly home", "1", "2", "1", "1"],
        ["2026-03-09", "Cairo", "Orphanage", "1", "2", "1", "1"],
    ]
    page = client.get("/coordinate/dashboard" + args, headers=EN).get_data(as_text=True)
    assert 'role="img"' in page and '<title id="chart-coverage-title">' in page
    assert "Week of " in page  # the chart's text alternative names the weeks


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_is_arabic_by_default_and_escapes_formulas(app, client, factory, login_as, world):
    login_as(factory.user("admin"))
    args = f"?start={FIRST_WEEK.isoformat()}&weeks=2"
    rows = read_csv(client.get("/coordinate/dashboard/runs.csv" + args))
    assert rows[0][0] == "جولة المطابقة"
    scopes = [row[3] for row in rows[1:]]
    assert scopes[-1] == "'" + INJECTION  # an institution named like a formula stays text
    assert scopes[0] == "على مستوى الدولة"


@pytest.mark.parametrize("role", ["volunteer", "manager"])
def test_dashboard_is_for_coordinators_and_admins(app, client, factory, login_as, role):
    login_as(factory.user(role))
    for path in ("", "/coverage.csv", "/volunteers.csv", "/retention.csv", "/runs.csv"):
        assert client.get("/coordinate/dashboard" + path).status_code == 403


def test_dashboard_needs_a_login(app, client):
    response = client.get("/coordinate/dashboard/coverage.csv")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_bad_filters_are_refused_with_a_message(app, client, factory, login_as):
    login_as(factory.user("admin"))
    response = client.get("/coordinate/dashboard?start=2026-13-40&weeks=400", headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter dates as YYYY-MM-DD" in html and "Choose between 1 and 26 weeks" in html


def test_week_edges_follow_the_local_zone_with_summer_time():
    """Egypt's summer time starts on Friday 24 April 2026: that week is an hour short in UTC."""
    bounds = service.local_midnights([date(2026, 4, 20), date(2026, 4, 27)], ZONE)
    assert [b.astimezone(CAIRO).time() for b in bounds] == [time(0), time(0)]
    assert bounds[1] - bounds[0] == timedelta(days=7, hours=-1)


def report(factory, institution, status: str) -> None:
    from web.models import MonitoringReport

    factory.db.session.add(
        MonitoringReport(
            author_id=factory.volunteer().id,
            institution_id=institution.id,
            visited_at=cairo(FIRST_WEEK, 11),
            institution_kind=institution.kind,
            checklist={},
            notes="",
            severity="serious",
            status=status,
        )
    )
    factory.db.session.commit()


def test_open_reports_only_for_monitoring_coordinators_in_scope(
    app, client, factory, login_as, world
):
    for status in ("submitted", "under_review", "referred", "closed"):
        report(factory, world["giza"], status)
    report(factory, world["cairo"], "submitted")
    giza = factory.governorate("EG-GZ")
    monitor = factory.user("coordinator", can_monitor=True)
    monitor.governorates.append(giza)
    plain = factory.user("coordinator")
    plain.governorates.append(giza)
    national = factory.user("coordinator", national_scope=True, can_monitor=True)
    factory.db.session.commit()
    assert service.open_reports(monitor, {giza.id}) == 3  # Giza's open ones, not Cairo's
    assert service.open_reports(national, None) == 4
    assert service.open_reports(national, None, giza.id) == 3
    assert service.open_reports(plain, {giza.id}) is None
    assert service.open_reports(factory.user("admin"), None) is None  # no monitoring role
    login_as(monitor)
    html = client.get("/coordinate/dashboard", headers=EN).get_data(as_text=True)
    assert "open monitoring reports" in html and 'href="/monitoring/reports"' in html
    assert '<span class="stat-value">3</span>' in html
    login_as(plain)
    html = client.get("/coordinate/dashboard", headers=EN).get_data(as_text=True)
    assert "open monitoring reports" not in html
