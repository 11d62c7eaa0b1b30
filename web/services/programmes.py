"""Programmes, their cohorts, enrolment (apply, decide, withdraw) and recurring sessions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from web.authz import can_manage_institution, can_manage_programme
from web.extensions import db
from web.models import (
    PROGRAMME_KINDS,
    Assignment,
    Cohort,
    CredentialType,
    Enrolment,
    Governorate,
    Institution,
    Opportunity,
    Programme,
    Shift,
    ShiftSeries,
    User,
    utcnow,
)
from web.models.programme import PROGRAMME_STATUSES
from web.services import shifts as shift_service
from web.services.audit import record
from web.services.shifts import RuleError, ShiftDetails

log = logging.getLogger(__name__)

NAME_MAX = 200
DESCRIPTION_MAX = 5000
MOTIVATION_MAX = 1000
NOTE_MAX = 500
CAPACITY_MAX = 1000
MONITORING_KIND = "monitoring_visits"
MONITORING_CREDENTIAL = "monitoring_accreditation"  # a credential type seeded by 0005
# Decisions a coordinator may take, from each status.
DECISIONS: dict[str, frozenset[str]] = {
    "applied": frozenset({"accepted", "rejected", "waitlisted"}),
    "waitlisted": frozenset({"accepted", "rejected"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
    "withdrawn": frozenset(),
}
# Statuses the volunteer may withdraw from.
WITHDRAWABLE = frozenset({"applied", "waitlisted", "accepted"})
# Statuses from which the volunteer may apply again (the same row is reused).
REAPPLY_FROM = frozenset({"withdrawn"})


Errors = list[tuple[str | None, Any]]


def _lock_row(model: Any, row_id: int) -> None:
    """Lock one row until commit (SQLite: take the database's write lock with a no-op write)."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.update(table).where(table.c.id == row_id).values(id=table.c.id))
    else:
        db.session.execute(sa.select(table.c.id).where(table.c.id == row_id).with_for_update())


# --- programmes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeInput:
    """A programme form, cleaned by the form layer."""

    kind: str
    governorate_id: int | None
    name_ar: str = ""
    name_en: str = ""
    description_ar: str = ""
    description_en: str = ""
    institution_ids: tuple[int, ...] = ()
    status: str = "open"
    credential_type_ids: tuple[int, ...] = ()


def _check_programme(
    actor: User, data: ProgrammeInput
) -> tuple[Governorate, list[Institution], list[CredentialType]]:
    errors: Errors = []
    if data.kind not in PROGRAMME_KINDS:
        errors.append(("kind", _l("Choose a kind of programme from the list.")))
    if data.status not in PROGRAMME_STATUSES:
        errors.append(("status", _l("Choose a status from the list.")))
    if not data.name_ar.strip() and not data.name_en.strip():
        errors.append(("name_ar", _l("Give a name in Arabic or English (both are best).")))
    for name in ("name_ar", "name_en"):
        if len(getattr(data, name)) > NAME_MAX:
            errors.append((name, _l("Keep this under %(max)s characters.", max=NAME_MAX)))
    for name in ("description_ar", "description_en"):
        if len(getattr(data, name)) > DESCRIPTION_MAX:
            errors.append((name, _l("Keep this under %(max)s characters.", max=DESCRIPTION_MAX)))
    governorate = db.session.get(Governorate, data.governorate_id) if data.governorate_id else None
    scope = actor.governorate_ids()
    if governorate is None or (scope is not None and governorate.id not in scope):
        errors.append(("governorate_id", _l("Choose a governorate in your scope.")))
    wanted = sorted(set(data.institution_ids))
    institutions = (
        list(db.session.scalars(sa.select(Institution).where(Institution.id.in_(wanted))))
        if wanted
        else []
    )
    if len(institutions) != len(wanted) or not all(
        i.active and can_manage_institution(actor, i) for i in institutions
    ):
        errors.append(("institution_ids", _l("Choose institutions in your scope.")))
    if not wanted:
        errors.append(("institution_ids", _l("Choose at least one institution.")))
    type_ids = sorted(set(data.credential_type_ids))
    types = (
        list(
            db.session.scalars(
                sa.select(CredentialType).where(
                    CredentialType.id.in_(type_ids), CredentialType.active.is_(True)
                )
            )
        )
        if type_ids
        else []
    )
    if len(types) != len(type_ids):
        errors.append(("credential_type_ids", _l("Choose credentials from the list.")))
    if errors:
        raise RuleError(errors)
    assert governorate is not None
    return (
        governorate,
        sorted(institutions, key=lambda i: i.id),
        sorted(types, key=lambda t: t.id),
    )


def _require_manager(actor: User, programme: Programme) -> None:
    if not can_manage_programme(actor, programme):
        raise RuleError([(None, _l("You may not manage this programme."))], 403)


def create_programme(actor: User, data: ProgrammeInput) -> Programme:
    """A new programme in the actor's scope, with its institutions."""
    if not actor.has_role("coordinator", "admin"):
        raise RuleError([(None, _l("You may not manage this programme."))], 403)
    governorate, institutions, types = _check_programme(actor, data)
    programme = Programme(
        kind=data.kind,
        governorate=governorate,
        name_ar=data.name_ar,
        name_en=data.name_en,
        description_ar=data.description_ar,
        description_en=data.description_en,
        status=data.status,
        created_by_id=actor.id,
        institutions=institutions,
        required_credentials=types,
    )
    db.session.add(programme)
    db.session.flush()
    record(
        actor,
        "programme.create",
        "programme",
        programme.id,
        kind=data.kind,
        governorate_id=governorate.id,
        institutions=[i.id for i in institutions],
        required_credentials=[t.code for t in types],
        status=data.status,
    )
    db.session.commit()
    return programme


def update_programme(actor: User, programme: Programme, data: ProgrammeInput) -> Programme:
    """Change a programme's texts, kind, governorate, institutions or status."""
    _require_manager(actor, programme)
    governorate, institutions, types = _check_programme(actor, data)
    before = {
        "kind": programme.kind,
        "governorate_id": programme.governorate_id,
        "institutions": [i.id for i in programme.institutions],
        "required_credentials": [t.code for t in programme.required_credentials],
        "status": programme.status,
    }
    programme.kind = data.kind
    programme.governorate = governorate
    programme.name_ar = data.name_ar
    programme.name_en = data.name_en
    programme.description_ar = data.description_ar
    programme.description_en = data.description_en
    programme.status = data.status
    programme.institutions = institutions
    programme.required_credentials = types
    record(
        actor,
        "programme.update",
        "programme",
        programme.id,
        before=before,
        kind=data.kind,
        governorate_id=governorate.id,
        institutions=[i.id for i in institutions],
        required_credentials=[t.code for t in types],
        status=data.status,
    )
    db.session.commit()
    return programme


def programmes_for(user: User) -> list[Programme]:
    """Programmes a coordinator manages (their scope), or the open ones for anyone else."""
    query = sa.select(Programme).options(selectinload(Programme.cohorts))
    if user.has_role("coordinator", "admin"):
        scope = user.governorate_ids()
        if scope is not None:
            query = query.where(Programme.governorate_id.in_(sorted(scope)))
    else:
        query = query.where(Programme.status == "open")
    return list(db.session.scalars(query.order_by(Programme.status.desc(), Programme.id)))


# --- cohorts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortInput:
    """A cohort form, cleaned by the form layer."""

    name_ar: str
    name_en: str
    starts_on: date | None
    ends_on: date | None
    capacity: int | None
    status: str = "open"


def _check_cohort(data: CohortInput) -> None:
    errors: Errors = []
    if not data.name_ar.strip() and not data.name_en.strip():
        errors.append(("name_ar", _l("Give a name in Arabic or English (both are best).")))
    for name in ("name_ar", "name_en"):
        if len(getattr(data, name)) > NAME_MAX:
            errors.append((name, _l("Keep this under %(max)s characters.", max=NAME_MAX)))
    if data.starts_on is None:
        errors.append(("starts_on", _l("Enter a date as YYYY-MM-DD.")))
    if data.ends_on is None:
        errors.append(("ends_on", _l("Enter a date as YYYY-MM-DD.")))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        errors.append(("ends_on", _l("The cohort must end on or after the day it starts.")))
    if data.capacity is None or not 1 <= data.capacity <= CAPACITY_MAX:
        errors.append(("capacity", _l("Capacity must be between 1 and %(max)s.", max=CAPACITY_MAX)))
    if data.status not in ("open", "closed"):
        errors.append(("status", _l("Choose a status from the list.")))
    if errors:
        raise RuleError(errors)


def create_cohort(actor: User, programme: Programme, data: CohortInput) -> Cohort:
    """A new cohort of a programme."""
    _require_manager(actor, programme)
    _check_cohort(data)
    assert data.starts_on is not None and data.ends_on is not None and data.capacity
    cohort = Cohort(
        programme=programme,
        name_ar=data.name_ar,
        name_en=data.name_en,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        capacity=data.capacity,
        status=data.status,
    )
    db.session.add(cohort)
    db.session.flush()
    record(
        actor,
        "cohort.create",
        "cohort",
        cohort.id,
        programme_id=programme.id,
        starts_on=data.starts_on.isoformat(),
        ends_on=data.ends_on.isoformat(),
        capacity=data.capacity,
    )
    db.session.commit()
    return cohort


def update_cohort(actor: User, cohort: Cohort, data: CohortInput) -> Cohort:
    """Change a cohort; its capacity never drops below the volunteers already accepted."""
    _require_manager(actor, cohort.programme)
    _check_cohort(data)
    _lock_row(Cohort, cohort.id)
    accepted = accepted_count(cohort.id)
    if data.capacity is not None and data.capacity < accepted:
        db.session.rollback()
        raise RuleError(
            [
                (
                    "capacity",
                    _l(
                        "%(num)s volunteers are already accepted; capacity cannot be fewer.",
                        num=accepted,
                    ),
                )
            ]
        )
    before = {
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "capacity": cohort.capacity,
        "status": cohort.status,
    }
    assert data.starts_on is not None and data.ends_on is not None and data.capacity
    cohort.name_ar = data.name_ar
    cohort.name_en = data.name_en
    cohort.starts_on = data.starts_on
    cohort.ends_on = data.ends_on
    cohort.capacity = data.capacity
    cohort.status = data.status
    record(
        actor,
        "cohort.update",
        "cohort",
        cohort.id,
        before=before,
        starts_on=data.starts_on.isoformat(),
        ends_on=data.ends_on.isoformat(),
        capacity=data.capacity,
        status=data.status,
    )
    db.session.commit()
    return cohort


def accepted_count(cohort_id: int) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort_id, Enrolment.status == "accepted"
            )
        )
        or 0
    )


