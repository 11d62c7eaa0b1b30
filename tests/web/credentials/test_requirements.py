"""Shifts that require credentials: sign-up, "shifts I can do", the waitlist and the matcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.web.credentials.helpers import give, require
from web.extensions import db
from web.models import Assignment, RunProposal
from web.services import runs
from web.services.eligibility import ShiftFilters, check_pair, shifts_i_can_do
from web.services.matching_problem import build_problem
from web.services.signup import SignupError, sign_up, withdraw

CAIRO = ZoneInfo("Africa/Cairo")


def shift_in(days: int, factory, **kw):
    day = datetime.now(CAIRO).date() + timedelta(days=days)
    return factory.shift(start=datetime.combine(day, time(10), tzinfo=CAIRO), **kw)


def local_day(shift) -> date:
    return shift.starts_at.astimezone(CAIRO).date()


def reasons(user, shift) -> tuple[str, ...]:
    with pytest.raises(SignupError) as info:
        sign_up(user, shift)
    return info.value.reasons


def test_a_required_credential_must_be_verified_and_valid_at_the_shift(factory):
    shift = require(shift_in(5, factory, needed=3), "first_aid")
    nothing = factory.volunteer()
    assert reasons(nothing, shift) == ("credentials",)
    pending = factory.volunteer()
    give(pending, "first_aid", status="pending")
    assert reasons(pending, shift) == ("credentials",)
    rejected = factory.volunteer()
    give(rejected, "first_aid", status="rejected")
    assert reasons(rejected, shift) == ("credentials",)
    expired = factory.volunteer()
    give(expired, "first_aid", expires_on=date.today() - timedelta(days=1))
    assert reasons(expired, shift) == ("credentials",)
    lapses_before = factory.volunteer()  # valid today, expired by the shift's day
    give(lapses_before, "first_aid", expires_on=local_day(shift) - timedelta(days=1))
    assert reasons(lapses_before, shift) == ("credentials",)
    other_kind = factory.volunteer()
    give(other_kind, "child_safeguarding")
    assert reasons(other_kind, shift) == ("credentials",)
    holder = factory.volunteer()
    give(holder, "first_aid", expires_on=local_day(shift))  # valid through its last day
    assert sign_up(holder, shift).state == "confirmed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1


def test_every_required_credential_is_needed(factory):
    shift = require(shift_in(3, factory), "first_aid", "child_safeguarding")
    volunteer = factory.volunteer()
    give(volunteer, "first_aid")
    assert not check_pair(volunteer.profile, shift).ok
    give(volunteer, "child_safeguarding")
    assert check_pair(volunteer.profile, shift).ok


def test_the_refusal_names_the_missing_credential_in_both_languages(factory, login_as):
    shift = require(shift_in(4, factory), "first_aid")
    client = login_as(factory.volunteer())
    english = client.post(f"/shifts/{shift.id}/signup", headers={"Accept-Language": "en"})
    assert english.status_code == 400
    text = english.get_data(as_text=True)
    assert "needs a verified, unexpired “First-aid certificate”" in text
    arabic = client.post(f"/shifts/{shift.id}/signup", headers={"Accept-Language": "ar"})
    assert "شهادة الإسعافات الأولية" in arabic.get_data(as_text=True)


def test_shifts_i_can_do_hides_shifts_needing_a_credential_the_volunteer_lacks(factory):
    plain = shift_in(2, factory)
    guarded = require(shift_in(3, factory), "background_check")
    volunteer = factory.volunteer()
    listed = [o.shift.id for o in shifts_i_can_do(volunteer, ShiftFilters()).items]
    assert plain.id in listed and guarded.id not in listed
    give(volunteer, "background_check", status="pending")
    listed = [o.shift.id for o in shifts_i_can_do(volunteer, ShiftFilters()).items]
    assert guarded.id not in listed
    give(volunteer, "background_check")
    listed = [o.shift.id for o in shifts_i_can_do(volunteer, ShiftFilters()).items]
    assert guarded.id in listed


def test_waitlist_promotion_skips_a_volunteer_without_the_credential(factory):
    shift = shift_in(6, factory, needed=1)
    holder, unaccredited, accredited = factory.volunteer(), factory.volunteer(), factory.volunteer()
    sign_up(holder, shift)
    waiting_first = sign_up(unaccredited, shift)
    waiting_second = sign_up(accredited, shift)
    assert waiting_first.state == waiting_second.state == "waitlisted"
    give(accredited, "first_aid")
    require(shift, "first_aid")  # the manager adds the requirement afterwards
    _, promoted = withdraw(holder, shift)
    assert promoted is not None and promoted.id == waiting_second.id
    assert db.session.get(Assignment, waiting_first.id).state == "waitlisted"


def test_the_matching_problem_carries_credentials_and_requirements(app, factory):
    shift = require(shift_in(2, factory, needed=1), "first_aid")
    plain = shift_in(3, factory, needed=1)
    accredited, unaccredited, lapsed = factory.volunteer(), factory.volunteer(), factory.volunteer()
    expires = local_day(shift) + timedelta(days=30)
    give(accredited, "first_aid", expires_on=expires)
    give(accredited, "background_check")  # never expires
    give(unaccredited, "first_aid", status="pending")
    give(lapsed, "first_aid", expires_on=date.today() - timedelta(days=2))
    start = datetime.now(CAIRO)
    problem = build_problem("national", [], start, start + timedelta(days=7)).problem
    shifts = {s["id"]: s for s in problem["shifts"]}
    assert shifts[f"s{shift.id}"]["required_credentials"] == ["first_aid"]
    assert "required_credentials" not in shifts[f"s{plain.id}"]
    volunteers = {v["id"]: v for v in problem["volunteers"]}
    end_of_expiry_day = datetime.combine(expires + timedelta(days=1), time(0), tzinfo=CAIRO)
    assert volunteers[f"v{accredited.id}"]["credentials"] == [
        {"name": "background_check", "expires": None},
        {"name": "first_aid", "expires": end_of_expiry_day.astimezone(UTC).isoformat()},
    ]
    assert "credentials" not in volunteers[f"v{unaccredited.id}"]
    assert "credentials" not in volunteers[f"v{lapsed.id}"]


def test_a_run_proposes_only_accredited_volunteers_for_a_guarded_shift(app, factory):
    admin = factory.user("admin")
    shift = require(shift_in(2, factory, needed=2), "child_safeguarding")
    accredited, unaccredited = factory.volunteer(), factory.volunteer()
    give(accredited, "child_safeguarding")
    give(unaccredited, "child_safeguarding", status="pending")
    run = runs.start_run(admin, "national", [], *runs.default_window(7), time_limit_s=5)
    claimed = runs.claim_run(run.id, "credentials-test")
    assert claimed is not None
    runs.execute_run(claimed)
    proposed = db.session.scalars(
        sa.select(RunProposal.volunteer_id).where(
            RunProposal.run_id == run.id, RunProposal.shift_id == shift.id
        )
    ).all()
    assert proposed == [accredited.id]
