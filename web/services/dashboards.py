"""Coordinator dashboards: weekly coverage, matching runs, volunteer activity, retention."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import (
    INSTITUTION_KINDS,
    Assignment,
    Governorate,
    HoursEntry,
    Institution,
    MatchingRun,
    MonitoringReport,
    Opportunity,
    Shift,
    User,
    utcnow,
)
from web.services.browse import filled_expression, kind_label, parse_id, requirement_taken
from web.text import ascii_digits

DEFAULT_WEEKS = 8
WEEKS_BACK = 4  # by default: four weeks before the current one, the current one and three after
MAX_WEEKS = 26
RETENTION_MONTHS = 6
MAX_RUNS = 200  # shown
RUNS_READ = 2000  # read before the scope filter (scopes are JSON lists: filtered in Python)
# Assignments that count a volunteer as active: they came (attended), or they were confirmed
# for a shift that has started and nobody marked them absent.
ACTIVE_STATES = ("attended", "confirmed")


@dataclass
class DashboardQuery:
    """The validated dashboard filters; ``errors`` says which query parameters were refused."""

    first_week: date  # a Monday
    weeks: int
    governorate_id: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def week_starts(self) -> list[date]:
        return [self.first_week + timedelta(weeks=i) for i in range(self.weeks)]

    @property
    def last_day(self) -> date:
        return self.first_week + timedelta(weeks=self.weeks) - timedelta(days=1)

    def as_args(self) -> dict[str, object]:
        values: dict[str, object] = {
            "start": self.first_week.isoformat(),
            "weeks": self.weeks,
            "governorate": self.governorate_id,
        }
        return {key: value for key, value in values.items() if value is not None}


def monday(day: date) -> date:
    """The Monday of ``day``'s week (weeks run Monday to Sunday, as the weekly caps do)."""
    return day - timedelta(days=day.weekday())


def parse_query(args: Mapping[str, str], scope: set[int] | None, today: date) -> DashboardQuery:
    """Read start (any day of the first week), weeks and governorate; refuse unknown values."""
    query = DashboardQuery(
        first_week=monday(today) - timedelta(weeks=WEEKS_BACK), weeks=DEFAULT_WEEKS
    )
    raw = ascii_digits(args.get("start") or "").strip()
    if raw:
        try:
            query.first_week = monday(date.fromisoformat(raw))
        except ValueError:
            query.errors.append(str(_l("Enter dates as YYYY-MM-DD: showing the default weeks.")))
    raw = ascii_digits(args.get("weeks") or "").strip()
    if raw:
        weeks = int(raw) if raw.isdigit() and len(raw) < 4 else None
        if weeks is None or not 1 <= weeks <= MAX_WEEKS:
            query.errors.append(
                str(_l("Choose between 1 and %(max)s weeks: showing 8.", max=MAX_WEEKS))
            )
        else:
            query.weeks = weeks
    raw = (args.get("governorate") or "").strip()
    if raw:
        gid = parse_id(raw)
        known = gid is not None and db.session.get(Governorate, gid) is not None
        if known and (scope is None or gid in scope):
            query.governorate_id = gid
        else:
            query.errors.append(str(_l("Unknown governorate filter: showing every governorate.")))
    return query


def local_midnights(days: list[date], zone_name: str) -> list[datetime]:
    """UTC instants of local midnight at the start of each day (DST-correct)."""
    tz = ZoneInfo(zone_name)
    return [datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC) for day in days]


def bucket(column: sa.ColumnElement, bounds: list[datetime]) -> sa.ColumnElement:
    """SQL: the index of the interval of ``bounds`` that ``column`` falls in (NULL outside)."""
    return sa.case(
        *[(column < bound, index) for index, bound in enumerate(bounds[1:])],
        else_=None,
    )


def effective_scope(scope: set[int] | None, governorate_id: int | None) -> set[int] | None:
    """The governorates to count: the user's scope, narrowed by the filter."""
    if governorate_id is not None:
        return {governorate_id}
    return scope


