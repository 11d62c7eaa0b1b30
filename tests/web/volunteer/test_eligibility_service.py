"""The adapter from database rows to matcher.model, the rule checks and "shifts I can do"."""

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from matcher import eligibility as rules
from matcher import model as m
from web.extensions import db
from web.services.eligibility import (
    PREFERENCE_WEIGHT,
    ShiftFilters,
    bounding_box,
    check_pair,
    institution_model,
    parse_key,
    shift_model,
    shifts_i_can_do,
    volunteer_model,
    week_bounds,
)
from web.services.signup import sign_up

CAIRO = ZoneInfo("Africa/Cairo")


def test_models_carry_every_field(factory):
    inst = factory.institution(kind="elderly_home", lat=30.1, lon=31.3)
    shift = factory.shift(
        factory.opportunity(inst),
        needed=4,
        skills={"music": 1, "first_aid": 2},
        gender="female",
        min_age=18,
        languages=["en"],
        priority=3,
    )
    vol = factory.volunteer(
        skills=("music", "tutoring"), age=30, max_shifts=2, max_hours=6, languages=("ar", "en")
    )
    vol.profile.preferred_institutions.append(inst)
    db.session.commit()

    mi = institution_model(inst)
    assert mi == m.Institution(id=f"i{inst.id}", lat=30.1, lon=31.3, kind="elderly_home")
    ms = shift_model(shift)
    assert ms.id == f"s{shift.id}" and parse_key(ms.id) == shift.id
    assert dict(ms.required_skills) == {"music": 1, "first_aid": 2} and ms.open_places == 1
    assert (ms.gender, ms.min_age, ms.languages, ms.priority) == ("female", 18, {"en"}, 3)
    assert ms.start == shift.starts_at and ms.start.tzinfo is not None

    start = shift.starts_at - timedelta(days=1)
    mv = volunteer_model(vol.profile, start, start + timedelta(days=3))
    assert mv.id == f"v{vol.id}" and mv.skills == {"music", "tutoring"}
    assert (mv.age, mv.gender, mv.max_travel_km) == (30, "female", 25.0)
    assert (mv.max_shifts, mv.max_hours) == (2, 6)
    assert dict(mv.preferences) == {f"i{inst.id}": PREFERENCE_WEIGHT}
    assert mv.languages == {"ar", "en"} and len(mv.availability) == 4  # ends clipped
    assert all(start <= w.start < w.end <= start + timedelta(days=3) for w in mv.availability)
    assert rules.positions_for(mv, ms) == ("music", None)
    uncapped = volunteer_model(vol.profile, start, start + timedelta(days=1), caps=False)
    assert (uncapped.max_shifts, uncapped.max_hours) == (None, None)


def test_home_falls_back_to_the_governorate_centre(factory):
    vol = factory.volunteer(governorate="EG-ALX")
    vol.profile.home_lat = vol.profile.home_lon = None
    db.session.commit()
    now = datetime.now(UTC)
    mv = volunteer_model(vol.profile, now, now + timedelta(days=1))
    alex = factory.governorate("EG-ALX")
    assert (mv.lat, mv.lon) == (alex.lat, alex.lon)
    vol.profile.governorate = None
    db.session.commit()
    assert volunteer_model(vol.profile, now, now + timedelta(days=1)) is None


def test_age_is_taken_on_the_shift_day(factory):
    shift = factory.shift(min_age=18)
    vol = factory.volunteer()
    local_day = shift.starts_at.astimezone(CAIRO).date()
    vol.profile.date_of_birth = date(local_day.year - 18, local_day.month, local_day.day)
    db.session.commit()
    assert check_pair(vol.profile, shift).ok  # 18 on the day itself
    vol.profile.date_of_birth += timedelta(days=1)
    db.session.commit()
    assert check_pair(vol.profile, shift).reasons == ("age",)


def test_check_pair_reports_distance_and_positions(factory):
    shift = factory.shift(skills={"music": 1})
    verdict = check_pair(factory.volunteer(skills=("music",)).profile, shift)
    assert verdict.ok and verdict.positions == ("music", None)
    assert math.isclose(verdict.distance_km, rules.haversine_km(30.05, 31.24, 30.06, 31.25))


def test_week_bounds_are_local_mondays_across_dst():
    # The week of Friday 2024-04-26, when Egypt's clocks went forward.
    start, end = week_bounds(datetime(2024, 4, 26, 12, tzinfo=UTC), CAIRO)
    assert start == datetime(2024, 4, 22, tzinfo=CAIRO) == datetime(2024, 4, 21, 22, tzinfo=UTC)
    assert end == datetime(2024, 4, 29, tzinfo=CAIRO) == datetime(2024, 4, 28, 21, tzinfo=UTC)
    # Sunday 23:30 local still belongs to the week that started on Monday.
    late_sunday = datetime.combine(date(2024, 4, 28), time(23, 30), tzinfo=CAIRO)
    assert week_bounds(late_sunday, CAIRO) == (start, end)


