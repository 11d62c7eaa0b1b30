"""Coverage for coordinators: places filled against places needed, and the shifts at risk."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import INSTITUTION_KINDS, Governorate, Institution, Opportunity, Shift, utcnow
from web.services.browse import filled_expression, kind_label, parse_id, requirement_taken
from web.text import ascii_digits

DEFAULT_DAYS = 7
MAX_DAYS = 62
AT_RISK_PAGE_SIZE = 50


@dataclass(frozen=True)
class CoverageRow:
    """Needed and filled places for one governorate, kind or day."""

    key: object
    label: str
    needed: int
    filled: int
    shifts: int

    @property
    def free(self) -> int:
        return self.needed - self.filled

    @property
    def ratio(self) -> float:
        return self.filled / self.needed if self.needed else 1.0


@dataclass
class Coverage:
    """Coverage of a date range, grouped three ways, with the totals."""

    first_day: date
    last_day: date
    by_governorate: list[CoverageRow]
    by_kind: list[CoverageRow]
    by_day: list[CoverageRow]
    total: CoverageRow


@dataclass
class CoverageQuery:
    """The validated coverage filters; ``errors`` says which query parameters were refused."""

    first_day: date
    last_day: date
    governorate_id: int | None = None
    kind: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_args(self) -> dict[str, object]:
        values: dict[str, object] = {
            "start": self.first_day.isoformat(),
            "end": self.last_day.isoformat(),
            "governorate": self.governorate_id,
            "kind": self.kind,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}


def local_today(zone_name: str = "Africa/Cairo", now: datetime | None = None) -> date:
    """Today's date in a zone."""
    return (now or utcnow()).astimezone(ZoneInfo(zone_name)).date()


def _parse_day(raw: str | None) -> date | None:
    text = ascii_digits(raw or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_query(args: Mapping[str, str], scope: set[int] | None, today: date) -> CoverageQuery:
    """Read start, end, governorate and kind; unknown or out-of-scope values are refused."""
    query = CoverageQuery(first_day=today, last_day=today + timedelta(days=DEFAULT_DAYS - 1))
    start_raw, end_raw = args.get("start"), args.get("end")
    start = _parse_day(start_raw) if start_raw else today
    end = _parse_day(end_raw) if end_raw else None
    if start is None or (end_raw and end is None):
        query.errors.append(str(_l("Enter dates as YYYY-MM-DD: showing the next 7 days.")))
    elif end is not None and end < start:
        query.errors.append(str(_l("The end date is before the start date: showing 7 days.")))
        query.first_day = start
        query.last_day = start + timedelta(days=DEFAULT_DAYS - 1)
    elif end is not None and (end - start).days + 1 > MAX_DAYS:
        query.errors.append(
            str(_l("At most %(days)s days at a time: the range was shortened.", days=MAX_DAYS))
        )
        query.first_day = start
        query.last_day = start + timedelta(days=MAX_DAYS - 1)
    else:
        query.first_day = start
        query.last_day = end or start + timedelta(days=DEFAULT_DAYS - 1)
    raw = (args.get("governorate") or "").strip()
    if raw:
        gid = parse_id(raw)
        known = gid is not None and db.session.get(Governorate, gid) is not None
        if known and (scope is None or gid in scope):
            query.governorate_id = gid
        else:
            query.errors.append(str(_l("Unknown governorate filter: showing every governorate.")))
    raw = (args.get("kind") or "").strip()
    if raw:
        if raw in INSTITUTION_KINDS:
            query.kind = raw
        else:
            query.errors.append(str(_l("Unknown institution kind filter: showing every kind.")))
    return query


def day_bounds(first_day: date, last_day: date, zone_name: str) -> list[datetime]:
    """UTC instants of local midnight from ``first_day`` to the day after ``last_day``."""
    tz = ZoneInfo(zone_name)
    days = (last_day - first_day).days + 1
    return [
        datetime.combine(first_day + timedelta(days=i), time(0), tzinfo=tz).astimezone(UTC)
        for i in range(days + 1)
    ]


def _scoped(query: sa.Select, scope: set[int] | None) -> sa.Select:
    if scope is None:
        return query
    return query.where(Institution.governorate_id.in_(sorted(scope)))


def coverage(
    query: CoverageQuery, scope: set[int] | None, zone_name: str = "Africa/Cairo"
) -> Coverage:
    """Filled and needed places of open shifts in the range, by governorate, kind and day."""
    bounds = day_bounds(query.first_day, query.last_day, zone_name)
    taken = requirement_taken()
    day_index = sa.case(
        *[(Shift.starts_at < bound, index) for index, bound in enumerate(bounds[1:])],
        else_=None,
    )
    per_shift = (
        sa.select(
            Institution.governorate_id.label("governorate_id"),
            Institution.kind.label("kind"),
            day_index.label("day"),
            Shift.needed.label("needed"),
            filled_expression(taken).label("filled"),
        )
        .join(Institution, Institution.id == Shift.institution_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(
            Shift.status == "open",
            Opportunity.status == "open",
            Shift.starts_at >= bounds[0],
            Shift.starts_at < bounds[-1],
        )
    )
    per_shift = _scoped(per_shift, scope)
    if query.governorate_id is not None:
        per_shift = per_shift.where(Institution.governorate_id == query.governorate_id)
    if query.kind is not None:
        per_shift = per_shift.where(Institution.kind == query.kind)
    shifts = per_shift.subquery("per_shift")

    def grouped(column: sa.ColumnElement) -> list[sa.Row]:
        return db.session.execute(
            sa.select(
                column.label("key"),
                sa.func.sum(shifts.c.needed).label("needed"),
                sa.func.sum(shifts.c.filled).label("filled"),
                sa.func.count().label("shifts"),
            )
            .group_by(column)
            .order_by(column)
        ).all()

    names = {g.id: g.name for g in db.session.scalars(sa.select(Governorate))}
    by_governorate = [
        CoverageRow(row.key, names.get(row.key, "?"), int(row.needed), int(row.filled), row.shifts)
        for row in grouped(shifts.c.governorate_id)
    ]
    by_governorate.sort(key=lambda row: (-row.free, row.label))
    kind_rows = {row.key: row for row in grouped(shifts.c.kind)}
    by_kind = [
        CoverageRow(
            kind,
            kind_label(kind),
            int(kind_rows[kind].needed),
            int(kind_rows[kind].filled),
            kind_rows[kind].shifts,
        )
        for kind in INSTITUTION_KINDS
        if kind in kind_rows
    ]
    day_rows = {row.key: row for row in grouped(shifts.c.day)}
    by_day = []
    for index in range(len(bounds) - 1):
        day = query.first_day + timedelta(days=index)
        row = day_rows.get(index)
        by_day.append(
            CoverageRow(
                day,
                day.isoformat(),
                int(row.needed) if row else 0,
                int(row.filled) if row else 0,
                row.shifts if row else 0,
            )
        )
    totals = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(shifts.c.needed), 0),
            sa.func.coalesce(sa.func.sum(shifts.c.filled), 0),
            sa.func.count(),
        )
    ).one()
    total = CoverageRow("total", "", int(totals[0]), int(totals[1]), int(totals[2]))
    return Coverage(query.first_day, query.last_day, by_governorate, by_kind, by_day, total)