def _scoped(query: sa.Select, scope: set[int] | None) -> sa.Select:
    if scope is None:
        return query
    return query.where(Institution.governorate_id.in_(sorted(scope)))


# --- coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Needed and filled places (and shifts) in one group."""

    needed: int = 0
    filled: int = 0
    shifts: int = 0

    @property
    def free(self) -> int:
        return self.needed - self.filled

    @property
    def ratio(self) -> float | None:
        return self.filled / self.needed if self.needed else None

    def __add__(self, other: Cell) -> Cell:
        return Cell(
            self.needed + other.needed, self.filled + other.filled, self.shifts + other.shifts
        )


@dataclass
class MatrixRow:
    """One governorate or kind with a cell per week and its total."""

    key: object
    label: str
    cells: list[Cell]

    @property
    def total(self) -> Cell:
        return sum(self.cells, Cell())


@dataclass
class WeeklyCoverage:
    """Places needed and filled per week, by governorate and by kind, and the detailed rows."""

    weeks: list[date]
    by_week: list[Cell]
    by_governorate: list[MatrixRow]
    by_kind: list[MatrixRow]
    detail: list[tuple[date, str, str, Cell]]  # week, governorate name, kind, cell

    @property
    def total(self) -> Cell:
        return sum(self.by_week, Cell())


def weekly_coverage(
    query: DashboardQuery, scope: set[int] | None, zone_name: str, now: datetime | None = None
) -> WeeklyCoverage:
    """Needed and filled places of shifts per week, governorate and kind (one grouped query).

    Counted: shifts not cancelled of open opportunities, and of closed ones for shifts that have
    started (they happened before the opportunity closed); drafts never count.
    """
    now = now or utcnow()
    weeks = query.week_starts
    bounds = local_midnights([*weeks, query.first_week + timedelta(weeks=query.weeks)], zone_name)
    taken = requirement_taken()
    week = bucket(Shift.starts_at, bounds)
    per_shift = (
        sa.select(
            week.label("week"),
            Institution.governorate_id.label("governorate_id"),
            Institution.kind.label("kind"),
            Shift.needed.label("needed"),
            filled_expression(taken).label("filled"),
        )
        .join(Institution, Institution.id == Shift.institution_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(
            Shift.status == "open",
            sa.or_(
                Opportunity.status == "open",
                sa.and_(Opportunity.status == "closed", Shift.starts_at < now),
            ),
            Shift.starts_at >= bounds[0],
            Shift.starts_at < bounds[-1],
        )
    )
    per_shift = _scoped(per_shift, effective_scope(scope, query.governorate_id)).subquery()
    rows = db.session.execute(
        sa.select(
            per_shift.c.week,
            per_shift.c.governorate_id,
            per_shift.c.kind,
            sa.func.sum(per_shift.c.needed),
            sa.func.sum(per_shift.c.filled),
            sa.func.count(),
        ).group_by(per_shift.c.week, per_shift.c.governorate_id, per_shift.c.kind)
    ).all()
    names = {g.id: g.name for g in db.session.scalars(sa.select(Governorate))}
    by_week = [Cell() for _ in weeks]
    by_gov: dict[int, list[Cell]] = {}
    by_kind: dict[str, list[Cell]] = {}
    detail = []
    for index, gid, kind, needed, filled, count in rows:
        cell = Cell(int(needed or 0), int(filled or 0), int(count))
        by_week[index] += cell
        by_gov.setdefault(gid, [Cell() for _ in weeks])[index] += cell
        by_kind.setdefault(kind, [Cell() for _ in weeks])[index] += cell
        detail.append((weeks[index], names.get(gid, "?"), kind, cell))
    governorate_rows = sorted(
        (MatrixRow(gid, names.get(gid, "?"), cells) for gid, cells in by_gov.items()),
        key=lambda row: (-row.total.needed, row.label),
    )
    kind_rows = [
        MatrixRow(kind, kind_label(kind), by_kind[kind])
        for kind in INSTITUTION_KINDS
        if kind in by_kind
    ]
    detail.sort(key=lambda item: (item[0], item[1], INSTITUTION_KINDS.index(item[2])))
    return WeeklyCoverage(weeks, by_week, governorate_rows, kind_rows, detail)


# --- volunteers: activity, hours, no-shows ------------------------------------------------------


@dataclass(frozen=True)
class WeekActivity:
    """What volunteers did in one week."""

    week: date
    active: int  # distinct volunteers with an attended (or confirmed, started) shift
    hours: float  # net hours of the attendance ledger on shifts starting that week
    attended: int
    no_shows: int

    @property
    def no_show_rate(self) -> float | None:
        marked = self.attended + self.no_shows
        return self.no_shows / marked if marked else None


@dataclass
class Activity:
    """Weekly activity and the totals over the whole range."""

    weeks: list[WeekActivity]
    active: int  # distinct volunteers over the range (not the sum of the weeks)

    @property
    def hours(self) -> float:
        return sum(week.hours for week in self.weeks)

    @property
    def attended(self) -> int:
        return sum(week.attended for week in self.weeks)

    @property
    def no_shows(self) -> int:
        return sum(week.no_shows for week in self.weeks)

    @property
    def no_show_rate(self) -> float | None:
        marked = self.attended + self.no_shows
        return self.no_shows / marked if marked else None


def _assignments_in(bounds: list[datetime], scope: set[int] | None, now: datetime) -> sa.Select:
    """Assignments on shifts (not cancelled) that started inside ``bounds`` and before ``now``."""
    query = (
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Institution, Institution.id == Shift.institution_id)
        .where(
            Shift.status == "open",
            Shift.starts_at >= bounds[0],
            Shift.starts_at < min(bounds[-1], now),
        )
    )
    return _scoped(query, scope)


