"""Who may take a programme's shifts: the one rule, as matcher credentials.

A shift of a programme cohort (its opportunity has a ``cohort_id``) requires a synthetic
credential, ``cohort:<id>``, that only the cohort's accepted volunteers hold. The rule is then
decided where every other matching rule is, by ``matcher.eligibility`` ("credentials"), so
sign-up, "shifts I can do", waitlist promotion, run edits and the matcher's problem all honour
it without a rule of their own. Credentials a programme requires (child safeguarding, first
aid...) are added to its shifts' requirements here as well; the volunteer's verified
credentials, with their expiry, come from ``web.services.credentials``.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from matcher import model as m
from web.extensions import db
from web.models import Cohort, CredentialType, Enrolment, Opportunity, Shift
from web.models.programme import programme_credential_requirement

COHORT_PREFIX = "cohort:"


def cohort_credential(cohort_id: int) -> str:
    """The credential name that opens the shifts of one cohort."""
    return f"{COHORT_PREFIX}{cohort_id}"


def is_cohort_credential(name: str) -> bool:
    return name.startswith(COHORT_PREFIX)


def required_for_cohorts(cohort_ids: Iterable[int | None]) -> dict[int, frozenset[str]]:
    """Credential names every shift of each cohort requires: the cohort's own credential and
    the codes of the credential types its programme requires."""
    ids = sorted({cid for cid in cohort_ids if cid is not None})
    found = {cid: {cohort_credential(cid)} for cid in ids}
    if ids:
        rows = db.session.execute(
            sa.select(Cohort.id, CredentialType.code)
            .join(
                programme_credential_requirement,
                programme_credential_requirement.c.programme_id == Cohort.programme_id,
            )
            .join(
                CredentialType,
                CredentialType.id == programme_credential_requirement.c.credential_type_id,
            )
            .where(Cohort.id.in_(ids))
        )
        for cohort_id, code in rows:
            found[cohort_id].add(code)
    return {cid: frozenset(names) for cid, names in found.items()}


def required_for_shift(shift: Shift) -> frozenset[str]:
    """Credential names a shift requires because it belongs to a programme cohort."""
    cohort_id = shift.opportunity.cohort_id if shift.opportunity is not None else None
    if cohort_id is None:
        return frozenset()
    return required_for_cohorts([cohort_id])[cohort_id]


def required_for_shifts(shift_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Credential names per shift id (only shifts of programme cohorts appear)."""
    ids = list(shift_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Shift.id, Opportunity.cohort_id)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .where(Shift.id.in_(ids), Opportunity.cohort_id.is_not(None))
    ).all()
    by_cohort = required_for_cohorts(cohort_id for _, cohort_id in rows)
    return {shift_id: by_cohort[cohort_id] for shift_id, cohort_id in rows}


def held_by_users(user_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Cohort credentials per user: one for every cohort that accepted them."""
    ids = list(user_ids)
    if not ids:
        return {}
    found: dict[int, set[str]] = {}
    rows = db.session.execute(
        sa.select(Enrolment.volunteer_id, Enrolment.cohort_id).where(
            Enrolment.volunteer_id.in_(ids), Enrolment.status == "accepted"
        )
    )
    for user_id, cohort_id in rows:
        found.setdefault(user_id, set()).add(cohort_credential(cohort_id))
    return {user_id: frozenset(names) for user_id, names in found.items()}


def held_by_user(user_id: int) -> frozenset[str]:
    return held_by_users([user_id]).get(user_id, frozenset())


def credentials_of(user_id: int) -> tuple[m.Credential, ...]:
    """The cohort credentials of a volunteer as matcher credentials (they never expire)."""
    return tuple(m.Credential(name=name) for name in sorted(held_by_user(user_id)))


def credential_entries(names: Iterable[str]) -> list[dict[str, str | None]]:
    """Cohort credentials as v1 ``volunteers[].credentials`` entries."""
    return [{"name": name, "expires": None} for name in sorted(names)]
