"""Programmes: validation, scope, enrolment decisions, sessions, and the cohort access rule."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tests.web.programmes.conftest import next_monday
from web.extensions import db
from web.models import (
    Assignment,
    AuditEvent,
    Cohort,
    Enrolment,
    Opportunity,
    OutboundMessage,
    Programme,
    Shift,
)
from web.services import programme_access, programmes
from web.services.eligibility import ShiftFilters, shifts_i_can_do
from web.services.matching_problem import build_problem
from web.services.shifts import RuleError
from web.services.signup import SignupError, sign_up


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def accepted(world, factory, **kw):
    vol = factory.volunteer(**kw)
    enrolment = programmes.apply(vol, world["cohort"], "I sing and love children.")
    programmes.decide(world["coordinator"], enrolment, "accepted")
    return vol


def test_bad_programme_is_refused_in_the_users_language_and_nothing_is_written(factory):
    coordinator = factory.user("coordinator", national_scope=True)
    data = programmes.ProgrammeInput(kind="karaoke", governorate_id=None, institution_ids=(9999,))
    before = count(Programme), count(AuditEvent)
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.create_programme(coordinator, data)
    messages = dict(info.value.errors)
    assert messages["kind"] == "Choose a kind of programme from the list."
    assert messages["name_ar"] == "Give a name in Arabic or English (both are best)."
    assert messages["governorate_id"] == "Choose a governorate in your scope."
    assert messages["institution_ids"] == "Choose institutions in your scope."
    with force_locale("ar"), pytest.raises(RuleError) as info:
        programmes.create_programme(coordinator, data)
    assert dict(info.value.errors)["kind"] == "اختر نوع البرنامج من القائمة."
    assert (count(Programme), count(AuditEvent)) == before


def test_coordinator_outside_the_scope_cannot_manage_the_programme(world, factory):
    other = factory.user("coordinator")
    other.governorates.append(factory.governorate("EG-ALX"))
    db.session.commit()
    with pytest.raises(RuleError) as info:
        programmes.create_cohort(
            other,
            world["programme"],
            programmes.CohortInput("x", "x", next_monday(), next_monday(), 3),
        )
    assert info.value.status == 403
    with pytest.raises(RuleError):
        programmes.create_programme(
            other,
            programmes.ProgrammeInput(
                kind="sports",
                governorate_id=factory.governorate("EG-C").id,
                name_en="Football",
                institution_ids=(world["institution"].id,),
            ),
        )
    assert programmes.programmes_for(other) == []
    assert programmes.programmes_for(world["coordinator"]) == [world["programme"]]


def test_bad_cohort_is_refused(world):
    data = programmes.CohortInput("", "", next_monday(), next_monday() - timedelta(days=1), 0)
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.create_cohort(world["coordinator"], world["programme"], data)
    fields = dict(info.value.errors)
    assert fields["ends_on"] == "The cohort must end on or after the day it starts."
    assert fields["capacity"] == "Capacity must be between 1 and 1000."
    assert count(Cohort) == 1


def test_sessions_make_a_weekly_series_on_the_cohorts_opportunity(world):
    series = world["series"]
    assert len(series.shifts) == 3
    opportunity = series.opportunity
    assert opportunity.cohort_id == world["cohort"].id
    assert opportunity.institution_id == world["institution"].id
    assert programmes.cohort_sessions(world["cohort"]) == [series]
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"programme.create", "cohort.create", "cohort.sessions", "series.create"} <= actions


def test_sessions_outside_the_cohort_dates_are_refused_and_nothing_is_written(world):
    shifts_before, opportunities_before = count(Shift), count(Opportunity)
    data = programmes.SessionInput(
        institution_id=world["institution"].id,
        first_day=next_monday(),
        start=time(14),
        end=time(15),
        weeks=20,
        needed=1,
    )
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.add_sessions(world["coordinator"], world["cohort"], data)
    assert info.value.errors == [
        ("first_day", "Every session must fall between the cohort's first and last days.")
    ]
    with pytest.raises(RuleError) as info:
        programmes.add_sessions(
            world["coordinator"],
            world["cohort"],
            programmes.SessionInput(
                institution_id=987654,
                first_day=next_monday(),
                start=time(14),
                end=time(13),
                weeks=1,
                needed=1,
            ),
        )
    assert [f for f, _ in info.value.errors] == ["institution_id"]
    assert (count(Shift), count(Opportunity)) == (shifts_before, opportunities_before)


def test_apply_decide_with_capacity_waitlist_and_sms(world, factory):
    cohort = world["cohort"]
    first, second, third = (factory.volunteer() for _ in range(3))
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.apply(first, cohort, "   ")
    assert info.value.errors == [
        ("motivation", "Tell us in a few words why you want to take part.")
    ]
    enrolments = [programmes.apply(v, cohort, "motivated") for v in (first, second, third)]
    with pytest.raises(RuleError):
        programmes.apply(first, cohort, "again")
    coordinator = world["coordinator"]
    programmes.decide(coordinator, enrolments[0], "accepted")
    programmes.decide(coordinator, enrolments[1], "accepted")
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.decide(coordinator, enrolments[2], "accepted")
    assert "The cohort is full" in info.value.errors[0][1]
    programmes.decide(coordinator, enrolments[2], "waitlisted", "next intake")
    assert [e.status for e in enrolments] == ["accepted", "accepted", "waitlisted"]
    with pytest.raises(RuleError):
        programmes.decide(coordinator, enrolments[0], "waitlisted")  # no longer decidable
    kinds = db.session.scalars(
        sa.select(OutboundMessage.kind).where(OutboundMessage.user_id == third.id)
    ).all()
    assert kinds == ["enrolment"]
    body = db.session.scalars(
        sa.select(OutboundMessage.body).where(OutboundMessage.user_id == first.id)
    ).one()
    assert "كورال الأمل" in body  # the volunteer's language (Arabic by default)
    # a withdrawal frees the place for the waitlisted volunteer
    programmes.withdraw(first, enrolments[0])
    programmes.decide(coordinator, enrolments[2], "accepted")
    assert enrolments[2].status == "accepted"
    with pytest.raises(RuleError) as info:
        programmes.withdraw(second, enrolments[2])
    assert info.value.status == 403


def test_only_accepted_volunteers_can_sign_up_for_the_cohorts_shifts(world, factory):
    shift = world["series"].shifts[0]
    outsider = factory.volunteer()
    with pytest.raises(SignupError) as info:
        sign_up(outsider, shift)
    assert info.value.reasons == ("credentials",)
    applicant = factory.volunteer()
    enrolment = programmes.apply(applicant, world["cohort"], "please")
    with pytest.raises(SignupError):
        sign_up(applicant, shift)
    programmes.decide(world["coordinator"], enrolment, "accepted")
    assert sign_up(applicant, shift).state == "confirmed"
    # an ordinary shift at the same institution stays open to anyone
    plain = factory.shift(factory.opportunity(world["institution"]), start=shift.starts_at)
    assert sign_up(outsider, plain).state == "confirmed"


def test_shifts_i_can_do_lists_cohort_shifts_only_to_accepted_volunteers(world, factory):
    cohort_shift_ids = {s.id for s in world["series"].shifts}
    outsider = factory.volunteer()
    member = accepted(world, factory)
    filters = ShiftFilters(date_to=next_monday(4))
    seen_by_outsider = {o.shift.id for o in shifts_i_can_do(outsider, filters).items}
    seen_by_member = {o.shift.id for o in shifts_i_can_do(member, filters).items}
    assert not seen_by_outsider & cohort_shift_ids
    assert cohort_shift_ids <= seen_by_member


def test_matching_problem_requires_the_cohort_credential(world, factory):
    member = accepted(world, factory)
    outsider = factory.volunteer()
    start = world["series"].shifts[0].starts_at - timedelta(days=1)
    built = build_problem("national", [], start, start + timedelta(days=20))
    name = programme_access.cohort_credential(world["cohort"].id)
    shifts = {s["id"]: s for s in built.problem["shifts"]}
    for shift in world["series"].shifts:
        assert shifts[f"s{shift.id}"]["required_credentials"] == [name]
    volunteers = {v["id"]: v for v in built.problem["volunteers"]}
    assert volunteers[f"v{member.id}"]["credentials"] == [{"name": name, "expires": None}]
    assert "credentials" not in volunteers[f"v{outsider.id}"]
    import matcher

    solution = matcher.solve(matcher.load_problem(built.problem), time_limit=5).to_dict()
    pairs = {(a["volunteer_id"], a["shift_id"]) for a in solution["assignments"]}
    on_cohort = {v for v, s in pairs if s in {f"s{x.id}" for x in world["series"].shifts}}
    assert on_cohort == {f"v{member.id}"}


def test_withdrawing_an_accepted_enrolment_gives_the_sessions_back(world, factory):
    member = factory.volunteer()
    enrolment = programmes.apply(member, world["cohort"], "yes")
    programmes.decide(world["coordinator"], enrolment, "accepted")
    shift = world["series"].shifts[0]
    sign_up(member, shift)
    programmes.withdraw(member, enrolment)
    state = db.session.scalar(
        sa.select(Assignment.state).where(
            Assignment.shift_id == shift.id, Assignment.volunteer_id == member.id
        )
    )
    assert state == "cancelled"
    assert programme_access.held_by_user(member.id) == frozenset()
    again = programmes.apply(member, world["cohort"], "back again")
    assert again.id == enrolment.id and again.status == "applied"


def test_monitoring_programmes_take_only_accredited_monitors(world, factory):
    programme = world["programme"]
    programme.kind = "monitoring_visits"
    db.session.commit()
    volunteer = factory.volunteer()
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.apply(volunteer, world["cohort"], "I want to monitor")
    assert info.value.errors[0][1] == (
        "Only accredited monitors can take part in monitoring visits."
    )
    with pytest.raises(RuleError):
        programmes.set_monitor_accreditation(world["coordinator"], volunteer, True)
    world["coordinator"].can_monitor = True
    db.session.commit()
    programmes.set_monitor_accreditation(world["coordinator"], volunteer, True)
    assert programmes.apply(volunteer, world["cohort"], "I monitor").status == "applied"
    assert count(Enrolment) == 1


@pytest.mark.parametrize("decision", ["accepted", "waitlisted", "rejected"])
def test_decision_texts_fit_two_sms_segments(app, decision):
    from web.services import messaging

    for locale, name in (
        ("ar", "برنامج الدعم النفسي والاجتماعي للأطفال في دور الرعاية"),
        ("en", "Psychosocial support for children in care homes"),
    ):
        values = {"programme": messaging.short(name, 40), "decision": decision}
        text = messaging.render("enrolment", locale, values)
        assert messaging.count_segments(text).segments <= 2
        assert len(text) <= 134 and "%(" not in text


def credential_type(code: str):
    from web.models import CredentialType

    return db.session.scalars(sa.select(CredentialType).where(CredentialType.code == code)).one()


def give(user, code: str, status: str = "verified"):
    from datetime import date

    from web.models import VolunteerCredential

    db.session.add(
        VolunteerCredential(
            volunteer_id=user.id,
            credential_type_id=credential_type(code).id,
            issued_on=date(2025, 1, 1),
            expires_on=None,
            status=status,
            rejection_reason="",
        )
    )
    db.session.commit()


def test_programme_credentials_are_required_on_its_shifts_and_at_acceptance(world, factory):
    programme = world["programme"]
    data = programmes.ProgrammeInput(
        kind=programme.kind,
        governorate_id=programme.governorate_id,
        name_ar=programme.name_ar,
        name_en=programme.name_en,
        institution_ids=(world["institution"].id,),
        credential_type_ids=(credential_type("child_safeguarding").id,),
    )
    programmes.update_programme(world["coordinator"], programme, data)
    shift = world["series"].shifts[0]
    assert programme_access.required_for_shift(shift) == {
        programme_access.cohort_credential(world["cohort"].id),
        "child_safeguarding",
    }
    volunteer = factory.volunteer()
    enrolment = programmes.apply(volunteer, world["cohort"], "I care")
    with force_locale("en"):
        name = credential_type("child_safeguarding").name
        with pytest.raises(RuleError) as info:
            programmes.decide(world["coordinator"], enrolment, "accepted")
    assert info.value.errors[0][1] == (
        f"The volunteer lacks credentials this programme requires: {name}."
    )
    give(volunteer, "child_safeguarding", status="pending")
    with pytest.raises(RuleError):
        programmes.decide(world["coordinator"], enrolment, "accepted")
    give(factory.volunteer(), "child_safeguarding")  # someone else's does not count
    with pytest.raises(RuleError):
        programmes.decide(world["coordinator"], enrolment, "accepted")
    from web.models import VolunteerCredential

    db.session.execute(
        sa.update(VolunteerCredential)
        .where(VolunteerCredential.volunteer_id == volunteer.id)
        .values(status="verified")
    )
    db.session.commit()
    assert programmes.decide(world["coordinator"], enrolment, "accepted").status == "accepted"
    bad = programmes.ProgrammeInput(**{**data.__dict__, "credential_type_ids": (99999,)})
    with force_locale("en"), pytest.raises(RuleError) as info:
        programmes.update_programme(world["coordinator"], programme, bad)
    assert info.value.errors == [("credential_type_ids", "Choose credentials from the list.")]


def test_the_monitoring_credential_accredits_a_monitor(world, factory):
    world["programme"].kind = "monitoring_visits"
    db.session.commit()
    volunteer = factory.volunteer()
    assert not programmes.is_accredited_monitor(volunteer)
    give(volunteer, "monitoring_accreditation")
    assert programmes.is_accredited_monitor(volunteer)
    assert programmes.apply(volunteer, world["cohort"], "I monitor").status == "applied"