def ledger_minutes(bounds: list[datetime], scope: set[int] | None) -> dict[int, int]:
    """Net minutes of the attendance hours ledger per interval of ``bounds`` (by shift start).

    The ledger (web.services.attendance) is the one source of hours: check-outs write lines and
    corrections add lines, so the sum per shift is what certificates show.
    """
    interval = bucket(Shift.starts_at, bounds)
    query = (
        sa.select(interval, sa.func.sum(HoursEntry.minutes))
        .join(Shift, Shift.id == HoursEntry.shift_id)
        .join(Institution, Institution.id == Shift.institution_id)
        .where(Shift.starts_at >= bounds[0], Shift.starts_at < bounds[-1])
        .group_by(interval)
    )
    return {
        int(index): int(total or 0) for index, total in db.session.execute(_scoped(query, scope))
    }


def activity(
    query: DashboardQuery, scope: set[int] | None, zone_name: str, now: datetime | None = None
) -> Activity:
    """Active volunteers, ledger hours and no-shows per week (three grouped queries)."""
    now = now or utcnow()
    weeks = query.week_starts
    bounds = local_midnights([*weeks, query.first_week + timedelta(weeks=query.weeks)], zone_name)
    scope = effective_scope(scope, query.governorate_id)
    week = bucket(Shift.starts_at, bounds)
    base = _assignments_in(bounds, scope, now)
    rows = db.session.execute(
        base.with_only_columns(
            week.label("week"),
            sa.func.count(
                sa.distinct(sa.case((Assignment.state.in_(ACTIVE_STATES), Assignment.volunteer_id)))
            ),
            sa.func.sum(sa.case((Assignment.state == "attended", 1), else_=0)),
            sa.func.sum(sa.case((Assignment.state == "no_show", 1), else_=0)),
        ).group_by(week)
    ).all()
    found = {row[0]: row for row in rows}
    minutes = ledger_minutes(bounds, scope)
    result = []
    for index, start in enumerate(weeks):
        row = found.get(index)
        hours = round(minutes.get(index, 0) / 60, 2)
        if row is None:
            result.append(WeekActivity(start, 0, hours, 0, 0))
        else:
            result.append(WeekActivity(start, int(row[1]), hours, int(row[2]), int(row[3])))
    distinct = db.session.scalar(
        base.with_only_columns(sa.func.count(sa.distinct(Assignment.volunteer_id))).where(
            Assignment.state.in_(ACTIVE_STATES)
        )
    )
    return Activity(result, int(distinct or 0))


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionRow:
    """Volunteers active in a month, and how many of them were active again the next month."""

    month: date  # the first day
    active: int
    returned: int | None  # None for the last month (its next month is not over)

    @property
    def rate(self) -> float | None:
        if self.returned is None or not self.active:
            return None
        return self.returned / self.active


