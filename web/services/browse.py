"""Public browsing of opportunities: filters, paginated cards, detail data and interest."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from web.extensions import db
from web.forms.fields import parse_int_arg
from web.labels import KIND_LABELS
from web.models import (
    INSTITUTION_KINDS,
    Governorate,
    Institution,
    Opportunity,
    OpportunityInterest,
    Shift,
    ShiftSkillRequirement,
    Skill,
    User,
    utcnow,
)
from web.services.audit import record

PAGE_SIZE = 12
MAX_ID = 2**31 - 1
NEXT_DATES = 3
DETAIL_SHIFTS = 60


def kind_label(kind: str) -> str:
    """The institution kind in the active language."""
    return str(KIND_LABELS.get(kind, kind))


@dataclass
class BrowseFilters:
    """Validated browse filters; ``errors`` lists the query parameters that were refused."""

    governorate_id: int | None = None
    kind: str | None = None
    skill_id: int | None = None
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def as_args(self, **changes: object) -> dict[str, object]:
        """The filters as query-string values (for pagination links), without empty ones."""
        values: dict[str, object] = {
            "governorate": self.governorate_id,
            "kind": self.kind,
            "skill": self.skill_id,
            "page": self.page,
        }
        values.update(changes)
        if values["page"] == 1:
            del values["page"]
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass
class OpportunityCard:
    """One opportunity as a browse card: where, what, the next dates and the free places."""

    opportunity: Opportunity
    next_starts: list[datetime]
    free: int
    upcoming_shifts: int


@dataclass
class BrowsePage:
    """One page of browse results."""

    cards: list[OpportunityCard]
    page: int
    pages: int
    total: int


def requirement_taken() -> sa.Subquery:
    """Per shift: the places taken among its skill reservations."""
    return (
        sa.select(
            ShiftSkillRequirement.shift_id.label("shift_id"),
            sa.func.sum(ShiftSkillRequirement.taken).label("taken"),
        )
        .group_by(ShiftSkillRequirement.shift_id)
        .subquery("requirement_taken")
    )


def filled_expression(taken: sa.Subquery) -> sa.ColumnElement[int]:
    """Places held on a shift: open places taken plus reserved places taken."""
    return Shift.open_taken + sa.func.coalesce(taken.c.taken, 0)


def parse_id(raw: str | None) -> int | None:
    """A row id from the query string (any digits), or ``None`` if it cannot be one."""
    value = parse_int_arg(raw)
    return value if value is not None and 0 < value <= MAX_ID else None


def parse_filters(args: Mapping[str, str]) -> BrowseFilters:
    """Read governorate, kind, skill and page from the query string; refuse unknown values."""
    filters = BrowseFilters()
    raw = (args.get("governorate") or "").strip()
    if raw:
        gid = parse_id(raw)
        if gid is not None and db.session.get(Governorate, gid) is not None:
            filters.governorate_id = gid
        else:
            filters.errors.append(str(_l("Unknown governorate filter: showing every governorate.")))
    raw = (args.get("kind") or "").strip()
    if raw:
        if raw in INSTITUTION_KINDS:
            filters.kind = raw
        else:
            filters.errors.append(str(_l("Unknown institution kind filter: showing every kind.")))
    raw = (args.get("skill") or "").strip()
    if raw:
        sid = parse_id(raw)
        skill = db.session.get(Skill, sid) if sid is not None else None
        if skill is not None and skill.active:
            filters.skill_id = sid
        else:
            filters.errors.append(str(_l("Unknown skill filter: showing every skill.")))
    page = parse_id(args.get("page"))
    filters.page = page if page is not None else 1
    return filters


def filter_choices() -> tuple[list[Governorate], list[tuple[str, str]], list[Skill]]:
    """Governorates, kinds and active skills offered in the filter form."""
    governorates = list(db.session.scalars(sa.select(Governorate).order_by(Governorate.id)))
    kinds = [(kind, kind_label(kind)) for kind in INSTITUTION_KINDS]
    skills = list(
        db.session.scalars(sa.select(Skill).where(Skill.active.is_(True)).order_by(Skill.id))
    )
    return governorates, kinds, skills


def browse(filters: BrowseFilters, now: datetime | None = None) -> BrowsePage:
    """Open opportunities with upcoming open shifts, soonest first, one page of cards."""
    now = now or utcnow()
    taken = requirement_taken()
    upcoming = (
        sa.select(
            Shift.opportunity_id.label("opportunity_id"),
            sa.func.min(Shift.starts_at).label("next_start"),
            sa.func.sum(Shift.needed - filled_expression(taken)).label("free"),
            sa.func.count(Shift.id).label("shifts"),
        )
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(Shift.status == "open", Shift.starts_at > now)
        .group_by(Shift.opportunity_id)
        .subquery("upcoming")
    )
    query = (
        sa.select(Opportunity.id, upcoming.c.next_start, upcoming.c.free, upcoming.c.shifts)
        .join(upcoming, upcoming.c.opportunity_id == Opportunity.id)
        .join(Institution, Institution.id == Opportunity.institution_id)
        .where(Opportunity.status == "open", Institution.active.is_(True))
    )
    if filters.governorate_id is not None:
        query = query.where(Institution.governorate_id == filters.governorate_id)
    if filters.kind is not None:
        query = query.where(Institution.kind == filters.kind)
    if filters.skill_id is not None:
        reserved = (
            sa.select(ShiftSkillRequirement.id)
            .join(Shift, Shift.id == ShiftSkillRequirement.shift_id)
            .where(
                Shift.opportunity_id == Opportunity.id,
                Shift.status == "open",
                Shift.starts_at > now,
                ShiftSkillRequirement.skill_id == filters.skill_id,
            )
        )
        query = query.where(
            sa.or_(Opportunity.skills.any(Skill.id == filters.skill_id), reserved.exists())
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    rows = db.session.execute(
        query.order_by(upcoming.c.next_start, Opportunity.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [row.id for row in rows]
    opportunities = {
        o.id: o
        for o in db.session.scalars(
            sa.select(Opportunity)
            .where(Opportunity.id.in_(ids))
            .options(
                selectinload(Opportunity.institution).selectinload(Institution.governorate),
                selectinload(Opportunity.skills),
            )
        )
    }
    starts = next_starts(ids, now)
    cards = [
        OpportunityCard(
            opportunity=opportunities[row.id],
            next_starts=starts.get(row.id, []),
            free=int(row.free or 0),
            upcoming_shifts=int(row.shifts),
        )
        for row in rows
    ]
    return BrowsePage(cards=cards, page=page, pages=pages, total=total)


def next_starts(opportunity_ids: list[int], now: datetime) -> dict[int, list[datetime]]:
    """The first few upcoming open shift starts of each opportunity (one windowed query)."""
    if not opportunity_ids:
        return {}
    rank = (
        sa.func.row_number()
        .over(partition_by=Shift.opportunity_id, order_by=(Shift.starts_at, Shift.id))
        .label("rank")
    )
    ranked = (
        sa.select(Shift.opportunity_id, Shift.starts_at, rank)
        .where(
            Shift.opportunity_id.in_(opportunity_ids),
            Shift.status == "open",
            Shift.starts_at > now,
        )
        .subquery()
    )
    result: dict[int, list[datetime]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(ranked.c.opportunity_id, ranked.c.starts_at)
        .where(ranked.c.rank <= NEXT_DATES)
        .order_by(ranked.c.opportunity_id, ranked.c.starts_at)
    )
    for opportunity_id, starts_at in rows:
        result[opportunity_id].append(starts_at)
    return result


def public_opportunity(opportunity_id: int) -> Opportunity | None:
    """An opportunity the public may see (open or closed, never a draft), or ``None``."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.status == "draft":
        return None
    if not opportunity.institution.active:
        return None
    return opportunity