def enrolment_counts(cohort: Cohort) -> dict[str, int]:
    """How many enrolments of the cohort are in each status."""
    rows = db.session.execute(
        sa.select(Enrolment.status, sa.func.count(Enrolment.id))
        .where(Enrolment.cohort_id == cohort.id)
        .group_by(Enrolment.status)
    )
    return {status: int(n) for status, n in rows}


# --- enrolment -------------------------------------------------------------------------------


def _verified_codes(volunteer: User) -> set[str]:
    from web.services.credentials import local_today, verified_credential_codes

    profile = volunteer.profile
    if profile is None:
        return set()
    return verified_credential_codes(profile, local_today(profile))


def is_accredited_monitor(volunteer: User, held: set[str] | None = None) -> bool:
    """A volunteer flagged as a monitor, or holding the verified monitoring accreditation."""
    if volunteer.monitor_accredited:
        return True
    codes = _verified_codes(volunteer) if held is None else held
    return MONITORING_CREDENTIAL in codes


def _eligibility_errors(volunteer: User, programme: Programme, *, credentials: bool) -> Errors:
    """What stops this volunteer from being in this programme (empty: nothing).

    ``credentials``: also require the programme's credentials, verified and valid today.
    """
    errors: Errors = []
    held = _verified_codes(volunteer)
    if programme.kind == MONITORING_KIND and not is_accredited_monitor(volunteer, held):
        errors.append((None, _l("Only accredited monitors can take part in monitoring visits.")))
    if credentials and programme.required_credentials:
        missing = [t for t in programme.required_credentials if t.code not in held]
        if missing:
            errors.append(
                (
                    None,
                    _l(
                        "The volunteer lacks credentials this programme requires: %(names)s.",
                        names=", ".join(t.name for t in missing),
                    ),
                )
            )
    return errors