def month_starts(last_month: date, count: int) -> list[date]:
    """The first days of ``count`` months ending with ``last_month``'s."""
    year, month = last_month.year, last_month.month
    months = []
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def retention(
    scope: set[int] | None,
    zone_name: str,
    today: date,
    months: int = RETENTION_MONTHS,
    governorate_id: int | None = None,
    now: datetime | None = None,
) -> list[RetentionRow]:
    """For each of the last ``months`` months (this one included): active, and active again next.

    Active in a month: an attended shift, or a confirmed one that started, in the scope.
    """
    now = now or utcnow()
    starts = month_starts(today, months)
    next_month = month_starts(date(today.year + (today.month == 12), today.month % 12 + 1, 1), 1)
    bounds = local_midnights([*starts, *next_month], zone_name)
    scope = effective_scope(scope, governorate_id)
    month = bucket(Shift.starts_at, bounds)
    pairs = (
        _assignments_in(bounds, scope, now)
        .with_only_columns(Assignment.volunteer_id.label("volunteer_id"), month.label("month"))
        .where(Assignment.state.in_(ACTIVE_STATES))
        .distinct()
        .subquery("active_months")
    )
    later = pairs.alias("later")
    rows = db.session.execute(
        sa.select(pairs.c.month, sa.func.count(), sa.func.count(later.c.volunteer_id))
        .select_from(pairs)
        .outerjoin(
            later,
            sa.and_(
                later.c.volunteer_id == pairs.c.volunteer_id, later.c.month == pairs.c.month + 1
            ),
        )
        .group_by(pairs.c.month)
    ).all()
    found = {row[0]: (int(row[1]), int(row[2])) for row in rows}
    result = []
    for index, start in enumerate(starts):
        active, returned = found.get(index, (0, 0))
        result.append(RetentionRow(start, active, returned if index < len(starts) - 1 else None))
    return result


# --- matching runs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """A finished matching run's fill against the solver's proven bound."""

    id: int
    created_at: datetime
    trigger: str
    status: str
    scope_kind: str
    scope_ids: list[int]
    demand: int
    filled: int
    bound: int

    @property
    def fill_rate(self) -> float | None:
        return self.filled / self.demand if self.demand else None

    @property
    def gap(self) -> int:
        return max(self.bound - self.filled, 0)


def _run_visible(
    scope: set[int] | None, kind: str, ids: list[int], institution_governorate: dict[int, int]
) -> bool:
    """The run's scope lies inside ``scope`` (the rule of runs.scope_allowed, without queries)."""
    if scope is None:
        return True
    if kind == "national" or not ids:
        return False
    if kind == "governorates":
        return set(ids) <= scope
    governorates = [institution_governorate.get(i) for i in ids]
    return None not in governorates and set(governorates) <= scope


