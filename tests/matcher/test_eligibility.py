"""One test per matching rule of matcher.eligibility, with the edge cases it documents."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from matcher.eligibility import (
    EARTH_RADIUS_KM,
    REASONS,
    caps_reasons,
    clash,
    covering_window,
    distance_km,
    haversine_km,
    hours_cap_us,
    is_eligible,
    pair_reasons,
    positions_for,
    schedule_reasons,
    within_caps,
)
from matcher.model import Credential, Window
from tests.matcher.conftest import at, make_institution, make_shift, make_volunteer, window

INST = make_institution()


def reasons(volunteer=None, shift=None, institution=INST) -> tuple[str, ...]:
    return pair_reasons(volunteer or make_volunteer(), shift or make_shift(), institution)


# ---------------------------------------------------------------- distance


def test_haversine_same_point_is_zero() -> None:
    assert haversine_km(30.0, 31.0, 30.0, 31.0) == 0.0


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km(0, 0, 1, 0) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)


def test_haversine_antipodes_is_half_the_circumference() -> None:
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_haversine_cairo_to_alexandria_and_symmetry() -> None:
    cairo, alexandria = (30.0444, 31.2357), (31.2001, 29.9187)
    d = haversine_km(*cairo, *alexandria)
    assert 175 < d < 185
    assert haversine_km(*alexandria, *cairo) == pytest.approx(d)


def test_distance_equal_to_radius_is_allowed() -> None:
    exact = distance_km(make_volunteer(), INST)
    assert "distance" not in reasons(make_volunteer(max_travel_km=exact))


def test_distance_just_beyond_radius_is_refused() -> None:
    exact = distance_km(make_volunteer(), INST)
    assert "distance" in reasons(make_volunteer(max_travel_km=exact - 1e-6))


def test_zero_radius_accepts_the_same_point() -> None:
    home = make_institution(lat=30.05, lon=31.23)
    assert "distance" not in reasons(make_volunteer(max_travel_km=0), institution=home)


# ---------------------------------------------------------------- availability


def test_shift_wholly_inside_a_window_is_covered() -> None:
    volunteer = make_volunteer(availability=(window(8, 20),))
    assert covering_window(volunteer, at(9), at(12)) == window(8, 20)


def test_shift_matching_window_ends_exactly_is_covered() -> None:
    volunteer = make_volunteer(availability=(window(9, 12),))
    assert covering_window(volunteer, at(9), at(12)) == window(9, 12)
    assert "availability" not in reasons(volunteer)


def test_shift_starting_before_the_window_is_not_covered() -> None:
    volunteer = make_volunteer(availability=(window(9.5, 20),))
    assert covering_window(volunteer, at(9), at(12)) is None
    assert "availability" in reasons(volunteer)


def test_shift_ending_after_the_window_is_not_covered() -> None:
    volunteer = make_volunteer(availability=(window(8, 11.75),))
    assert "availability" in reasons(volunteer)


def test_shift_across_two_adjacent_windows_is_not_covered() -> None:
    volunteer = make_volunteer(availability=(window(8, 10), window(10, 14)))
    assert covering_window(volunteer, at(9), at(12)) is None


def test_first_covering_window_is_returned() -> None:
    volunteer = make_volunteer(availability=(window(6, 10), window(8, 14), window(7, 20)))
    assert covering_window(volunteer, at(9), at(12)) == window(8, 14)


def test_window_in_another_offset_is_compared_as_an_instant() -> None:
    from datetime import UTC

    utc_window = Window(at(9).astimezone(UTC), at(12).astimezone(UTC))
    volunteer = make_volunteer(availability=(utc_window,))
    assert covering_window(volunteer, at(9), at(12)) == utc_window


def test_no_availability_is_never_covered() -> None:
    assert "availability" in reasons(make_volunteer(availability=()))


# ---------------------------------------------------------------- gender and age


@pytest.mark.parametrize("gender", ["female", "male", None])
def test_gender_any_accepts_everyone(gender: str | None) -> None:
    assert "gender" not in reasons(make_volunteer(gender=gender), make_shift(gender="any"))


@pytest.mark.parametrize(
    ("volunteer_gender", "shift_gender", "ok"),
    [
        ("female", "female", True),
        ("male", "female", False),
        (None, "female", False),
        ("male", "male", True),
        ("female", "male", False),
        (None, "male", False),
    ],
)
def test_gendered_shift_requires_that_gender(
    volunteer_gender: str | None, shift_gender: str, ok: bool
) -> None:
    volunteer = make_volunteer(gender=volunteer_gender)
    assert ("gender" not in reasons(volunteer, make_shift(gender=shift_gender))) is ok


def test_min_age_zero_accepts_unknown_age() -> None:
    assert "age" not in reasons(make_volunteer(age=None), make_shift(min_age=0))


def test_unknown_age_fails_a_minimum_age() -> None:
    assert "age" in reasons(make_volunteer(age=None), make_shift(min_age=18))


def test_age_equal_to_minimum_is_allowed_and_below_is_not() -> None:
    assert "age" not in reasons(make_volunteer(age=18), make_shift(min_age=18))
    assert "age" in reasons(make_volunteer(age=17), make_shift(min_age=18))


# ---------------------------------------------------------------- credentials


def test_no_required_credentials_accepts_everyone() -> None:
    assert "credentials" not in reasons(make_volunteer(credentials=()))


def test_credential_without_expiry_is_valid() -> None:
    volunteer = make_volunteer(credentials=(Credential("first_aid"),))
    assert "credentials" not in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


def test_missing_credential_fails() -> None:
    volunteer = make_volunteer(credentials=(Credential("police_check"),))
    assert "credentials" in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


def test_credential_expired_before_the_shift_fails() -> None:
    volunteer = make_volunteer(credentials=(Credential("first_aid", at(8)),))
    assert "credentials" in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


def test_credential_expiring_exactly_at_the_start_fails() -> None:
    volunteer = make_volunteer(credentials=(Credential("first_aid", at(9)),))
    assert "credentials" in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


def test_credential_valid_at_the_start_is_enough_even_if_it_expires_during_the_shift() -> None:
    volunteer = make_volunteer(credentials=(Credential("first_aid", at(10)),))
    assert "credentials" not in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


def test_every_required_credential_is_needed() -> None:
    volunteer = make_volunteer(credentials=(Credential("first_aid"),))
    shift = make_shift(required_credentials={"first_aid", "police_check"})
    assert "credentials" in reasons(volunteer, shift)


def test_one_valid_copy_of_a_credential_suffices() -> None:
    volunteer = make_volunteer(
        credentials=(Credential("first_aid", at(0)), Credential("first_aid", at(0, day=30)))
    )
    assert "credentials" not in reasons(volunteer, make_shift(required_credentials={"first_aid"}))


# ---------------------------------------------------------------- languages


def test_shift_without_languages_accepts_everyone() -> None:
    assert "languages" not in reasons(make_volunteer(languages=()), make_shift(languages=()))


def test_one_common_language_is_enough() -> None:
    volunteer = make_volunteer(languages={"ar", "fr"})
    assert "languages" not in reasons(volunteer, make_shift(languages={"en", "fr"}))


def test_no_common_language_fails() -> None:
    volunteer = make_volunteer(languages={"ar"})
    assert "languages" in reasons(volunteer, make_shift(languages={"en"}))
    assert "languages" in reasons(make_volunteer(languages=()), make_shift(languages={"en"}))


# ---------------------------------------------------------------- skills and positions


def test_positions_are_held_skills_sorted_then_open() -> None:
    volunteer = make_volunteer(skills={"music", "tutoring", "first_aid"})
    shift = make_shift(needed=4, required_skills={"tutoring": 1, "music": 2})
    assert positions_for(volunteer, shift) == ("music", "tutoring", None)


def test_no_open_place_without_spare_places() -> None:
    volunteer = make_volunteer(skills={"tutoring"})
    shift = make_shift(needed=1, required_skills={"tutoring": 1})
    assert positions_for(volunteer, shift) == ("tutoring",)
    assert "skills" not in reasons(volunteer, shift)


def test_skills_reason_when_every_place_is_reserved_for_skills_not_held() -> None:
    volunteer = make_volunteer(skills={"music"})
    shift = make_shift(needed=2, required_skills={"tutoring": 2})
    assert positions_for(volunteer, shift) == ()
    assert "skills" in reasons(volunteer, shift)


def test_no_skills_reason_when_an_open_place_exists() -> None:
    shift = make_shift(needed=2, required_skills={"tutoring": 1})
    assert positions_for(make_volunteer(), shift) == (None,)
    assert "skills" not in reasons(make_volunteer(), shift)


# ---------------------------------------------------------------- all static rules


def test_eligible_pair_has_no_reason() -> None:
    assert reasons() == ()
    assert is_eligible(make_volunteer(), make_shift(), INST)


def test_every_broken_rule_is_listed_in_reasons_order() -> None:
    volunteer = make_volunteer(
        gender="male", age=15, availability=(), max_travel_km=0.1, languages={"fr"}
    )
    shift = make_shift(
        gender="female",
        min_age=18,
        required_credentials={"first_aid"},
        languages={"ar"},
        needed=1,
        required_skills={"tutoring": 1},
    )
    assert reasons(volunteer, shift) == REASONS
    assert not is_eligible(volunteer, shift, INST)


# ---------------------------------------------------------------- clash (rule 6)


def test_overlapping_shifts_clash() -> None:
    assert clash(at(9), at(12), at(11), at(14), 0)
    assert clash(at(11), at(14), at(9), at(12), 0)


def test_contained_shift_clashes() -> None:
    assert clash(at(9), at(17), at(10), at(11), 0)


def test_identical_shifts_clash() -> None:
    assert clash(at(9), at(12), at(9), at(12), 0)


def test_adjacent_shifts_do_not_clash_without_rest() -> None:
    assert not clash(at(9), at(12), at(12), at(15), 0)
    assert not clash(at(12), at(15), at(9), at(12), 0)


def test_adjacent_shifts_clash_with_a_minimum_rest() -> None:
    assert clash(at(9), at(12), at(12), at(15), 30)


def test_rest_gap_exactly_the_minimum_is_allowed() -> None:
    assert not clash(at(9), at(12), at(12.5), at(15), 30)
    assert not clash(at(12.5), at(15), at(9), at(12), 30)


def test_rest_gap_one_minute_short_clashes() -> None:
    assert clash(at(9), at(12), at(12) + timedelta(minutes=29), at(15), 30)


# ---------------------------------------------------------------- schedule and caps (rules 6-7)


def test_schedule_reasons_overlap() -> None:
    taken = [make_shift("a", start=at(10), end=at(13))]
    assert schedule_reasons(make_volunteer(), make_shift(), taken, 0) == ("overlap",)


def test_schedule_reasons_rest() -> None:
    taken = [make_shift("a", start=at(12.25), end=at(14))]
    assert schedule_reasons(make_volunteer(), make_shift(), taken, 30) == ("rest",)
    assert schedule_reasons(make_volunteer(), make_shift(), taken, 15) == ()


def test_schedule_reasons_overlap_and_rest_from_different_shifts() -> None:
    taken = [make_shift("a", start=at(10), end=at(11)), make_shift("b", start=at(12), end=at(13))]
    assert schedule_reasons(make_volunteer(), make_shift(), taken, 60) == ("overlap", "rest")


def test_max_shifts_counts_the_new_shift() -> None:
    volunteer = make_volunteer(max_shifts=1)
    taken = [make_shift("a", start=at(9, day=1), end=at(12, day=1))]
    assert schedule_reasons(volunteer, make_shift(), taken, 0) == ("max_shifts",)
    assert schedule_reasons(volunteer, make_shift(), [], 0) == ()


def test_max_shifts_zero_refuses_any_shift() -> None:
    assert schedule_reasons(make_volunteer(max_shifts=0), make_shift(), [], 0) == ("max_shifts",)


def test_max_hours_equal_to_the_cap_is_allowed() -> None:
    volunteer = make_volunteer(max_hours=9)
    taken = [make_shift(f"d{d}", start=at(9, d), end=at(12, d)) for d in (1, 2)]
    assert schedule_reasons(volunteer, make_shift(), taken, 0) == ()
    assert within_caps(volunteer, taken, make_shift())


def test_max_hours_one_minute_above_the_cap_is_refused() -> None:
    volunteer = make_volunteer(max_hours=9)
    taken = [make_shift(f"d{d}", start=at(9, d), end=at(12, d)) for d in (1, 2)]
    longer = make_shift(end=at(12) + timedelta(minutes=1))
    assert schedule_reasons(volunteer, longer, taken, 0) == ("max_hours",)
    assert not within_caps(volunteer, taken, longer)


def test_max_hours_with_fractional_hours_has_no_rounding_error() -> None:
    volunteer = make_volunteer(max_hours=1.0)
    thirds = [make_shift(f"t{d}", start=at(9, d), end=at(9 + 1 / 3, d)) for d in range(3)]
    assert caps_reasons(volunteer, thirds) == ()


def test_max_hours_one_microsecond_above_the_cap_is_refused() -> None:
    volunteer = make_volunteer(max_hours=1)
    half = make_shift("a", start=at(9), end=at(9.5))
    longer = make_shift("b", start=at(10), end=at(10.5) + timedelta(microseconds=1))
    assert caps_reasons(volunteer, [half, longer]) == ("max_hours",)
    alone = make_shift("c", start=at(9), end=at(10) + timedelta(microseconds=1))
    assert caps_reasons(volunteer, [alone]) == ("max_hours",)
    assert caps_reasons(volunteer, [make_shift("d", start=at(9), end=at(10))]) == ()


@pytest.mark.parametrize(
    ("max_hours", "cap_us"),
    [
        (4.1, 14_760_000_000),
        (8.2, 29_520_000_000),
        (0.1, 360_000_000),
        (1e-6, 3_600),
        (7, 25_200_000_000),
        (137 / 60, 8_220_000_000),  # 2.283333333333333: a hair below 137 minutes
        (1 / 3, 1_200_000_000),
        (1.0000000002, 3_600_000_000),  # 0.72 us above the hour: not a whole microsecond
    ],
)
def test_hours_cap_is_the_decimal_value_of_max_hours(max_hours: float, cap_us: int) -> None:
    # 4.1 * 3600 is 14759.999999999998 in floats: the cap is the written decimal's, exactly
    assert hours_cap_us(max_hours) == cap_us
    volunteer = make_volunteer(max_hours=max_hours)
    exact = make_shift("x", start=at(9), end=at(9) + timedelta(microseconds=cap_us))
    over = make_shift("y", start=at(9), end=at(9) + timedelta(microseconds=cap_us + 1))
    assert caps_reasons(volunteer, [exact]) == ()
    assert caps_reasons(volunteer, [over]) == ("max_hours",)


@pytest.mark.parametrize("max_hours", [2.5e9, 3e9, 1e20, 1e300])
def test_a_huge_max_hours_is_no_cap_and_fits_64_bits(max_hours: float) -> None:
    """3e9 hours is more microseconds than an int64 holds (it crashed the solver's arrays):
    caps above 2**62 us are held there, which no roster reaches."""
    assert hours_cap_us(max_hours) == 2**62  # 2.5e9 hours: 9e18 us, above it too
    assert hours_cap_us(1e9) == 3_600_000_000 * 10**9  # below: exact
    volunteer = make_volunteer(max_hours=max_hours)
    week = make_shift("w", start=at(0), end=at(0) + timedelta(days=7))
    assert caps_reasons(volunteer, [week]) == ()


def test_no_caps_means_unlimited() -> None:
    volunteer = make_volunteer(max_shifts=None, max_hours=None)
    week = [make_shift(f"d{d}", start=at(8, d), end=at(20, d)) for d in range(7)]
    assert within_caps(volunteer, week)


def test_both_caps_reported_together() -> None:
    volunteer = make_volunteer(max_shifts=1, max_hours=2)
    taken = [make_shift("a", start=at(9, 1), end=at(12, 1))]
    assert schedule_reasons(volunteer, make_shift(), taken, 0) == ("max_shifts", "max_hours")


def test_shift_hours_are_end_minus_start() -> None:
    assert make_shift(start=at(9), end=at(12.5)).duration_hours == 3.5