def apply(
    volunteer: User, cohort: Cohort, motivation: str, now: datetime | None = None
) -> Enrolment:
    """The volunteer applies to a cohort with a short motivation."""
    now = now or utcnow()
    programme = cohort.programme
    errors: Errors = []
    if not volunteer.has_role("volunteer"):
        raise RuleError([(None, _l("Only volunteers can apply to a programme."))], 403)
    if programme.status != "open" or cohort.status != "open":
        raise RuleError([(None, _l("This cohort is not taking applications."))], 409)
    if cohort.ends_on < now.date():
        raise RuleError([(None, _l("This cohort has ended."))], 409)
    text = motivation.strip()
    if not text:
        errors.append(("motivation", _l("Tell us in a few words why you want to take part.")))
    elif len(text) > MOTIVATION_MAX:
        errors.append(("motivation", _l("Keep this under %(max)s characters.", max=MOTIVATION_MAX)))
    errors += _eligibility_errors(volunteer, programme, credentials=False)
    if errors:
        raise RuleError(errors)
    _lock_row(Cohort, cohort.id)
    enrolment = db.session.execute(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.volunteer_id == volunteer.id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if enrolment is not None and enrolment.status not in REAPPLY_FROM:
        db.session.rollback()
        raise RuleError([(None, _l("You have already applied to this cohort."))], 409)
    if enrolment is None:
        enrolment = Enrolment(cohort_id=cohort.id, volunteer_id=volunteer.id, created_at=now)
        db.session.add(enrolment)
    enrolment.status = "applied"
    enrolment.motivation = text
    enrolment.decision_note = ""
    enrolment.decided_by_id = None
    enrolment.decided_at = None
    enrolment.updated_at = now
    db.session.flush()
    record(volunteer, "enrolment.apply", "enrolment", enrolment.id, cohort_id=cohort.id)
    db.session.commit()
    return enrolment


def decide(
    actor: User,
    enrolment: Enrolment,
    decision: str,
    note: str = "",
    now: datetime | None = None,
) -> Enrolment:
    """Accept, reject or waitlist an application; acceptance keeps to the cohort's capacity."""
    now = now or utcnow()
    cohort = enrolment.cohort
    _require_manager(actor, cohort.programme)
    if decision not in ("accepted", "rejected", "waitlisted"):
        raise RuleError([("decision", _l("Choose a decision from the list."))])
    if len(note) > NOTE_MAX:
        raise RuleError([("note", _l("Keep this under %(max)s characters.", max=NOTE_MAX))])
    _lock_row(Cohort, cohort.id)
    db.session.refresh(enrolment)
    if decision not in DECISIONS.get(enrolment.status, frozenset()):
        db.session.rollback()
        raise RuleError([(None, _l("This application can no longer be decided that way."))], 409)
    if decision == "accepted":
        errors = _eligibility_errors(enrolment.volunteer, cohort.programme, credentials=True)
        if accepted_count(cohort.id) >= cohort.capacity:
            errors.append(
                (None, _l("The cohort is full. Waitlist the volunteer or raise its capacity."))
            )
        if errors:
            db.session.rollback()
            raise RuleError(errors, 409)
    before = enrolment.status
    enrolment.status = decision
    enrolment.decision_note = note.strip()
    enrolment.decided_by_id = actor.id
    enrolment.decided_at = now
    enrolment.updated_at = now
    record(
        actor,
        "enrolment.decide",
        "enrolment",
        enrolment.id,
        cohort_id=cohort.id,
        before=before,
        decision=decision,
        note=enrolment.decision_note,
    )
    _notify(enrolment, now)
    db.session.commit()
    return enrolment


def _notify(enrolment: Enrolment, now: datetime) -> None:
    """Tell the volunteer of the decision by SMS (in the caller's transaction)."""
    from web.services import messaging

    volunteer = enrolment.volunteer
    locale = messaging.recipient_locale(volunteer)
    programme = enrolment.cohort.programme
    name = programme.name_ar if locale == "ar" else programme.name_en
    values = {
        "programme": messaging.short(name or programme.name_en or programme.name_ar, 40),
        "decision": enrolment.status,
    }
    key = f"enrolment:{enrolment.id}:{enrolment.status}:{int(now.timestamp())}"
    messaging.enqueue(volunteer, "enrolment", key, values, now=now)


def withdraw(volunteer: User, enrolment: Enrolment, now: datetime | None = None) -> Enrolment:
    """The volunteer leaves a cohort; their future places on its sessions are given back.

    The enrolment changes first (one transaction), so the volunteer no longer holds the
    cohort's credential; then each future sign-up is withdrawn through the sign-up service
    (each in its own transaction, promoting the waitlist and asking for a replacement).
    """
    now = now or utcnow()
    if enrolment.volunteer_id != volunteer.id:
        raise RuleError([(None, _l("This is not your application."))], 403)
    _lock_row(Cohort, enrolment.cohort_id)
    db.session.refresh(enrolment)
    if enrolment.status not in WITHDRAWABLE:
        db.session.rollback()
        raise RuleError([(None, _l("This application can no longer be withdrawn."))], 409)
    before = enrolment.status
    enrolment.status = "withdrawn"
    enrolment.updated_at = now
    record(
        volunteer,
        "enrolment.withdraw",
        "enrolment",
        enrolment.id,
        cohort_id=enrolment.cohort_id,
        before=before,
    )
    db.session.commit()
    if before == "accepted":
        _leave_sessions(volunteer, enrolment.cohort_id, now)
    return enrolment


def _leave_sessions(volunteer: User, cohort_id: int, now: datetime) -> None:
    from web.services import signup

    shifts = db.session.scalars(
        sa.select(Shift)
        .join(Opportunity, Opportunity.id == Shift.opportunity_id)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .where(
            Opportunity.cohort_id == cohort_id,
            Assignment.volunteer_id == volunteer.id,
            Assignment.state.in_(sorted(signup.WITHDRAWABLE)),
            Shift.starts_at > now,
        )
        .order_by(Shift.id)
    ).all()
    for shift in shifts:
        try:
            signup.withdraw(volunteer, shift, now=now)
        except signup.SignupError:  # already gone or started meanwhile
            log.info("enrolment withdrawal: shift %s left as it is", shift.id)


def enrolments_of(volunteer: User) -> list[Enrolment]:
    """The volunteer's applications, newest first."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.volunteer_id == volunteer.id)
            .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
        )
    )


def enrolment_of(volunteer: User, cohort: Cohort) -> Enrolment | None:
    return db.session.execute(
        sa.select(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.volunteer_id == volunteer.id
        )
    ).scalar_one_or_none()


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInput:
    """A weekly session of a cohort at one of the programme's institutions."""

    institution_id: int | None
    first_day: date | None
    start: time | None
    end: time | None
    weeks: int | None
    needed: int | None
    excluded: tuple[date, ...] = ()


def cohort_opportunity(actor: User, cohort: Cohort, institution: Institution) -> Opportunity:
    """The opportunity holding the cohort's sessions at an institution (added, not committed)."""
    for opportunity in cohort.opportunities:
        if opportunity.institution_id == institution.id:
            if opportunity.status == "closed":
                opportunity.status = "open"
            return opportunity
    programme = cohort.programme
    opportunity = Opportunity(
        institution=institution,
        cohort=cohort,
        title_ar=f"{programme.name_ar or programme.name_en} - {cohort.name_ar or cohort.name_en}"[
            :NAME_MAX
        ],
        title_en=f"{programme.name_en or programme.name_ar} - {cohort.name_en or cohort.name_ar}"[
            :NAME_MAX
        ],
        description_ar=programme.description_ar,
        description_en=programme.description_en,
        status="open",
        created_by_id=actor.id,
    )
    db.session.add(opportunity)
    return opportunity


def add_sessions(
    actor: User, cohort: Cohort, data: SessionInput, now: datetime | None = None
) -> ShiftSeries:
    """Weekly sessions of a cohort: a shift series (the shifts service) on the cohort's dates."""
    now = now or utcnow()
    programme = cohort.programme
    _require_manager(actor, programme)
    errors: Errors = []
    institution = None
    if data.institution_id is not None:
        institution = next((i for i in programme.institutions if i.id == data.institution_id), None)
    if institution is None:
        errors.append(("institution_id", _l("Choose one of the programme's institutions.")))
    for name in ("first_day", "start", "end", "weeks", "needed"):
        if getattr(data, name) is None:
            errors.append(
                (
                    name if name not in ("start", "end") else f"{name}_time",
                    _l("This field is required."),
                )
            )
    if errors:
        raise RuleError(errors)
    assert data.first_day and data.start and data.end and data.weeks and data.needed
    assert institution is not None
    if 1 <= data.weeks <= shift_service.SERIES_HARD_MAX_WEEKS:
        days = shift_service.series_days(data.first_day, data.weeks)
        occurrences = [d for d in days if d not in set(data.excluded)]
        if occurrences and (occurrences[0] < cohort.starts_on or occurrences[-1] > cohort.ends_on):
            raise RuleError(
                [
                    (
                        "first_day",
                        _l("Every session must fall between the cohort's first and last days."),
                    )
                ]
            )
    try:
        opportunity = cohort_opportunity(actor, cohort, institution)
        db.session.flush()
        record(
            actor,
            "cohort.sessions",
            "cohort",
            cohort.id,
            opportunity_id=opportunity.id,
            institution_id=institution.id,
            first_day=data.first_day.isoformat(),
            weeks=data.weeks,
        )
        # create_series validates everything else and commits the whole transaction.
        return shift_service.create_series(
            actor,
            opportunity,
            data.first_day,
            data.start,
            data.end,
            data.weeks,
            data.excluded,
            ShiftDetails(needed=data.needed),
            now=now,
        )
    except BaseException:
        db.session.rollback()
        raise


def cohort_sessions(cohort: Cohort) -> list[ShiftSeries]:
    """The weekly series of a cohort, by institution then first day."""
    ids = [o.id for o in cohort.opportunities]
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(ShiftSeries)
            .where(ShiftSeries.opportunity_id.in_(ids))
            .options(selectinload(ShiftSeries.shifts))
            .order_by(ShiftSeries.opportunity_id, ShiftSeries.first_day, ShiftSeries.id)
        )
    )


def cohort_shifts(cohort: Cohort, now: datetime | None = None, limit: int = 50) -> list[Shift]:
    """The cohort's upcoming open shifts, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Shift)
            .join(Opportunity, Opportunity.id == Shift.opportunity_id)
            .where(
                Opportunity.cohort_id == cohort.id,
                Shift.status == "open",
                Shift.starts_at > now,
            )
            .order_by(Shift.starts_at, Shift.id)
            .limit(limit)
        )
    )


def set_monitor_accreditation(actor: User, volunteer: User, accredited: bool) -> User:
    """A monitoring coordinator accredits a volunteer as a monitor (or takes it back)."""
    if not actor.is_monitoring_coordinator:
        raise RuleError(
            [(None, _l("Only coordinators with the monitoring role may do this."))], 403
        )
    if not volunteer.has_role("volunteer"):
        raise RuleError([(None, _l("Only volunteers can be accredited as monitors."))])
    before = bool(volunteer.monitor_accredited)
    volunteer.monitor_accredited = accredited
    record(
        actor,
        "user.monitor_accreditation",
        "user",
        volunteer.id,
        before=before,
        accredited=accredited,
    )
    db.session.commit()
    return volunteer