def runs(
    query: DashboardQuery, scope: set[int] | None, zone_name: str, limit: int = MAX_RUNS
) -> list[RunRow]:
    """Runs with a result (proposed, published, discarded) created in the range, oldest first.

    A coordinator sees the runs whose whole scope lies in their governorates; with a governorate
    filter, the runs whose scope lies in that governorate. The newest ``limit`` are kept.
    """
    bounds = local_midnights(
        [query.first_week, query.first_week + timedelta(weeks=query.weeks)], zone_name
    )
    rows = db.session.execute(
        sa.select(
            MatchingRun.id,
            MatchingRun.created_at,
            MatchingRun.trigger,
            MatchingRun.status,
            MatchingRun.scope_kind,
            MatchingRun.scope_ids,
            MatchingRun.metrics,
        )
        .where(
            MatchingRun.status.in_(("proposed", "published", "discarded")),
            MatchingRun.created_at >= bounds[0],
            MatchingRun.created_at < bounds[1],
        )
        .order_by(MatchingRun.created_at.desc(), MatchingRun.id.desc())
        .limit(RUNS_READ)
    ).all()
    scope = effective_scope(scope, query.governorate_id)
    institution_ids = {
        i for row in rows if row.scope_kind == "institutions" for i in (row.scope_ids or [])
    }
    institution_governorate: dict[int, int] = {}
    if scope is not None and institution_ids:
        institution_governorate = dict(
            db.session.execute(
                sa.select(Institution.id, Institution.governorate_id).where(
                    Institution.id.in_(sorted(institution_ids))
                )
            ).all()
        )
    result = []
    for row in rows:
        ids = [int(i) for i in row.scope_ids or []]
        if not _run_visible(scope, row.scope_kind, ids, institution_governorate):
            continue
        metrics: dict[str, Any] = row.metrics or {}
        result.append(
            RunRow(
                id=row.id,
                created_at=row.created_at,
                trigger=row.trigger,
                status=row.status,
                scope_kind=row.scope_kind,
                scope_ids=ids,
                demand=int(metrics.get("demand") or 0),
                filled=int(metrics.get("filled") or 0),
                bound=int(metrics.get("upper_bound") or 0),
            )
        )
    result = result[:limit]
    result.reverse()
    return result


def scope_names(rows: list[RunRow]) -> dict[int, str]:
    """A short description of each run's scope (two queries for all of them)."""
    from web.i18n import list_separator

    governorate_ids = {i for r in rows if r.scope_kind == "governorates" for i in r.scope_ids}
    institution_ids = {i for r in rows if r.scope_kind == "institutions" for i in r.scope_ids}
    governorates = {
        g.id: g.name
        for g in db.session.scalars(
            sa.select(Governorate).where(Governorate.id.in_(sorted(governorate_ids)))
        )
    }
    institutions = {
        i.id: i.name
        for i in db.session.scalars(
            sa.select(Institution).where(Institution.id.in_(sorted(institution_ids)))
        )
    }
    names = {}
    for row in rows:
        if row.scope_kind == "national":
            names[row.id] = str(_l("National"))
        else:
            table = governorates if row.scope_kind == "governorates" else institutions
            names[row.id] = list_separator().join(table.get(i, "?") for i in row.scope_ids)
    return names


# --- monitoring reports -------------------------------------------------------------------------


def open_reports(
    viewer: User, scope: set[int] | None, governorate_id: int | None = None
) -> int | None:
    """Open monitoring reports (submitted, under review, referred) of institutions in scope.

    Only for coordinators with the monitoring role (``None`` for anyone else, and the dashboard
    then leaves the number out): the reports are theirs alone to see (web.services.monitoring).
    """
    if not getattr(viewer, "is_monitoring_coordinator", False):
        return None
    from web.services.monitoring import OPEN_STATUSES

    query = (
        sa.select(sa.func.count(MonitoringReport.id))
        .join(Institution, Institution.id == MonitoringReport.institution_id)
        .where(MonitoringReport.status.in_(OPEN_STATUSES))
    )
    return int(db.session.scalar(_scoped(query, effective_scope(scope, governorate_id))) or 0)


# --- the whole dashboard ------------------------------------------------------------------------


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    query: DashboardQuery
    coverage: WeeklyCoverage
    activity: Activity
    retention: list[RetentionRow]
    runs: list[RunRow]
    run_scopes: dict[int, str]
    open_reports: int | None = None  # None: not a monitoring coordinator


def dashboard(
    query: DashboardQuery, scope: set[int] | None, zone_name: str, now: datetime | None = None
) -> Dashboard:
    """Compute every table of the dashboard for a user's scope."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(zone_name)).date()
    run_rows = runs(query, scope, zone_name)
    return Dashboard(
        query=query,
        coverage=weekly_coverage(query, scope, zone_name, now),
        activity=activity(query, scope, zone_name, now),
        retention=retention(scope, zone_name, today, governorate_id=query.governorate_id, now=now),
        runs=run_rows,
        run_scopes=scope_names(run_rows),
    )