def test_bounding_box_holds_every_point_within_the_radius():
    rng = random.Random(7)
    for _ in range(300):
        lat, lon = rng.uniform(-60, 60), rng.uniform(-170, 170)
        radius = rng.uniform(0.5, 200)
        lat_lo, lat_hi, lon_lo, lon_hi = bounding_box(lat, lon, radius)
        for bearing in range(0, 360, 15):
            # A point at (almost) exactly `radius` km in direction `bearing`.
            d = radius * 0.999 / rules.EARTH_RADIUS_KM
            b = math.radians(bearing)
            p1, l1 = math.radians(lat), math.radians(lon)
            p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
            l2 = l1 + math.atan2(
                math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
            )
            plat, plon = math.degrees(p2), math.degrees(l2)
            assert rules.haversine_km(lat, lon, plat, plon) <= radius
            assert lat_lo <= plat <= lat_hi and lon_lo <= plon <= lon_hi


def test_shifts_i_can_do_pages_through_eligible_shifts_in_time_order(factory):
    vol = factory.volunteer()
    base = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    good = [factory.shift(start=base + timedelta(days=d)) for d in range(2, 7)]
    factory.shift(start=base + timedelta(days=3), gender="male")  # not for her
    factory.shift(start=base + timedelta(days=3), status="cancelled")
    factory.shift(start=base - timedelta(days=1))  # past
    factory.shift(factory.opportunity(status="draft"), start=base + timedelta(days=4))
    first = shifts_i_can_do(vol, ShiftFilters(page=1), per_page=2)
    second = shifts_i_can_do(vol, ShiftFilters(page=2), per_page=2)
    third = shifts_i_can_do(vol, ShiftFilters(page=3), per_page=2)
    ids = [o.shift.id for p in (first, second, third) for o in p.items]
    assert ids == [s.id for s in good]
    assert (first.has_prev, first.has_next, third.has_next) == (False, True, False)
    assert all(o.free == 3 and not o.waitlist for o in first.items)


def test_shifts_i_can_do_hides_clashes_caps_and_my_own(factory):
    vol = factory.volunteer(max_shifts=2)
    base = datetime.now(CAIRO).date() + timedelta(days=8 - datetime.now(CAIRO).weekday())
    monday = datetime.combine(base, time(10), tzinfo=CAIRO)
    mine = factory.shift(start=monday)
    sign_up(vol, mine)
    overlapping = factory.shift(start=monday + timedelta(hours=1))
    later = factory.shift(start=monday + timedelta(days=1))
    page = shifts_i_can_do(vol, ShiftFilters(date_from=base, date_to=base + timedelta(days=6)))
    ids = {o.shift.id for o in page.items}
    assert later.id in ids and mine.id not in ids and overlapping.id not in ids
    sign_up(vol, later)
    third = factory.shift(start=monday + timedelta(days=2))
    page = shifts_i_can_do(vol, ShiftFilters(date_from=base, date_to=base + timedelta(days=6)))
    assert third.id not in {o.shift.id for o in page.items}  # weekly cap of 2 reached


def test_shifts_i_can_do_filters_and_incomplete_profile(factory):
    cairo = factory.institution(governorate="EG-C", kind="orphanage")
    giza = factory.institution(governorate="EG-GZ", kind="disability_centre", lat=30.02, lon=31.21)
    in_cairo = factory.shift(factory.opportunity(cairo))
    in_giza = factory.shift(factory.opportunity(giza), skills={"sign_language": 1})
    vol = factory.volunteer(skills=("sign_language",))
    by_gov = shifts_i_can_do(vol, ShiftFilters(governorate_id=factory.governorate("EG-GZ").id))
    assert [o.shift.id for o in by_gov.items] == [in_giza.id]
    by_kind = shifts_i_can_do(vol, ShiftFilters(kind="orphanage"))
    assert [o.shift.id for o in by_kind.items] == [in_cairo.id]
    by_skill = shifts_i_can_do(vol, ShiftFilters(skill_id=factory.skill("sign_language").id))
    assert [o.shift.id for o in by_skill.items] == [in_giza.id]
    assert shifts_i_can_do(factory.user("volunteer"), ShiftFilters()).incomplete


def test_free_places_count_only_the_positions_i_can_fill(factory):
    shift = factory.shift(needed=3, skills={"music": 1})
    musician, other = factory.volunteer(skills=("music",)), factory.volunteer()
    first = shifts_i_can_do(musician, ShiftFilters()).items
    assert [(o.shift.id, o.free, o.positions) for o in first] == [(shift.id, 3, ("music", None))]
    sign_up(factory.volunteer(), shift)
    sign_up(factory.volunteer(), shift)  # the two open places are gone
    [mine] = shifts_i_can_do(musician, ShiftFilters()).items
    [theirs] = shifts_i_can_do(other, ShiftFilters()).items
    assert (mine.free, mine.waitlist) == (1, False)
    assert (theirs.free, theirs.waitlist) == (0, True)
