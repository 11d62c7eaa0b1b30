"""Coordinator dashboards: coverage, runs, volunteers, hours, retention, and their CSV files."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_date, format_decimal, format_percent, gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from web.authz import role_required
from web.charts import Series, column_chart
from web.csv_export import csv_response
from web.i18n import current_language, format_local, text_direction
from web.labels import KIND_LABELS, RUN_STATUS_LABELS
from web.services import coverage as coverage_service
from web.services import dashboards as service

bp = Blueprint("dashboards", __name__, url_prefix="/coordinate/dashboard")


def _zone() -> str:
    return current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo")


def _query() -> tuple[service.DashboardQuery, set[int] | None]:
    scope = current_user.governorate_ids()
    today = coverage_service.local_today(_zone())
    return service.parse_query(request.args, scope, today), scope


def _week_text(day: date) -> str:
    return format_date(day, "d MMM")


def _percent(value: float | None) -> str:
    return "–" if value is None else format_percent(value)


def _number(value: float) -> str:
    return format_decimal(value, format="#,##0.#")


def _charts(board: service.Dashboard) -> dict[str, Any]:
    rtl = text_direction(current_language()) == "rtl"
    weeks = [_week_text(day) for day in board.coverage.weeks]

    def describe(category: str, series: str, value: str) -> str:
        return gettext(
            "Week of %(week)s: %(series)s %(value)s", week=category, series=series, value=value
        )

    coverage = column_chart(
        "chart-coverage",
        gettext("Places needed and filled per week"),
        weeks,
        [
            Series(gettext("Needed"), [c.needed for c in board.coverage.by_week], "series-1"),
            Series(gettext("Filled"), [c.filled for c in board.coverage.by_week], "series-2"),
        ],
        rtl=rtl,
        value_text=_number,
        describe=describe,
    )
    volunteers = column_chart(
        "chart-volunteers",
        gettext("Active volunteers per week"),
        weeks,
        [
            Series(
                gettext("Active volunteers"), [w.active for w in board.activity.weeks], "series-2"
            )
        ],
        rtl=rtl,
        value_text=_number,
        describe=describe,
    )
    hours = column_chart(
        "chart-hours",
        gettext("Hours given per week"),
        weeks,
        [Series(gettext("Hours"), [w.hours for w in board.activity.weeks], "series-3")],
        rtl=rtl,
        value_text=_number,
        describe=describe,
    )
    no_shows = column_chart(
        "chart-no-shows",
        gettext("No-show rate per week"),
        weeks,
        [
            Series(
                gettext("No-show rate"), [w.no_show_rate for w in board.activity.weeks], "series-4"
            )
        ],
        rtl=rtl,
        value_text=_percent,
        top=1.0,
        describe=describe,
    )
    runs = column_chart(
        "chart-runs",
        gettext("Places filled by each matching run and the best possible"),
        [f"#{row.id}" for row in board.runs[-12:]],
        [
            Series(gettext("Filled"), [r.filled for r in board.runs[-12:]], "series-2"),
            Series(gettext("Best possible"), [r.bound for r in board.runs[-12:]], "series-1"),
        ],
        rtl=rtl,
        value_text=_number,
        describe=lambda category, series, value: gettext(
            "Run %(run)s: %(series)s %(value)s", run=category, series=series, value=value
        ),
    )
    return {
        "coverage": coverage,
        "volunteers": volunteers,
        "hours": hours,
        "no_shows": no_shows,
        "runs": runs,
    }


@bp.get("")
@role_required("coordinator", "admin")
def dashboard() -> tuple[str, int]:
    """The coordinator's dashboard over a range of weeks, in their governorates."""
    query, scope = _query()
    board = service.dashboard(query, scope, _zone())
    board.open_reports = service.open_reports(current_user, scope, query.governorate_id)
    return render_template(
        "dashboards/dashboard.html",
        board=board,
        query=query,
        charts=_charts(board),
        governorates=coverage_service.scope_governorates(scope),
        national=scope is None,
        zone=_zone(),
        kind_labels=KIND_LABELS,
        run_status_labels=RUN_STATUS_LABELS,
        week_text=_week_text,
        percent=_percent,
        number=_number,
        format_local=format_local,
        format_date=format_date,
    ), (400 if query.errors else 200)


def _suffix(query: service.DashboardQuery) -> str:
    return f"{query.first_week.isoformat()}-{query.weeks}w"


@bp.get("/coverage.csv")
@role_required("coordinator", "admin")
def coverage_csv() -> Response:
    """Needed and filled places per week, governorate and kind."""
    query, scope = _query()
    report = service.weekly_coverage(query, scope, _zone())
    header = [
        gettext("Week starting"),
        gettext("Governorate"),
        gettext("Kind of institution"),
        gettext("Shifts"),
        gettext("Needed"),
        gettext("Filled"),
        gettext("Free"),
    ]
    rows = [
        (week, name, str(KIND_LABELS[kind]), cell.shifts, cell.needed, cell.filled, cell.free)
        for week, name, kind, cell in report.detail
    ]
    return csv_response(f"coverage-{_suffix(query)}", header, rows)


@bp.get("/volunteers.csv")
@role_required("coordinator", "admin")
def volunteers_csv() -> Response:
    """Active volunteers, hours, attended shifts and no-shows per week."""
    query, scope = _query()
    report = service.activity(query, scope, _zone())
    header = [
        gettext("Week starting"),
        gettext("Active volunteers"),
        gettext("Hours"),
        gettext("Attended"),
        gettext("No-shows"),
        gettext("No-show rate"),
    ]
    rows = [
        (
            w.week,
            w.active,
            w.hours,
            w.attended,
            w.no_shows,
            "" if w.no_show_rate is None else round(w.no_show_rate, 4),
        )
        for w in report.weeks
    ]
    return csv_response(f"volunteers-{_suffix(query)}", header, rows)


@bp.get("/retention.csv")
@role_required("coordinator", "admin")
def retention_csv() -> Response:
    """Volunteers active each month and active again the next."""
    query, scope = _query()
    today = coverage_service.local_today(_zone())
    report = service.retention(scope, _zone(), today, governorate_id=query.governorate_id)
    header = [
        gettext("Month"),
        gettext("Active volunteers"),
        gettext("Active again the next month"),
        gettext("Retention"),
    ]
    rows = [
        (
            row.month.strftime("%Y-%m"),
            row.active,
            "" if row.returned is None else row.returned,
            "" if row.rate is None else round(row.rate, 4),
        )
        for row in report
    ]
    return csv_response(f"retention-{today.isoformat()}", header, rows)


@bp.get("/runs.csv")
@role_required("coordinator", "admin")
def runs_csv() -> Response:
    """Each matching run's demand, filled places and the solver's bound."""
    query, scope = _query()
    report = service.runs(query, scope, _zone())
    names = service.scope_names(report)
    header = [
        gettext("Run"),
        gettext("Created"),
        gettext("Status"),
        gettext("Scope"),
        gettext("Places to fill"),
        gettext("Filled"),
        gettext("Best possible"),
        gettext("Fill rate"),
    ]
    rows = [
        (
            row.id,
            row.created_at.astimezone(ZoneInfo(_zone())).isoformat(timespec="minutes"),
            str(RUN_STATUS_LABELS.get(row.status, row.status)),
            names[row.id],
            row.demand,
            row.filled,
            row.bound,
            "" if row.fill_rate is None else round(row.fill_rate, 4),
        )
        for row in report
    ]
    return csv_response(f"runs-{_suffix(query)}", header, rows)