def upcoming_shifts(opportunity: Opportunity, now: datetime | None = None) -> list[Shift]:
    """The opportunity's next open shifts, with their skill reservations loaded."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Shift)
            .where(
                Shift.opportunity_id == opportunity.id,
                Shift.status == "open",
                Shift.starts_at > now,
            )
            .options(selectinload(Shift.requirements).selectinload(ShiftSkillRequirement.skill))
            .order_by(Shift.starts_at, Shift.id)
            .limit(DETAIL_SHIFTS)
        )
    )


def has_interest(user: User, opportunity: Opportunity) -> bool:
    """Whether the user already said they are interested in the opportunity."""
    return (
        db.session.scalar(
            sa.select(OpportunityInterest.id).where(
                OpportunityInterest.opportunity_id == opportunity.id,
                OpportunityInterest.user_id == user.id,
            )
        )
        is not None
    )


def register_interest(user: User, opportunity: Opportunity) -> bool:
    """Store the volunteer's interest once (audited); ``False`` when it was already stored."""
    if has_interest(user, opportunity):
        return False
    db.session.add(OpportunityInterest(opportunity_id=opportunity.id, user_id=user.id))
    record(user, "opportunity.interest", "opportunity", opportunity.id)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request stored the same interest first: the outcome is the same.
        db.session.rollback()
        return False
    return True
