"""The public service guide and map: institutions by governorate and kind, what to do there."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from web.extensions import db
from web.models import (
    INSTITUTION_KINDS,
    Governorate,
    Institution,
    Opportunity,
    Shift,
    ShiftSkillRequirement,
    Skill,
    utcnow,
)
from web.services.browse import filled_expression, kind_label, requirement_taken

# What the map JSON may say about an institution: public facts only (no phone, no managers).
MARKER_FIELDS = ("id", "name", "kind", "kind_label", "governorate", "lat", "lon", "address", "url")


@dataclass(frozen=True)
class GovernorateSummary:
    """A governorate with how many institutions and open opportunities it has."""

    governorate: Governorate
    institutions: int
    opportunities: int


@dataclass
class OpportunityEntry:
    """An open opportunity with upcoming shifts: skills it asks for, free places, next start."""

    opportunity: Opportunity
    skills: list[Skill]
    free_places: int
    next_start: datetime


@dataclass
class InstitutionEntry:
    """An institution in the guide and its open opportunities."""

    institution: Institution
    opportunities: list[OpportunityEntry] = field(default_factory=list)

    @property
    def skills(self) -> list[Skill]:
        seen: dict[int, Skill] = {}
        for entry in self.opportunities:
            for skill in entry.skills:
                seen.setdefault(skill.id, skill)
        return sorted(seen.values(), key=lambda s: s.id)


@dataclass
class KindSection:
    """The institutions of one kind in a governorate."""

    kind: str
    label: str
    entries: list[InstitutionEntry]


def governorate_by_code(code: str) -> Governorate | None:
    """A governorate from its ISO code in any case (``eg-gz`` or ``EG-GZ``)."""
    code = (code or "").strip().upper()
    if not code or len(code) > 8:
        return None
    return db.session.scalar(sa.select(Governorate).where(Governorate.code == code))


def _upcoming(now: datetime) -> sa.Subquery:
    """Per opportunity: free places and the first start among upcoming open shifts."""
    taken = requirement_taken()
    return (
        sa.select(
            Shift.opportunity_id.label("opportunity_id"),
            sa.func.sum(Shift.needed - filled_expression(taken)).label("free"),
            sa.func.min(Shift.starts_at).label("next_start"),
        )
        .outerjoin(taken, taken.c.shift_id == Shift.id)
        .where(Shift.status == "open", Shift.starts_at > now)
        .group_by(Shift.opportunity_id)
        .subquery("upcoming")
    )


def summaries(now: datetime | None = None) -> list[GovernorateSummary]:
    """Governorates with at least one active institution, with counts (two grouped queries)."""
    now = now or utcnow()
    institutions = dict(
        db.session.execute(
            sa.select(Institution.governorate_id, sa.func.count())
            .where(Institution.active.is_(True))
            .group_by(Institution.governorate_id)
        ).all()
    )
    upcoming = _upcoming(now)
    opportunities = dict(
        db.session.execute(
            sa.select(Institution.governorate_id, sa.func.count(Opportunity.id))
            .join(Opportunity, Opportunity.institution_id == Institution.id)
            .join(upcoming, upcoming.c.opportunity_id == Opportunity.id)
            .where(Institution.active.is_(True), Opportunity.status == "open")
            .group_by(Institution.governorate_id)
        ).all()
    )
    governorates = db.session.scalars(
        sa.select(Governorate)
        .where(Governorate.id.in_(sorted(institutions)))
        .order_by(Governorate.id)
    )
    return [
        GovernorateSummary(g, int(institutions[g.id]), int(opportunities.get(g.id, 0)))
        for g in governorates
    ]


def sections(governorate: Governorate, now: datetime | None = None) -> list[KindSection]:
    """The governorate's active institutions by kind, each with its open opportunities.

    Four queries whatever the size: institutions, opportunities with their skills, upcoming
    shift numbers, and the skills reserved on upcoming shifts.
    """
    now = now or utcnow()
    institutions = list(
        db.session.scalars(
            sa.select(Institution)
            .where(Institution.governorate_id == governorate.id, Institution.active.is_(True))
            .order_by(Institution.id)
        )
    )
    upcoming = _upcoming(now)
    rows = db.session.execute(
        sa.select(Opportunity, upcoming.c.free, upcoming.c.next_start)
        .join(upcoming, upcoming.c.opportunity_id == Opportunity.id)
        .where(
            Opportunity.institution_id.in_([i.id for i in institutions]),
            Opportunity.status == "open",
        )
        .options(selectinload(Opportunity.skills))
        .order_by(upcoming.c.next_start, Opportunity.id)
    ).all()
    reserved: dict[int, set[int]] = {}
    if rows:
        for opportunity_id, skill_id in db.session.execute(
            sa.select(Shift.opportunity_id, ShiftSkillRequirement.skill_id)
            .join(Shift, Shift.id == ShiftSkillRequirement.shift_id)
            .where(
                Shift.opportunity_id.in_([row[0].id for row in rows]),
                Shift.status == "open",
                Shift.starts_at > now,
            )
            .distinct()
        ):
            reserved.setdefault(opportunity_id, set()).add(skill_id)
    skills = {s.id: s for s in db.session.scalars(sa.select(Skill).where(Skill.active.is_(True)))}
    entries = {i.id: InstitutionEntry(i) for i in institutions}
    for opportunity, free, next_start in rows:
        wanted = {s.id: s for s in opportunity.skills if s.active}
        for skill_id in reserved.get(opportunity.id, ()):
            if skill_id in skills:
                wanted.setdefault(skill_id, skills[skill_id])
        entries[opportunity.institution_id].opportunities.append(
            OpportunityEntry(
                opportunity,
                sorted(wanted.values(), key=lambda s: s.id),
                max(int(free or 0), 0),
                next_start,
            )
        )
    result = []
    for kind in INSTITUTION_KINDS:
        of_kind = [entries[i.id] for i in institutions if i.kind == kind]
        if of_kind:
            result.append(KindSection(kind, kind_label(kind), of_kind))
    return result


def markers(governorate: Governorate | None = None) -> list[dict[str, Any]]:
    """Map markers for active institutions: public facts only (MARKER_FIELDS), in the locale."""
    from flask import url_for

    query = (
        sa.select(Institution)
        .where(Institution.active.is_(True))
        .options(selectinload(Institution.governorate))
        .order_by(Institution.id)
    )
    if governorate is not None:
        query = query.where(Institution.governorate_id == governorate.id)
    result = []
    for institution in db.session.scalars(query):
        code = institution.governorate.code
        result.append(
            {
                "id": institution.id,
                "name": institution.name,
                "kind": institution.kind,
                "kind_label": kind_label(institution.kind),
                "governorate": institution.governorate.name,
                "lat": round(institution.lat, 5),
                "lon": round(institution.lon, 5),
                "address": institution.address,
                "url": url_for("guide.governorate", governorate_code=code)
                + f"#institution-{institution.id}",
            }
        )
    return result
