"""Sign-up and withdrawal: places, skill positions, waitlist, promotion, clashes, caps, refusals."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from web.extensions import db
from web.models import (
    Assignment,
    AuditEvent,
    AvailabilityException,
    OutboundMessage,
    Shift,
    ShiftSkillRequirement,
)
from web.services.signup import SignupError, sign_up, waitlist_rank, withdraw

CAIRO = ZoneInfo("Africa/Cairo")


def monday(weeks: int = 1, hour: int = 10, minute: int = 0) -> datetime:
    """A Monday ``weeks`` weeks ahead at a Cairo wall time."""
    today = datetime.now(CAIRO).date()
    day = today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1))
    return datetime.combine(day, time(hour, minute), tzinfo=CAIRO)


def counters(shift: Shift) -> tuple[int, list[int]]:
    db.session.expire_all()
    fresh = db.session.get(Shift, shift.id)
    return fresh.open_taken, [r.taken for r in fresh.requirements]


def refused(user, shift) -> tuple[str, ...]:
    with pytest.raises(SignupError) as info:
        sign_up(user, shift)
    return info.value.reasons


def test_free_place_confirms_with_source_self(factory):
    shift = factory.shift(needed=2)
    vol = factory.volunteer()
    a = sign_up(vol, shift)
    assert (a.state, a.source, a.waitlist_position, a.position_skill_id) == (
        "confirmed",
        "self",
        None,
        None,
    )
    assert counters(shift) == (1, [])
    event = db.session.scalars(sa.select(AuditEvent)).one()
    assert (event.action, event.actor_id, event.object_id) == ("assignment.signed_up", vol.id, a.id)


def test_full_shift_waitlists_in_order(factory):
    shift = factory.shift(needed=2)
    vols = [factory.volunteer() for _ in range(5)]
    states = [sign_up(v, shift) for v in vols]
    assert [a.state for a in states] == ["confirmed"] * 2 + ["waitlisted"] * 3
    assert [a.waitlist_position for a in states[2:]] == [1, 2, 3]
    assert [waitlist_rank(a) for a in states[2:]] == [1, 2, 3]
    assert counters(shift) == (2, [])


def test_reserved_skill_place_taken_first_then_open(factory):
    shift = factory.shift(needed=3, skills={"first_aid": 1})
    medic1 = factory.volunteer(skills=("first_aid",))
    medic2 = factory.volunteer(skills=("first_aid", "tutoring"))
    other = factory.volunteer()
    a1, a2, a3 = sign_up(medic1, shift), sign_up(medic2, shift), sign_up(other, shift)
    first_aid = factory.skill("first_aid")
    assert a1.position_skill_id == first_aid.id  # the reserved place
    assert a2.position_skill_id is None and a3.position_skill_id is None  # open places
    assert counters(shift) == (2, [1])
    late = sign_up(factory.volunteer(skills=("first_aid",)), shift)
    assert late.state == "waitlisted"


def test_only_reserved_places_left_refuses_without_the_skill(factory):
    shift = factory.shift(needed=1, skills={"nursing_aid": 1})
    assert refused(factory.volunteer(), shift) == ("skills",)
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_reserved_place_taken_then_open_full_waitlists_skilled_volunteer(factory):
    shift = factory.shift(needed=2, skills={"music": 1})
    sign_up(factory.volunteer(), shift)  # takes the open place
    sign_up(factory.volunteer(skills=("music",)), shift)  # takes the music place
    third = sign_up(factory.volunteer(skills=("music",)), shift)
    assert third.state == "waitlisted"
    assert counters(shift) == (1, [1])


def test_withdraw_releases_and_promotes_first_waitlisted(factory):
    shift = factory.shift(needed=1)
    holder, first, second = factory.volunteer(), factory.volunteer(), factory.volunteer()
    held = sign_up(holder, shift)
    w1, w2 = sign_up(first, shift), sign_up(second, shift)
    gone, promoted = withdraw(holder, shift)
    assert gone.id == held.id and gone.state == "cancelled"
    assert promoted is not None and promoted.id == w1.id
    db.session.expire_all()
    w1, w2 = db.session.get(Assignment, w1.id), db.session.get(Assignment, w2.id)
    assert (w1.state, w1.source, w1.waitlist_position) == ("confirmed", "self", None)
    assert (w2.state, waitlist_rank(w2)) == ("waitlisted", 1)
    assert counters(shift) == (1, [])
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["assignment.withdrawn", "assignment.promoted"]
    texts = db.session.scalars(sa.select(OutboundMessage)).all()
    assert [(t.kind, t.user_id, t.assignment_id) for t in texts] == [
        ("confirmation", first.id, w1.id)
    ]


def test_promotion_skips_a_waitlisted_volunteer_no_longer_available(factory):
    start = monday(hour=10)
    shift = factory.shift(start=start, needed=1)
    holder, busy, free = factory.volunteer(), factory.volunteer(), factory.volunteer()
    sign_up(holder, shift)
    wb, wf = sign_up(busy, shift), sign_up(free, shift)
    busy.profile.availability_exceptions.append(
        AvailabilityException(day=start.date(), available=False)
    )
    db.session.commit()
    _, promoted = withdraw(holder, shift)
    assert promoted.id == wf.id
    assert db.session.get(Assignment, wb.id).state == "waitlisted"


def test_promotion_takes_the_freed_skill_place_only_for_a_holder(factory):
    shift = factory.shift(needed=2, skills={"sports": 1})
    coach = factory.volunteer(skills=("sports",))
    sign_up(factory.volunteer(), shift)  # open place
    sign_up(coach, shift)  # sports place
    plain = sign_up(factory.volunteer(), shift)
    coach2 = sign_up(factory.volunteer(skills=("sports",)), shift)
    _, promoted = withdraw(coach, shift)
    assert promoted.id == coach2.id  # the plain volunteer cannot take a sports place
    assert db.session.get(Assignment, plain.id).state == "waitlisted"
    assert counters(shift) == (1, [1])


def test_withdraw_from_waitlist_promotes_nobody(factory):
    shift = factory.shift(needed=1)
    sign_up(factory.volunteer(), shift)
    waiting = factory.volunteer()
    sign_up(waiting, shift)
    after = factory.volunteer()
    third = sign_up(after, shift)
    gone, promoted = withdraw(waiting, shift)
    assert (gone.state, gone.waitlist_position, promoted) == ("cancelled", None, None)
    assert counters(shift) == (1, [])
    assert waitlist_rank(db.session.get(Assignment, third.id)) == 1


def test_sign_up_again_reuses_the_row(factory):
    shift = factory.shift(needed=1)
    vol = factory.volunteer()
    first = sign_up(vol, shift)
    withdraw(vol, shift)
    again = sign_up(vol, shift)
    assert again.id == first.id and again.state == "confirmed"
    assert counters(shift) == (1, [])


def test_sign_up_twice_is_a_conflict(factory):
    shift = factory.shift(needed=1)
    vol = factory.volunteer()
    sign_up(vol, shift)
    with pytest.raises(SignupError) as info:
        sign_up(vol, shift)
    assert info.value.reasons == ("already",) and info.value.status == 409
    assert counters(shift) == (1, [])


def test_overlap_and_rest_refused(factory, app):
    vol = factory.volunteer()
    base = monday(hour=9)
    sign_up(vol, factory.shift(start=base, hours=2))  # 09:00-11:00
    assert refused(vol, factory.shift(start=base + timedelta(hours=1))) == ("overlap",)
    assert refused(vol, factory.shift(start=base + timedelta(hours=2, minutes=10))) == ("rest",)
    ok = sign_up(vol, factory.shift(start=base + timedelta(hours=2, minutes=30)))
    assert ok.state == "confirmed"


def test_min_rest_comes_from_config(factory, app, monkeypatch):
    monkeypatch.setitem(app.config, "MIN_REST_MINUTES", 0)
    vol = factory.volunteer()
    base = monday(hour=9)
    sign_up(vol, factory.shift(start=base, hours=2))
    assert sign_up(vol, factory.shift(start=base + timedelta(hours=2))).state == "confirmed"


def test_weekly_shift_cap_counts_the_iso_week(factory):
    vol = factory.volunteer(max_shifts=1)
    sign_up(vol, factory.shift(start=monday(hour=10)))
    sunday = monday(hour=10) + timedelta(days=6)  # same ISO week, Sunday
    assert refused(vol, factory.shift(start=sunday)) == ("max_shifts",)
    next_monday = monday(weeks=2, hour=10)
    assert sign_up(vol, factory.shift(start=next_monday)).state == "confirmed"


def test_weekly_hour_cap(factory):
    vol = factory.volunteer(max_hours=5)
    sign_up(vol, factory.shift(start=monday(hour=9), hours=3))
    assert refused(vol, factory.shift(start=monday(hour=15), hours=3)) == ("max_hours",)
    assert sign_up(vol, factory.shift(start=monday(hour=15), hours=2)).state == "confirmed"


def test_waitlisted_shift_does_not_count_toward_caps_or_clash(factory):
    vol = factory.volunteer(max_shifts=1)
    full = factory.shift(start=monday(hour=10), needed=1)
    sign_up(factory.volunteer(), full)
    assert sign_up(vol, full).state == "waitlisted"
    assert sign_up(vol, factory.shift(start=monday(hour=10))).state == "confirmed"


def test_static_rules_refused_with_every_reason(factory):
    far = factory.institution(lat=31.2, lon=29.9)  # Alexandria, far from Cairo
    shift = factory.shift(
        factory.opportunity(far), start=monday(hour=23), gender="male", min_age=30
    )
    vol = factory.volunteer(age=20)
    assert refused(vol, shift) == ("availability", "gender", "age", "distance")
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_languages_rule(factory):
    shift = factory.shift(languages=["en"])
    assert refused(factory.volunteer(languages=("ar",)), shift) == ("languages",)
    assert sign_up(factory.volunteer(languages=("ar", "en")), shift).state == "confirmed"


def test_past_cancelled_and_closed_shifts_refused(factory):
    past = factory.shift(start=datetime.now(UTC) - timedelta(hours=1))
    vol = factory.volunteer()
    assert refused(vol, past) == ("past",)
    cancelled = factory.shift(status="cancelled")
    assert refused(vol, cancelled) == ("cancelled",)
    closed = factory.shift(factory.opportunity(status="closed"))
    assert refused(vol, closed) == ("not_open",)


def test_non_volunteer_refused(factory):
    shift = factory.shift()
    manager = factory.user("manager")
    assert refused(manager, shift) == ("not_volunteer",)


def test_volunteer_without_profile_or_home_refused(factory):
    shift = factory.shift()
    assert refused(factory.user("volunteer"), shift) == ("profile_incomplete",)


def test_withdraw_refusals(factory):
    shift = factory.shift(needed=1)
    a, b = factory.volunteer(), factory.volunteer()
    sign_up(a, shift)
    with pytest.raises(SignupError) as info:
        withdraw(b, shift)  # b has nothing here; a's place is untouched
    assert info.value.reasons == ("not_signed_up",) and info.value.status == 409
    assert counters(shift) == (1, [])
    row = db.session.scalars(sa.select(Assignment)).one()
    row.state = "attended"
    db.session.commit()
    with pytest.raises(SignupError) as info:
        withdraw(a, shift)
    assert info.value.reasons == ("not_withdrawable",)


def test_withdraw_after_start_refused(factory):
    shift = factory.shift(needed=1)
    vol = factory.volunteer()
    sign_up(vol, shift)
    later = shift.starts_at + timedelta(minutes=1)
    with pytest.raises(SignupError) as info:
        withdraw(vol, shift, now=later)
    assert info.value.reasons == ("past",)


def test_counters_match_assignments_after_a_sequence(factory):
    shift = factory.shift(needed=3, skills={"tutoring": 1})
    vols = [factory.volunteer(skills=("tutoring",) if i % 2 else ()) for i in range(6)]
    for v in vols:
        sign_up(v, shift)
    withdraw(vols[1], shift)
    withdraw(vols[0], shift)
    sign_up(vols[0], shift)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Assignment).where(Assignment.shift_id == shift.id)).all()
    holding = [r for r in rows if r.state == "confirmed"]
    req = db.session.scalars(sa.select(ShiftSkillRequirement)).one()
    fresh = db.session.get(Shift, shift.id)
    assert fresh.open_taken == sum(1 for r in holding if r.position_skill_id is None)
    assert req.taken == sum(1 for r in holding if r.position_skill_id == req.skill_id)
    assert len(holding) == 3
    positions = [r.waitlist_position for r in rows if r.state == "waitlisted"]
    assert len(positions) == len(set(positions))


def test_date_helper_is_a_future_monday():
    assert monday().weekday() == 0 and monday().date() > date.today()


def test_promote_waitlist_after_a_place_released_elsewhere(factory):
    from web.services.signup import lock_shift, promote_waitlist

    shift = factory.shift(needed=1)
    holder, waiting = factory.volunteer(), factory.volunteer()
    held = sign_up(holder, shift)
    queued = sign_up(waiting, shift)
    # Another service (e.g. an offer declined) gives the place back, then asks for promotion.
    lock_shift(shift.id)
    db.session.execute(sa.update(Shift).where(Shift.id == shift.id).values(open_taken=0))
    held.state = "cancelled"
    db.session.flush()
    promoted = promote_waitlist(shift, datetime.now(UTC), after=held)
    db.session.commit()
    assert promoted.id == queued.id and promoted.state == "confirmed"
    assert counters(shift) == (1, [])
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "assignment.promoted"
    assert event.details["after_withdrawal_of"] == held.id
