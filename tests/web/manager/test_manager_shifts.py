"""Creating, editing and cancelling single shifts: local times, places, reservations, rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.web.manager.conftest import (
    assign,
    cairo_today,
    dst_change,
    future_day,
    local,
    make_shift,
    odd_local_time,
    shift_form,
)
from web.extensions import db
from web.models import AuditEvent, Institution, Shift
from web.services import shifts as service

EN = {"Accept-Language": "en"}


def _new(client, opportunity, data, headers=EN):
    return client.post(
        f"/manage/opportunities/{opportunity.id}/shifts/new", data=data, headers=headers
    )


def test_create_shift_converts_local_cairo_time_to_utc(manager_client, opportunity, factory):
    day = future_day(10)
    tutoring = factory.skill("tutoring")
    response = _new(
        manager_client,
        opportunity,
        shift_form(
            day,
            "16:30",
            "19:00",
            needed=5,
            gender="female",
            min_age=18,
            priority=3,
            languages=["ar", "en"],
            description_en="Bring a pen",
            **{f"reserved_{tutoring.id}": 2},
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    shift = db.session.query(Shift).one()
    assert shift.starts_at.tzinfo is not None
    assert local(shift.starts_at).replace(tzinfo=None) == datetime.combine(day, time(16, 30))
    assert local(shift.ends_at).time() == time(19, 0)
    assert shift.needed == 5 and shift.open_places == 3 and shift.open_taken == 0
    assert [(r.skill_id, r.places, r.taken) for r in shift.requirements] == [(tutoring.id, 2, 0)]
    assert shift.gender == "female" and shift.min_age == 18 and shift.priority == 3
    assert shift.languages == ["ar", "en"] and shift.description_en == "Bring a pen"
    assert shift.institution_id == opportunity.institution_id
    assert db.session.query(AuditEvent).filter_by(action="shift.create").count() == 1


def test_shift_in_another_zone_uses_that_zone(manager_client, home, opportunity):
    home.timezone = "Asia/Riyadh"
    db.session.commit()
    day = future_day(5)
    assert _new(manager_client, opportunity, shift_form(day, "09:00", "11:00")).status_code == 302
    shift = db.session.query(Shift).one()
    assert shift.starts_at == datetime.combine(day, time(6, 0), UTC)


def test_arabic_indic_digits_are_accepted_in_dates_times_and_numbers(manager_client, opportunity):
    day = future_day(12)
    arabic_digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    data = shift_form(
        day.isoformat().translate(arabic_digits),
        "١٠:٠٠",
        "١٢:٣٠",
        needed="٥",
        min_age="١٦",
        priority="۲",
    )
    response = _new(manager_client, opportunity, data, headers={})
    assert response.status_code == 302, response.get_data(as_text=True)
    shift = db.session.query(Shift).one()
    assert shift.needed == 5 and shift.min_age == 16 and shift.priority == 2
    assert local(shift.starts_at).replace(tzinfo=None) == datetime.combine(day, time(10))
    assert local(shift.ends_at).time() == time(12, 30)


def test_shift_form_renders_in_arabic_and_english(manager_client, opportunity):
    url = f"/manage/opportunities/{opportunity.id}/shifts/new"
    arabic = manager_client.get(url).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "Africa/Cairo" in arabic
    english = manager_client.get(url, headers=EN).get_data(as_text=True)
    assert "Places reserved for a skill" in english and "Tutoring and homework help" in english


def _bad_cases():
    day = future_day(10)
    yesterday = cairo_today() - timedelta(days=1)
    return [
        ({"day": "", "start_time": "", "end_time": "", "needed": ""}, "Enter a date"),
        ({"day": "not a date"}, "Enter a date as YYYY-MM-DD."),
        ({"day": "2027-02-30"}, "Enter a date as YYYY-MM-DD."),
        ({"start_time": "25:00"}, "Enter a time as HH:MM."),
        ({"start_time": "14:00", "end_time": "12:00"}, "must end after it starts"),
        ({"start_time": "14:00", "end_time": "14:00"}, "must end after it starts"),
        ({"day": str(yesterday)}, "in the past"),
        ({"day": str(day), "needed": "0"}, "between 1 and 500"),
        ({"needed": "-3"}, "between 1 and 500"),
        ({"needed": "501"}, "between 1 and 500"),
        ({"needed": "three"}, "Enter a whole number."),
        ({"needed": "2.5"}, "Enter a whole number."),
        ({"min_age": "121"}, "between 0 and 120"),
        ({"priority": "9"}, "between 1 and 5"),
        ({"gender": "other"}, "Choose who may take this shift"),
        ({"languages": ["xx"]}, "Choose languages from the list."),
        ({"description_ar": "x" * 501}, "500"),
    ]


def test_shift_form_refuses_bad_input_and_writes_nothing(manager_client, opportunity):
    for changes, message in _bad_cases():
        data = shift_form(future_day(10))
        data.update(changes)
        response = _new(manager_client, opportunity, data)
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True), changes
    assert db.session.query(Shift).count() == 0
    assert db.session.query(AuditEvent).count() == 0


def test_reserved_places_more_than_needed_are_refused(manager_client, opportunity, factory):
    tutoring, music = factory.skill("tutoring"), factory.skill("music")
    data = shift_form(
        future_day(10), needed=3, **{f"reserved_{tutoring.id}": 2, f"reserved_{music.id}": 2}
    )
    response = _new(manager_client, opportunity, data)
    assert response.status_code == 400
    assert "Places reserved for skills (4) are more than the places needed (3)." in (
        response.get_data(as_text=True)
    )
    assert db.session.query(Shift).count() == 0
    negative = shift_form(future_day(10), **{f"reserved_{tutoring.id}": -1})
    assert _new(manager_client, opportunity, negative).status_code == 400
    assert db.session.query(Shift).count() == 0


def test_all_places_reserved_leaves_no_open_place(manager_client, opportunity, factory):
    tutoring = factory.skill("tutoring")
    data = shift_form(future_day(10), needed=2, **{f"reserved_{tutoring.id}": 2})
    assert _new(manager_client, opportunity, data).status_code == 302
    assert db.session.query(Shift).one().open_places == 0


def test_unknown_skill_in_the_service_is_refused(app, manager, opportunity):
    details = service.ShiftDetails(needed=3, reserved={99999: 1})
    with app.test_request_context(headers=EN), pytest.raises(service.RuleError) as caught:
        service.create_shift(manager, opportunity, future_day(4), time(10), time(12), details)
    assert "Choose skills from the list." in str(caught.value)
    assert db.session.query(Shift).count() == 0


def test_missing_local_time_at_spring_forward_is_refused(manager_client, opportunity):
    change = dst_change("forward")
    found = odd_local_time(change, "missing")
    assert found is not None, "Cairo skips an hour when its clocks move forward"
    day, at = found
    end = (datetime.combine(day, at) + timedelta(minutes=30)).time()
    response = _new(
        manager_client, opportunity, shift_form(day, at.strftime("%H:%M"), end.strftime("%H:%M"))
    )
    assert response.status_code == 400
    assert "does not exist" in response.get_data(as_text=True)
    assert db.session.query(Shift).count() == 0


def test_repeated_local_time_at_fall_back_is_refused(manager_client, opportunity):
    change = dst_change("back")
    found = odd_local_time(change, "ambiguous")
    assert found is not None, "Cairo repeats an hour when its clocks move back"
    day, at = found
    end = min((datetime.combine(day, at) + timedelta(minutes=10)).time(), time(23, 59))
    response = _new(
        manager_client, opportunity, shift_form(day, at.strftime("%H:%M"), end.strftime("%H:%M"))
    )
    assert response.status_code == 400
    assert "happens twice" in response.get_data(as_text=True)
    assert db.session.query(Shift).count() == 0


def test_local_to_utc_refuses_naive_and_odd_times_directly():
    from zoneinfo import ZoneInfo

    cairo = ZoneInfo("Africa/Cairo")
    change = dst_change("forward")
    day, at = odd_local_time(change, "missing")
    with pytest.raises(service.LocalTimeError) as caught:
        service.local_to_utc(day, at, cairo)
    assert caught.value.kind == "missing"
    normal = service.local_to_utc(change - timedelta(days=3), time(10), cairo)
    assert normal.tzinfo is UTC and normal.hour == 8


# --- editing --------------------------------------------------------------------------------


def _edit(client, shift, data, headers=EN):
    return client.post(f"/manage/shifts/{shift.id}/edit", data=data, headers=headers)


def test_edit_form_is_prefilled_in_local_time(manager_client, opportunity, factory):
    start = datetime.combine(future_day(6), time(7, 15), UTC)
    shift = make_shift(factory, opportunity, start=start, needed=4, skills={"music": 1})
    text = manager_client.get(f"/manage/shifts/{shift.id}/edit", headers=EN).get_data(as_text=True)
    assert local(start).strftime("%H:%M") in text
    assert f'name="reserved_{factory.skill("music").id}"' in text
    assert 'value="4"' in text


def test_edit_changes_times_places_and_keeps_open_places_consistent(
    manager_client, opportunity, factory
):
    shift = make_shift(factory, opportunity, needed=3, skills={"music": 1})
    music, tutoring = factory.skill("music"), factory.skill("tutoring")
    day = future_day(8)
    changed = []

    def receiver(sender, **kw):
        changed.append((sender.id, kw["before"]["needed"]))

    service.shift_changed.connect(receiver)
    try:
        response = _edit(
            manager_client,
            shift,
            shift_form(
                day,
                "11:00",
                "12:00",
                needed=6,
                **{f"reserved_{music.id}": "", f"reserved_{tutoring.id}": 2},
            ),
        )
    finally:
        service.shift_changed.disconnect(receiver)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert shift.needed == 6 and shift.open_places == 4
    assert [(r.skill_id, r.places) for r in shift.requirements] == [(tutoring.id, 2)]
    assert local(shift.starts_at).replace(tzinfo=None) == datetime.combine(day, time(11))
    event = db.session.query(AuditEvent).filter_by(action="shift.update").one()
    assert event.details["before"]["needed"] == 3
    assert changed == [(shift.id, 3)]


def test_edit_cannot_drop_places_below_those_taken(manager_client, opportunity, factory):
    shift = make_shift(factory, opportunity, needed=4, skills={"music": 2})
    music = factory.skill("music")
    assign(shift, factory.volunteer(), "confirmed")
    assign(shift, factory.volunteer(), "confirmed")
    assign(shift, factory.volunteer(), "confirmed", skill=music)
    day = local(shift.starts_at).date()
    start = local(shift.starts_at).strftime("%H:%M")
    end = local(shift.ends_at).strftime("%H:%M")
    # 2 open places are taken: keeping 2 reserved of 3 needed leaves 1 open place.
    response = _edit(
        manager_client, shift, shift_form(day, start, end, needed=3, **{f"reserved_{music.id}": 2})
    )
    assert response.status_code == 400
    assert "leave at least 2 places unreserved" in response.get_data(as_text=True)
    # The music place is taken: the reservation cannot disappear.
    response = _edit(manager_client, shift, shift_form(day, start, end, needed=4))
    assert response.status_code == 400
    assert "keep at least 1" in response.get_data(as_text=True)
    # Three places are taken in all.
    response = _edit(
        manager_client, shift, shift_form(day, start, end, needed=2, **{f"reserved_{music.id}": 1})
    )
    assert response.status_code == 400
    assert "3 places are already taken" in response.get_data(as_text=True)
    db.session.expire_all()
    assert shift.needed == 4 and shift.open_places == 2
    # Down to exactly what is taken works.
    response = _edit(
        manager_client, shift, shift_form(day, start, end, needed=3, **{f"reserved_{music.id}": 1})
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert shift.needed == 3 and shift.open_places == 2 and shift.open_taken == 2
    assert shift.requirements[0].places == 1 and shift.requirements[0].taken == 1


def test_cancelled_or_started_shifts_cannot_be_edited(manager_client, opportunity, factory):
    started = factory.shift(opportunity, start=datetime.now(UTC) - timedelta(hours=1))
    cancelled = factory.shift(opportunity, status="cancelled")
    for shift in (started, cancelled):
        response = _edit(manager_client, shift, shift_form(future_day(5)))
        assert response.status_code == 409
    db.session.expire_all()
    assert cancelled.status == "cancelled" and started.needed == 3


# --- cancelling -----------------------------------------------------------------------------


def test_cancel_releases_places_and_cancels_waitlist(manager_client, opportunity, factory):
    shift = make_shift(factory, opportunity, needed=2, skills={"music": 1})
    music = factory.skill("music")
    held = assign(shift, factory.volunteer(), "confirmed")
    reserved = assign(shift, factory.volunteer(), "offered", skill=music)
    waiting = assign(shift, factory.volunteer(), "waitlisted", waitlist_position=1)
    declined = assign(shift, factory.volunteer(), "declined")
    received = []

    def receiver(sender, **kw):
        received.append((sender.id, sorted(a.id for a in kw["assignments"])))

    service.shift_cancelled.connect(receiver)
    try:
        page = manager_client.get(f"/manage/shifts/{shift.id}/cancel", headers=EN)
        assert "2 volunteers hold places" in page.get_data(as_text=True)
        response = manager_client.post(
            f"/manage/shifts/{shift.id}/cancel", data={"scope": "shift", "reason": "Flood"}
        )
    finally:
        service.shift_cancelled.disconnect(receiver)
    assert response.status_code == 302
    db.session.expire_all()
    assert shift.status == "cancelled" and shift.cancelled_at is not None
    assert shift.open_taken == 0 and shift.requirements[0].taken == 0
    assert [a.state for a in (held, reserved, waiting, declined)] == [
        "cancelled",
        "cancelled",
        "cancelled",
        "declined",
    ]
    assert waiting.waitlist_position is None
    event = db.session.query(AuditEvent).filter_by(action="shift.cancel").one()
    assert event.details["reason"] == "Flood"
    assert sorted(event.details["assignments_cancelled"]) == sorted(
        [held.id, reserved.id, waiting.id]
    )
    assert received == [(shift.id, sorted([held.id, reserved.id, waiting.id]))]
    again = manager_client.post(f"/manage/shifts/{shift.id}/cancel", data={"scope": "shift"})
    assert again.status_code == 409


def test_cancel_with_get_only_shows_the_confirmation(manager_client, opportunity, factory):
    shift = factory.shift(opportunity)
    assert manager_client.get(f"/manage/shifts/{shift.id}/cancel").status_code == 200
    db.session.expire_all()
    assert shift.status == "open"


def test_cancel_form_refuses_unknown_scope(manager_client, opportunity, factory):
    shift = factory.shift(opportunity)
    response = manager_client.post(
        f"/manage/shifts/{shift.id}/cancel", data={"scope": "everything"}, headers=EN
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert shift.status == "open"


def test_institution_zone_falls_back_to_cairo_for_unknown_zone(app, home):
    home.timezone = "Mars/Olympus"
    db.session.commit()
    assert service.institution_zone(db.session.get(Institution, home.id)).key == "Africa/Cairo"
