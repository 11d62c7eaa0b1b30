"""Weekly series: generation at the same local time across clock changes, exceptions, cancelling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tests.web.manager.conftest import (
    assign,
    dst_change,
    future_day,
    local,
    odd_local_time,
    shift_form,
)
from web.extensions import db
from web.models import AuditEvent, Shift, ShiftSeries

EN = {"Accept-Language": "en"}


def _series(first_day, weeks, excluded="", start="10:00", end="12:00", **extra):
    data = shift_form(first_day, start, end, **extra)
    del data["day"]
    data.update(first_day=str(first_day), weeks=str(weeks), excluded_days=excluded)
    return data


def _post(client, opportunity, data, headers=EN):
    return client.post(
        f"/manage/opportunities/{opportunity.id}/series/new", data=data, headers=headers
    )


def test_series_creates_one_shift_per_week_skipping_excluded_dates(
    manager_client, opportunity, factory
):
    first = future_day(3)
    skipped = first + timedelta(weeks=2)
    music = factory.skill("music")
    response = _post(
        manager_client,
        opportunity,
        _series(first, 5, f"{skipped}", needed=4, **{f"reserved_{music.id}": 1}),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    series = db.session.query(ShiftSeries).one()
    assert series.weeks == 5 and series.first_day == first
    assert series.excluded_days == [skipped.isoformat()]
    days = [local(s.starts_at).date() for s in series.shifts]
    assert days == [first + timedelta(weeks=k) for k in (0, 1, 3, 4)]
    assert {d.weekday() for d in days} == {first.weekday()}
    for shift in series.shifts:
        assert shift.needed == 4 and shift.open_places == 3
        assert [(r.skill_id, r.places) for r in shift.requirements] == [(music.id, 1)]
        assert local(shift.starts_at).time() == time(10) and local(shift.ends_at).time() == time(12)
    event = db.session.query(AuditEvent).filter_by(action="series.create").one()
    assert len(event.details["shifts"]) == 4


@pytest.mark.parametrize("direction", ["forward", "back"])
def test_series_keeps_the_same_local_time_across_a_clock_change(
    manager_client, opportunity, direction
):
    change = dst_change(direction)
    first = change - timedelta(weeks=2)
    if first <= future_day(1):
        first += timedelta(weeks=1)
    response = _post(manager_client, opportunity, _series(first, 5, start="10:00", end="13:00"))
    assert response.status_code == 302, response.get_data(as_text=True)
    shifts = db.session.query(Shift).order_by(Shift.starts_at).all()
    assert len(shifts) == 5
    assert all(local(s.starts_at).time() == time(10) for s in shifts)
    assert all(local(s.ends_at).time() == time(13) for s in shifts)
    utc_hours = [s.starts_at.hour for s in shifts]
    before = [
        h for s, h in zip(shifts, utc_hours, strict=True) if local(s.starts_at).date() <= change
    ]
    after = [
        h for s, h in zip(shifts, utc_hours, strict=True) if local(s.starts_at).date() > change
    ]
    assert before and after
    assert len(set(before)) == 1 and len(set(after)) == 1
    assert (after[0] - before[0]) == (-1 if direction == "forward" else 1)


def test_series_occurrence_on_a_skipped_hour_is_refused_with_its_date(manager_client, opportunity):
    change = dst_change("forward")
    day, at = odd_local_time(change, "missing")
    first = day - timedelta(weeks=1)
    if first <= future_day(0):
        pytest.fail("the next clock change is too close to test a series before it")
    end = (datetime.combine(day, at) + timedelta(minutes=30)).time()
    response = _post(
        manager_client,
        opportunity,
        _series(first, 3, start=at.strftime("%H:%M"), end=end.strftime("%H:%M")),
    )
    assert response.status_code == 400
    assert "does not exist" in response.get_data(as_text=True)
    assert db.session.query(ShiftSeries).count() == 0
    assert db.session.query(Shift).count() == 0


def test_series_accepts_arabic_indic_digits(manager_client, opportunity):
    first = future_day(4)
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    skipped = (first + timedelta(weeks=1)).isoformat().translate(digits)
    data = _series(
        first.isoformat().translate(digits), "٣", skipped, start="٠٩:٠٠", end="١١:٠٠", needed="٢"
    )
    response = _post(manager_client, opportunity, data, headers={})
    assert response.status_code == 302, response.get_data(as_text=True)
    shifts = db.session.query(Shift).order_by(Shift.starts_at).all()
    assert [local(s.starts_at).date() for s in shifts] == [first, first + timedelta(weeks=2)]
    assert all(s.needed == 2 for s in shifts)


def _bad_series_cases():
    first = future_day(4)
    return [
        ({"weeks": "0"}, "between 1 and 26"),
        ({"weeks": "27"}, "between 1 and 26"),
        ({"weeks": ""}, "Enter a whole number."),
        ({"excluded_days": "2020-13-01"}, "Enter each date as YYYY-MM-DD."),
        ({"excluded_days": str(first + timedelta(days=1))}, "is not one of the dates"),
        ({"weeks": "1", "excluded_days": str(first)}, "Every date of the series is excluded."),
        ({"first_day": str(date(2020, 1, 6))}, "in the past"),
        ({"start_time": "12:00", "end_time": "10:00"}, "must end after it starts"),
        ({"needed": "0"}, "between 1 and 500"),
        ({"first_day": ""}, "Enter a date as YYYY-MM-DD."),
    ]


def test_series_form_refuses_bad_input_and_writes_nothing(manager_client, opportunity):
    for changes, message in _bad_series_cases():
        data = _series(future_day(4), 4)
        data.update(changes)
        response = _post(manager_client, opportunity, data)
        assert response.status_code == 400, changes
        assert message in response.get_data(as_text=True), changes
    assert db.session.query(ShiftSeries).count() == 0
    assert db.session.query(Shift).count() == 0


def test_series_limit_comes_from_config(app, manager_client, opportunity, monkeypatch):
    monkeypatch.setitem(app.config, "SERIES_MAX_WEEKS", 3)
    response = _post(manager_client, opportunity, _series(future_day(4), 4))
    assert response.status_code == 400
    assert "between 1 and 3" in response.get_data(as_text=True)
    assert _post(manager_client, opportunity, _series(future_day(4), 3)).status_code == 302


def test_series_page_in_arabic_and_english(manager_client, opportunity):
    url = f"/manage/opportunities/{opportunity.id}/series/new"
    assert '<html lang="ar" dir="rtl">' in manager_client.get(url).get_data(as_text=True)
    assert "New weekly series" in manager_client.get(url, headers=EN).get_data(as_text=True)


def _make_series(client, opportunity, weeks=4):
    assert _post(client, opportunity, _series(future_day(3), weeks)).status_code == 302
    series = db.session.query(ShiftSeries).one()
    return series, list(series.shifts)


def test_cancel_one_occurrence_adds_an_exception(manager_client, opportunity, factory):
    series, shifts = _make_series(manager_client, opportunity)
    volunteer = factory.volunteer()
    assignment = assign(shifts[1], volunteer, "confirmed")
    page = manager_client.get(f"/manage/shifts/{shifts[1].id}/cancel", headers=EN)
    assert "every later one of its series" in page.get_data(as_text=True)
    response = manager_client.post(f"/manage/shifts/{shifts[1].id}/cancel", data={"scope": "shift"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [s.status for s in shifts] == ["open", "cancelled", "open", "open"]
    assert series.excluded_days == [local(shifts[1].starts_at).date().isoformat()]
    assert assignment.state == "cancelled" and shifts[1].open_taken == 0
    assert db.session.query(AuditEvent).filter_by(action="series.cancel_occurrence").count() == 1


def test_cancel_the_rest_of_a_series(manager_client, opportunity, factory):
    _series_row, shifts = _make_series(manager_client, opportunity)
    assignment = assign(shifts[3], factory.volunteer(), "offered")
    response = manager_client.post(f"/manage/shifts/{shifts[1].id}/cancel", data={"scope": "rest"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [s.status for s in shifts] == ["open", "cancelled", "cancelled", "cancelled"]
    assert assignment.state == "cancelled" and shifts[3].open_taken == 0
    assert db.session.query(AuditEvent).filter_by(action="series.cancel_rest").count() == 3


def test_single_shift_cancel_page_offers_no_series_choice(manager_client, opportunity, factory):
    shift = factory.shift(opportunity)
    page = manager_client.get(f"/manage/shifts/{shift.id}/cancel", headers=EN)
    assert "every later one of its series" not in page.get_data(as_text=True)
    response = manager_client.post(f"/manage/shifts/{shift.id}/cancel", data={"scope": "rest"})
    assert response.status_code == 400
    db.session.expire_all()
    assert shift.status == "open"