@dataclass(frozen=True)
class AtRiskShift:
    """An under-filled shift starting soon."""

    shift: Shift
    institution: Institution
    governorate: Governorate
    filled: int

    @property
    def free(self) -> int:
        return self.shift.needed - self.filled


@dataclass
class AtRiskPage:
    """One page of shifts at risk."""

    items: list[AtRiskShift]
    page: int
    pages: int
    total: int
    until: datetime


def at_risk(
    scope: set[int] | None, hours: int, page: int = 1, now: datetime | None = None
) -> AtRiskPage:
    """Open shifts starting within ``hours`` with free places, soonest first."""
    now = now or utcnow()
    until = now + timedelta(hours=hours)
    taken = requirement_taken()
    filled = filled_expression(taken)
    base = (
        sa.select(Shift, Institution, Governorate, filled.label("filled"))
        .join(Institution, Institution.id == Shift.institution_id)
        .join(Governorate, Governorate.id == Institution.governorate_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(
            Shift.status == "open",
            Opportunity.status == "open",
            Shift.starts_at >= now,
            Shift.starts_at < until,
            filled < Shift.needed,
        )
    )
    base = _scoped(base, scope)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / AT_RISK_PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        base.order_by(Shift.starts_at, Shift.id)
        .limit(AT_RISK_PAGE_SIZE)
        .offset((page - 1) * AT_RISK_PAGE_SIZE)
    ).all()
    items = [AtRiskShift(row[0], row[1], row[2], int(row.filled)) for row in rows]
    return AtRiskPage(items=items, page=page, pages=pages, total=total, until=until)


def scope_governorates(scope: set[int] | None) -> list[Governorate]:
    """The governorates a coordinator may filter on."""
    query = sa.select(Governorate).order_by(Governorate.id)
    if scope is not None:
        query = query.where(Governorate.id.in_(sorted(scope)))
    return list(db.session.scalars(query))
