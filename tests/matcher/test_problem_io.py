"""Loading, validating and dumping v1 problems and solutions (every error names its pointer)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.model import (
    Credential,
    FrozenMap,
    Institution,
    Pair,
    Problem,
    Settings,
    Shift,
    Volunteer,
    Weights,
    Window,
)
from matcher.problem_io import (
    ProblemError,
    dump_problem,
    dump_solution,
    escape_token,
    load_problem,
    load_solution,
    pointer,
    problem_to_dict,
    solution_to_dict,
)
from tests.matcher.conftest import make_problem, make_shift, make_solution, raw_problem

DELETE = object()


def edit(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set (or with DELETE remove) the member at a slash path like "volunteers/0/age"."""
    *parents, last = path.split("/")
    target: Any = doc
    for token in parents:
        target = target[int(token)] if isinstance(target, list) else target[token]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


def error_of(doc: Any) -> ProblemError:
    with pytest.raises(ProblemError) as info:
        load_problem(doc)
    return info.value


AVAIL = {"start": "2026-12-05T09:00:00+02:00", "end": "2026-12-05T16:00:00+02:00"}

# (path to edit, new value, expected pointer, part of the message)
INVALID: list[tuple[str, Any, str, str]] = [
    ("format", "volunteer-matching/v2", "/format", "expected 'volunteer-matching/v1'"),
    ("format", DELETE, "/format", "missing required field"),
    ("format", 1, "/format", "expected a string, got a number"),
    ("horizon", DELETE, "/horizon", "missing required field"),
    ("horizon", [], "/horizon", "expected an object, got an array"),
    ("horizon/end", "2026-12-05T00:00:00+02:00", "/horizon/end", "must be after start"),
    ("horizon/end", "2026-12-04T00:00:00+02:00", "/horizon/end", "must be after start"),
    ("horizon/start", "2026-12-05T00:00:00", "/horizon/start", "naive datetime"),
    ("horizon/start", "next friday", "/horizon/start", "invalid datetime"),
    ("institutions", DELETE, "/institutions", "missing required field"),
    ("institutions", {}, "/institutions", "expected an array, got an object"),
    ("institutions/0", "inst-1", "/institutions/0", "expected an object, got a string"),
    ("institutions/0/id", 7, "/institutions/0/id", "expected a string, got a number"),
    ("institutions/0/id", "", "/institutions/0/id", "empty id"),
    ("institutions/0/lat", 90.5, "/institutions/0/lat", "must be at most 90"),
    ("institutions/0/lat", -91, "/institutions/0/lat", "must be at least -90"),
    ("institutions/0/lon", 180.01, "/institutions/0/lon", "must be at most 180"),
    ("institutions/0/lon", -181, "/institutions/0/lon", "must be at least -180"),
    ("institutions/0/lat", True, "/institutions/0/lat", "expected a number, got a boolean"),
    ("institutions/0/lat", "30.0", "/institutions/0/lat", "expected a number, got a string"),
    ("institutions/0/lat", float("inf"), "/institutions/0/lat", "finite"),
    ("institutions/0/lon", DELETE, "/institutions/0/lon", "missing required field"),
    ("institutions/0/kind", 3, "/institutions/0/kind", "expected a string"),
    ("volunteers", None, "/volunteers", "expected an array, got null"),
    ("volunteers/0/id", DELETE, "/volunteers/0/id", "missing required field"),
    ("volunteers/0/id", None, "/volunteers/0/id", "expected a string, got null"),
    ("volunteers/0/skills", "music", "/volunteers/0/skills", "expected an array"),
    ("volunteers/0/skills/1", 5, "/volunteers/0/skills/1", "expected a string"),
    ("volunteers/0/gender", "any", "/volunteers/0/gender", "must be one of female, male"),
    ("volunteers/0/gender", "f", "/volunteers/0/gender", "must be one of female, male"),
    ("volunteers/0/age", True, "/volunteers/0/age", "expected an integer, got a boolean"),
    ("volunteers/0/age", 23.5, "/volunteers/0/age", "expected an integer, got a number"),
    ("volunteers/0/age", -1, "/volunteers/0/age", "must be at least 0"),
    ("volunteers/0/age", 10**30, "/volunteers/0/age", "must be at most 2147483647"),
    ("volunteers/0/max_shifts", 1e300, "/volunteers/0/max_shifts", "must be at most 2147483647"),
    ("shifts/0/needed", 2**31, "/shifts/0/needed", "must be at most 2147483647"),
    (
        "shifts/0/required_skills",
        {"tutoring": 2**40},
        "/shifts/0/required_skills/tutoring",
        "must be at most 2147483647",
    ),
    ("shifts/0/min_age", 2**31, "/shifts/0/min_age", "must be at most 2147483647"),
    ("volunteers/0/lat", 100, "/volunteers/0/lat", "must be at most 90"),
    ("volunteers/0/lon", -200, "/volunteers/0/lon", "must be at least -180"),
    ("volunteers/0/max_travel_km", -1, "/volunteers/0/max_travel_km", "must be at least 0"),
    ("volunteers/0/max_travel_km", False, "/volunteers/0/max_travel_km", "got a boolean"),
    ("volunteers/0/max_travel_km", DELETE, "/volunteers/0/max_travel_km", "missing"),
    ("volunteers/0/availability", DELETE, "/volunteers/0/availability", "missing"),
    ("volunteers/0/availability", AVAIL, "/volunteers/0/availability", "expected an array"),
    (
        "volunteers/0/availability/0/end",
        "2026-12-05T16:00:00",
        "/volunteers/0/availability/0/end",
        "naive datetime",
    ),
    (
        "volunteers/0/availability/0/end",
        "2026-12-05T09:00:00+02:00",
        "/volunteers/0/availability/0/end",
        "must be after start",
    ),
    ("volunteers/0/availability/0/start", DELETE, "/volunteers/0/availability/0/start", "missing"),
    ("volunteers/0/max_shifts", -1, "/volunteers/0/max_shifts", "must be at least 0"),
    ("volunteers/0/max_shifts", 1.5, "/volunteers/0/max_shifts", "expected an integer"),
    ("volunteers/0/max_hours", -0.5, "/volunteers/0/max_hours", "must be at least 0"),
    ("volunteers/0/max_hours", "9", "/volunteers/0/max_hours", "expected a number"),
    ("volunteers/0/preferences", ["inst-1"], "/volunteers/0/preferences", "expected an object"),
    ("volunteers/0/preferences/inst-1", 4, "/volunteers/0/preferences/inst-1", "at most 3"),
    ("volunteers/0/preferences/inst-1", 0, "/volunteers/0/preferences/inst-1", "at least 1"),
    ("volunteers/0/preferences/inst-1", True, "/volunteers/0/preferences/inst-1", "boolean"),
    ("volunteers/0/preferences/inst-9", 1, "/volunteers/0/preferences/inst-9", "unknown"),
    ("volunteers/0/credentials", {"name": "x"}, "/volunteers/0/credentials", "expected an array"),
    ("volunteers/0/credentials", [{}], "/volunteers/0/credentials/0/name", "missing"),
    (
        "volunteers/0/credentials",
        [{"name": "first_aid", "expires": "2027-01-01T00:00:00"}],
        "/volunteers/0/credentials/0/expires",
        "naive datetime",
    ),
    ("volunteers/0/languages", ["ar", 1], "/volunteers/0/languages/1", "expected a string"),
    ("volunteers/0/no_show_rate", 1.5, "/volunteers/0/no_show_rate", "must be at most 1"),
    ("volunteers/0/no_show_rate", -0.1, "/volunteers/0/no_show_rate", "must be at least 0"),
    ("volunteers/0/no_show_rate", "0.2", "/volunteers/0/no_show_rate", "expected a number"),
    ("volunteers/0/no_show_rate", True, "/volunteers/0/no_show_rate", "got a boolean"),
    ("shifts", DELETE, "/shifts", "missing required field"),
    ("shifts/0/id", DELETE, "/shifts/0/id", "missing required field"),
    ("shifts/0/institution_id", "inst-9", "/shifts/0/institution_id", "unknown institution"),
    ("shifts/0/start", DELETE, "/shifts/0/start", "missing required field"),
    ("shifts/0/start", "2026-12-05T09:00:00", "/shifts/0/start", "naive datetime"),
    ("shifts/0/end", "2026-12-05T09:00:00+02:00", "/shifts/0/end", "must be after start"),
    ("shifts/0/end", "2026-12-05T07:00:00Z", "/shifts/0/end", "must be after start"),
    ("shifts/0/needed", 0, "/shifts/0/needed", "must be at least 1"),
    ("shifts/0/needed", True, "/shifts/0/needed", "expected an integer, got a boolean"),
    ("shifts/0/needed", DELETE, "/shifts/0/needed", "missing required field"),
    ("shifts/0/required_skills", {"tutoring": 4}, "/shifts/0/required_skills", "reserves 4"),
    (
        "shifts/0/required_skills",
        {"tutoring": 2, "music": 2},
        "/shifts/0/required_skills",
        "reserves 4 places but needed is 3",
    ),
    ("shifts/0/required_skills/tutoring", 0, "/shifts/0/required_skills/tutoring", "at least 1"),
    ("shifts/0/required_skills", ["tutoring"], "/shifts/0/required_skills", "expected an object"),
    ("shifts/0/gender", "other", "/shifts/0/gender", "must be one of any, female, male"),
    ("shifts/0/gender", None, "/shifts/0/gender", "expected a string, got null"),
    ("shifts/0/min_age", -1, "/shifts/0/min_age", "must be at least 0"),
    ("shifts/0/min_age", 18.5, "/shifts/0/min_age", "expected an integer"),
    ("shifts/0/priority", 0, "/shifts/0/priority", "must be at least 1"),
    ("shifts/0/priority", 6, "/shifts/0/priority", "must be at most 5"),
    ("shifts/0/required_credentials", "first_aid", "/shifts/0/required_credentials", "array"),
    ("shifts/0/languages", "ar", "/shifts/0/languages", "expected an array"),
    ("locked", {}, "/locked", "expected an array"),
    ("locked/0/volunteer_id", "vol-9", "/locked/0/volunteer_id", "unknown volunteer 'vol-9'"),
    ("locked/0/shift_id", "shift-9", "/locked/0/shift_id", "unknown shift 'shift-9'"),
    ("locked/0/shift_id", DELETE, "/locked/0/shift_id", "missing required field"),
    ("locked/0", ["vol-1", "shift-1"], "/locked/0", "expected an object"),
    ("settings", [], "/settings", "expected an object"),
    ("settings/min_rest_minutes", -1, "/settings/min_rest_minutes", "must be at least 0"),
    ("settings/min_rest_minutes", "30", "/settings/min_rest_minutes", "expected an integer"),
    ("settings/min_rest_minutes", 30.5, "/settings/min_rest_minutes", "expected an integer"),
    ("settings/time_limit_s", 0, "/settings/time_limit_s", "must be greater than 0"),
    ("settings/time_limit_s", True, "/settings/time_limit_s", "got a boolean"),
    ("settings/seed", -1, "/settings/seed", "must be at least 0"),
    ("settings/seed", 2**31, "/settings/seed", "must be at most"),
    ("settings/seed", "7", "/settings/seed", "expected an integer"),
    ("settings/threads", 0, "/settings/threads", "must be at least 1"),
    ("settings/weights", 1, "/settings/weights", "expected an object"),
    ("settings/weights", {"travel": -1}, "/settings/weights/travel", "must be at least 0"),
    ("settings/weights", {"fairness": "high"}, "/settings/weights/fairness", "number"),
    ("settings/weights", {"reliability": -2}, "/settings/weights/reliability", "at least 0"),
]


@pytest.mark.parametrize(
    ("path", "value", "expected_pointer", "message"),
    INVALID,
    ids=[f"{case[2]}:{case[3]}" for case in INVALID],
)
def test_invalid_field_is_named_by_pointer(
    path: str, value: Any, expected_pointer: str, message: str
) -> None:
    error = error_of(edit(raw_problem(), path, value))
    assert error.pointer == expected_pointer
    assert message in error.message
    assert str(error) == f"{expected_pointer}: {error.message}"


@pytest.mark.parametrize(
    ("item", "expected_pointer"),
    [
        ("institutions", "/institutions/1/id"),
        ("volunteers", "/volunteers/1/id"),
        ("shifts", "/shifts/1/id"),
    ],
)
def test_duplicate_ids_are_refused(item: str, expected_pointer: str) -> None:
    doc = raw_problem()
    doc[item].append(json.loads(json.dumps(doc[item][0])))
    error = error_of(doc)
    assert error.pointer == expected_pointer
    assert "duplicate id" in error.message


@pytest.mark.parametrize("item", ["locked", "previous"])
def test_duplicate_pairs_are_refused(item: str) -> None:
    doc = raw_problem()
    doc[item] = [{"volunteer_id": "vol-1", "shift_id": "shift-1"}] * 2
    assert error_of(doc).pointer == f"/{item}/1"


def test_pointer_to_a_key_with_slash_and_tilde_is_escaped() -> None:
    doc = raw_problem()
    doc["volunteers"][0]["preferences"] = {"inst-1": 1, "a/b~c": 2}
    assert str(error_of(doc)) == "/volunteers/0/preferences/a~1b~0c: unknown institution 'a/b~c'"


def test_empty_key_of_a_count_map_is_refused() -> None:
    doc = raw_problem()
    doc["shifts"][0]["required_skills"] = {"": 1}
    assert str(error_of(doc)) == "/shifts/0/required_skills/: keys must be non-empty strings"


def test_previous_naming_an_unknown_id_is_refused() -> None:
    doc = raw_problem()
    doc["previous"] = [{"volunteer_id": "vol-1", "shift_id": "shift-7"}]
    error = error_of(doc)
    assert (error.pointer, error.message) == ("/previous/0/shift_id", "unknown shift 'shift-7'")


def test_error_in_a_later_list_item_names_its_index() -> None:
    doc = raw_problem()
    volunteer = json.loads(json.dumps(doc["volunteers"][0]))
    volunteer["id"] = "vol-2"
    volunteer["availability"].append({"start": "2026-12-06T09:00:00+02:00", "end": "2026-12-06"})
    doc["volunteers"].append(volunteer)
    assert str(error_of(doc)) == "/volunteers/1/availability/1/end: naive datetime"


def test_document_that_is_not_an_object() -> None:
    error = error_of("[1, 2]")
    assert error.pointer == ""
    assert str(error) == "expected an object, got an array"


def test_invalid_json_text() -> None:
    error = error_of('{"format": ')
    assert error.pointer == ""
    assert error.message.startswith("invalid JSON")


def test_nan_is_not_json() -> None:
    text = json.dumps(raw_problem()).replace("30.04", "NaN")
    assert "invalid JSON" in error_of(text).message


def test_unreadable_file(tmp_path: Path) -> None:
    error = error_of(tmp_path / "missing.json")
    assert error.pointer == ""
    assert "cannot read" in error.message


def test_invalid_utf8_bytes() -> None:
    assert "invalid JSON" in error_of(b"\xff\xfe{").message


def test_unsupported_input_type() -> None:
    with pytest.raises(TypeError):
        load_problem(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------- accepted documents


def test_example_of_the_format_loads() -> None:
    problem = load_problem(raw_problem())
    cairo = timezone(timedelta(hours=2))
    assert problem.horizon.start == datetime(2026, 12, 5, tzinfo=cairo)
    (volunteer,) = problem.volunteers
    assert volunteer.skills == frozenset({"tutoring", "music"})
    assert volunteer.gender == "female"
    assert volunteer.age == 23
    assert volunteer.max_travel_km == 15.0
    assert isinstance(volunteer.max_travel_km, float)
    assert volunteer.max_shifts == 2
    assert volunteer.max_hours == 9.0
    assert volunteer.preferences == {"inst-1": 2}
    (shift,) = problem.shifts
    assert shift.required_skills == {"tutoring": 1}
    assert shift.open_places == 2
    assert shift.min_age == 18
    assert shift.priority == 1
    assert problem.institutions[0].kind == "orphanage_girls"
    assert problem.locked == (Pair("vol-1", "shift-1"),)
    assert problem.previous == ()
    assert problem.settings == Settings(min_rest_minutes=30, time_limit_s=30.0)


def test_every_optional_field_is_carried() -> None:
    doc = raw_problem()
    doc["volunteers"][0]["credentials"] = [
        {"name": "first_aid", "expires": "2027-06-30T23:59:59+03:00"},
        {"name": "police_check"},
        {"name": "driving", "expires": None},
    ]
    doc["volunteers"][0]["languages"] = ["ar", "en"]
    doc["shifts"][0].update(
        required_credentials=["first_aid"], languages=["ar"], priority=5, gender="female"
    )
    doc["previous"] = [{"volunteer_id": "vol-1", "shift_id": "shift-1"}]
    doc["settings"].update(
        seed=42,
        threads=2,
        weights={"previous": 10, "preferences": 1.5, "same_institution": 0, "travel": 2},
    )
    problem = load_problem(doc)
    volunteer, shift = problem.volunteers[0], problem.shifts[0]
    assert volunteer.credentials == (
        Credential(
            "first_aid", datetime(2027, 6, 30, 23, 59, 59, tzinfo=timezone(timedelta(hours=3)))
        ),
        Credential("police_check"),
        Credential("driving"),
    )
    assert volunteer.languages == frozenset({"ar", "en"})
    assert shift.required_credentials == frozenset({"first_aid"})
    assert shift.languages == frozenset({"ar"})
    assert shift.priority == 5
    assert shift.gender == "female"
    assert problem.previous == (Pair("vol-1", "shift-1"),)
    assert problem.settings.seed == 42
    assert problem.settings.threads == 2
    assert problem.settings.weights == Weights(
        previous=10, preferences=1.5, same_institution=0, travel=2, fairness=Weights().fairness
    )


def test_no_show_rate_and_reliability_weight() -> None:
    doc = raw_problem()
    doc["volunteers"][0]["no_show_rate"] = 0.25
    doc["settings"]["weights"] = {"reliability": 3}
    problem = load_problem(doc)
    assert problem.volunteers[0].no_show_rate == 0.25
    assert problem.settings.weights.reliability == 3
    assert load_problem(problem_to_dict(problem)) == problem
    for value in (0, 1, None):
        doc["volunteers"][0]["no_show_rate"] = value
        assert load_problem(doc).volunteers[0].no_show_rate == (value or 0)
    del doc["volunteers"][0]["no_show_rate"]
    del doc["settings"]["weights"]
    problem = load_problem(doc)
    assert problem.volunteers[0].no_show_rate == 0
    assert problem.settings.weights.reliability == Weights().reliability


def test_defaults_of_omitted_optional_fields() -> None:
    doc = raw_problem()
    for key in ("skills", "gender", "age", "max_shifts", "max_hours", "preferences"):
        del doc["volunteers"][0][key]
    for key in ("required_skills", "gender", "min_age"):
        del doc["shifts"][0][key]
    del doc["institutions"][0]["kind"]
    del doc["locked"]
    del doc["settings"]
    problem = load_problem(doc)
    volunteer, shift = problem.volunteers[0], problem.shifts[0]
    assert (volunteer.skills, volunteer.gender, volunteer.age) == (frozenset(), None, None)
    assert (volunteer.max_shifts, volunteer.max_hours, dict(volunteer.preferences)) == (
        None,
        None,
        {},
    )
    assert (dict(shift.required_skills), shift.gender, shift.min_age) == ({}, "any", 0)
    assert shift.open_places == 3
    assert problem.institutions[0].kind is None
    assert problem.locked == ()
    assert problem.settings == Settings()


def test_nulls_are_accepted_for_optional_fields() -> None:
    doc = raw_problem()
    doc["volunteers"][0].update(
        gender=None, age=None, max_shifts=None, max_hours=None, preferences=None, skills=None
    )
    doc["institutions"][0]["kind"] = None
    doc.update(locked=None, previous=None, settings=None)
    problem = load_problem(doc)
    assert problem.volunteers[0].gender is None
    assert problem.volunteers[0].age is None
    assert problem.settings == Settings()


def test_unknown_fields_are_ignored_everywhere() -> None:
    doc = raw_problem()
    doc["generated_by"] = "web 1.2"
    doc["horizon"]["zone"] = "Africa/Cairo"
    doc["institutions"][0]["name"] = "Dar Al Amal"
    doc["volunteers"][0]["phone"] = "+201000000000"
    doc["volunteers"][0]["availability"][0]["note"] = "after work"
    doc["shifts"][0]["title"] = "Homework club"
    doc["locked"][0]["by"] = "coordinator"
    doc["settings"]["future_option"] = True
    doc["settings"]["weights"] = {"travel": 2, "mystery": 9}
    assert load_problem(doc) == load_problem(edit(raw_problem(), "settings/weights", {"travel": 2}))


def test_empty_lists_are_valid() -> None:
    doc = raw_problem()
    doc.update(volunteers=[], shifts=[], locked=[])
    problem = load_problem(doc)
    assert problem.volunteers == problem.shifts == ()
    assert problem.demand == 0


def test_boundary_values_are_accepted() -> None:
    doc = raw_problem()
    doc["institutions"][0].update(lat=-90, lon=180)
    doc["volunteers"][0].update(lat=90, lon=-180, max_travel_km=0, max_shifts=0, max_hours=0)
    doc["shifts"][0].update(required_skills={"tutoring": 3}, priority=5)
    doc["settings"].update(min_rest_minutes=0, seed=2**31 - 1)
    problem = load_problem(doc)
    assert problem.shifts[0].open_places == 0


def test_utc_z_suffix_and_other_offsets() -> None:
    doc = raw_problem()
    doc["horizon"]["start"] = "2026-12-04T22:00:00Z"
    doc["shifts"][0]["end"] = "2026-12-05T13:00:00+03:00"
    problem = load_problem(doc)
    assert problem.horizon.start == datetime(2026, 12, 4, 22, tzinfo=UTC)
    assert problem.shifts[0].duration_hours == 3.0


def test_lower_case_z_is_utc() -> None:
    # RFC 3339 allows "z" (and "t") in lower case
    doc = raw_problem()
    doc["horizon"]["start"] = "2026-12-04t22:00:00z"
    doc["volunteers"][0]["availability"][0]["end"] = "2026-12-05t14:00:00z"
    problem = load_problem(doc)
    assert problem.horizon.start == datetime(2026, 12, 4, 22, tzinfo=UTC)
    assert problem.volunteers[0].availability[0].end == datetime(2026, 12, 5, 14, tzinfo=UTC)


def test_integral_numbers_written_with_a_fraction_are_integers() -> None:
    # many JSON writers put 2.0 for 2; both the strict readers and the fast path take them
    doc = raw_problem()
    doc["volunteers"][0].update(age=23.0, max_shifts=2.0, preferences={"inst-1": 3.0})
    doc["shifts"][0].update(needed=4.0, required_skills={"tutoring": 1.0}, priority=2.0)
    doc["shifts"][0]["min_age"] = 18.0
    doc["settings"]["min_rest_minutes"] = 30.0
    problem = load_problem(doc)
    vol, shift = problem.volunteers[0], problem.shifts[0]
    assert (vol.age, vol.max_shifts, dict(vol.preferences)) == (23, 2, {"inst-1": 3})
    assert type(vol.age) is int and type(shift.needed) is int
    assert (shift.needed, dict(shift.required_skills), shift.priority) == (4, {"tutoring": 1}, 2)
    assert shift.min_age == 18 and problem.settings.min_rest_minutes == 30
    assert problem == load_problem(json.loads(json.dumps(problem_to_dict(problem))))


@pytest.mark.parametrize("kind", ["dict", "str", "indented str", "bytes", "path str", "Path"])
def test_input_forms(kind: str, tmp_path: Path) -> None:
    doc = raw_problem()
    text = json.dumps(doc)
    file = tmp_path / "problem.json"
    file.write_text(text, encoding="utf-8")
    source: Any = {
        "dict": doc,
        "str": text,
        "indented str": "\n  " + json.dumps(doc, indent=2),
        "bytes": text.encode(),
        "path str": str(file),
        "Path": file,
    }[kind]
    assert load_problem(source) == load_problem(raw_problem())


# ---------------------------------------------------------------- writing


def test_problem_round_trip_through_dict_and_json() -> None:
    doc = raw_problem()
    doc["volunteers"][0]["credentials"] = [{"name": "first_aid", "expires": "2027-01-01T00:00:00Z"}]
    doc["shifts"][0].update(languages=["ar"], required_credentials=["first_aid"], priority=3)
    doc["previous"] = doc["locked"]
    problem = load_problem(doc)
    assert load_problem(problem_to_dict(problem)) == problem
    assert load_problem(dump_problem(problem)) == problem
    assert problem_to_dict(load_problem(problem_to_dict(problem))) == problem_to_dict(problem)


def test_round_trip_of_a_built_problem_keeps_order_and_offsets() -> None:
    shifts = (make_shift("b"), make_shift("a", needed=2, required_skills={"music": 1}))
    problem = make_problem(shifts=shifts)
    again = load_problem(problem_to_dict(problem))
    assert [s.id for s in again.shifts] == ["b", "a"]
    assert again.shifts[0].start.utcoffset() == timedelta(hours=2)
    assert again == problem


def test_dumped_problem_is_plain_json() -> None:
    data = json.loads(dump_problem(load_problem(raw_problem())))
    assert data["format"] == "volunteer-matching/v1"
    assert data["volunteers"][0]["skills"] == ["music", "tutoring"]
    assert data["shifts"][0]["start"] == "2026-12-05T09:00:00+02:00"


# ---------------------------------------------------------------- solutions


def test_solution_round_trip() -> None:
    problem = make_problem(shifts=(make_shift(needed=3, required_skills={"tutoring": 1}),))
    solution = make_solution(problem, [("vol-1", "shift-1", None)], warnings=["w"])
    assert load_solution(solution_to_dict(solution)) == solution
    assert load_solution(dump_solution(solution)) == solution


def test_solution_extra_metrics_survive_a_round_trip() -> None:
    data = solution_to_dict(make_solution(make_problem()))
    data["metrics"].update(filled_by_priority={"1": 0, "5": 0}, fairness_spread=0.0, components=1)
    solution = load_solution(data)
    assert solution.metrics.filled_by_priority == FrozenMap({1: 0, 5: 0})
    assert solution.metrics.extra == {"components": 1}
    assert solution_to_dict(solution)["metrics"] == data["metrics"]


def test_solution_example_of_the_format_loads() -> None:
    solution = load_solution(
        {
            "format": "volunteer-matching/v1",
            "assignments": [
                {"volunteer_id": "vol-1", "shift_id": "shift-1", "position": "tutoring"}
            ],
            "unfilled": [
                {
                    "shift_id": "shift-2",
                    "position": None,
                    "missing": 2,
                    "reasons": {"availability": 40, "distance": 12, "taken_elsewhere": 3},
                }
            ],
            "metrics": {
                "demand": 5,
                "filled": 3,
                "upper_bound": 3,
                "status": "OPTIMAL",
                "solve_seconds": 0.8,
                "mean_km": 6.2,
            },
            "warnings": [],
        }
    )
    assert solution.assignments[0].position == "tutoring"
    assert solution.unfilled[0].reasons["taken_elsewhere"] == 3
    assert solution.unfilled[0].suggestions == ()
    assert solution.metrics.status == "OPTIMAL"


@pytest.mark.parametrize(
    ("path", "value", "expected_pointer"),
    [
        ("format", "v0", "/format"),
        ("assignments", DELETE, "/assignments"),
        ("metrics", DELETE, "/metrics"),
        ("metrics/status", "GOOD", "/metrics/status"),
        ("metrics/filled", -1, "/metrics/filled"),
        ("metrics/filled", True, "/metrics/filled"),
        ("metrics/solve_seconds", "1", "/metrics/solve_seconds"),
        ("metrics/filled_by_priority", {"high": 1}, "/metrics/filled_by_priority/high"),
        ("warnings", [1], "/warnings/0"),
        ("assignments", [{"volunteer_id": "vol-1"}], "/assignments/0/shift_id"),
        (
            "assignments",
            [{"volunteer_id": "vol-1", "shift_id": "s", "position": 3}],
            "/assignments/0/position",
        ),
        ("unfilled", [{"shift_id": "s", "position": None, "missing": -1}], "/unfilled/0/missing"),
        (
            "unfilled",
            [{"shift_id": "s", "position": None, "missing": 1, "suggestions": "x"}],
            "/unfilled/0/suggestions",
        ),
    ],
)
def test_invalid_solution_field_is_named_by_pointer(
    path: str, value: Any, expected_pointer: str
) -> None:
    data = solution_to_dict(make_solution(make_problem(), [("vol-1", "shift-1")]))
    with pytest.raises(ProblemError) as info:
        load_solution(edit(data, path, value))
    assert info.value.pointer == expected_pointer


# ---------------------------------------------------------------- pointers


@pytest.mark.parametrize(
    ("token", "escaped"), [("a", "a"), ("a/b", "a~1b"), ("~", "~0"), ("~/", "~0~1"), (3, "3")]
)
def test_pointer_escaping(token: str | int, escaped: str) -> None:
    assert escape_token(token) == escaped


def test_pointer_of_tokens() -> None:
    assert pointer() == ""
    assert (
        pointer("volunteers", 17, "availability", 0, "end") == "/volunteers/17/availability/0/end"
    )
    assert pointer("x", "") == "/x/"


def test_problem_error_is_a_value_error() -> None:
    error = ProblemError("/a/b", "bad")
    assert isinstance(error, ValueError)
    assert (error.pointer, error.message, str(error)) == ("/a/b", "bad", "/a/b: bad")


# ---------------------------------------------------------------- properties (hypothesis)

IDS = st.text(alphabet="ab~/-é1 ", min_size=1, max_size=6)
NAMES = st.text(alphabet="abc_", min_size=1, max_size=4)
OFFSETS = st.sampled_from([timedelta(0), timedelta(hours=2), timedelta(hours=-3, minutes=-30)])
MOMENTS = st.builds(
    lambda naive, offset: naive.replace(tzinfo=timezone(offset)),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
    OFFSETS,
)
DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=2))
LATS = st.floats(-90, 90, allow_nan=False)
LONS = st.floats(-180, 180, allow_nan=False)
NON_NEGATIVE = st.floats(0, 1e6, allow_nan=False)


def windows() -> st.SearchStrategy[Window]:
    return st.builds(lambda start, length: Window(start, start + length), MOMENTS, DURATIONS)


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    institutions = [
        Institution(i, draw(LATS), draw(LONS), draw(st.none() | NAMES))
        for i in draw(st.lists(IDS, unique=True, max_size=3))
    ]
    inst_ids = [i.id for i in institutions]
    volunteers = [
        Volunteer(
            id=v,
            skills=draw(st.frozensets(NAMES, max_size=3)),
            gender=draw(st.sampled_from([None, "female", "male"])),
            age=draw(st.none() | st.integers(0, 99)),
            lat=draw(LATS),
            lon=draw(LONS),
            max_travel_km=draw(NON_NEGATIVE),
            availability=tuple(draw(st.lists(windows(), max_size=3))),
            max_shifts=draw(st.none() | st.integers(0, 20)),
            max_hours=draw(st.none() | NON_NEGATIVE),
            preferences=draw(
                st.dictionaries(st.sampled_from(inst_ids), st.integers(1, 3))
                if inst_ids
                else st.just({})
            ),
            credentials=tuple(
                draw(st.lists(st.builds(Credential, NAMES, st.none() | MOMENTS), max_size=2))
            ),
            languages=draw(st.frozensets(NAMES, max_size=2)),
            no_show_rate=draw(st.floats(0, 1)),
        )
        for v in draw(st.lists(IDS, unique=True, max_size=4))
    ]
    shifts = []
    if inst_ids:
        for s in draw(st.lists(IDS, unique=True, max_size=4)):
            window = draw(windows())
            needed = draw(st.integers(1, 6))
            skills = draw(st.dictionaries(NAMES, st.integers(1, 2), max_size=2))
            if sum(skills.values()) > needed:
                skills = {}
            shifts.append(
                Shift(
                    id=s,
                    institution_id=draw(st.sampled_from(inst_ids)),
                    start=window.start,
                    end=window.end,
                    needed=needed,
                    required_skills=skills,
                    gender=draw(st.sampled_from(["any", "female", "male"])),
                    min_age=draw(st.integers(0, 30)),
                    required_credentials=draw(st.frozensets(NAMES, max_size=2)),
                    languages=draw(st.frozensets(NAMES, max_size=2)),
                    priority=draw(st.integers(1, 5)),
                )
            )
    all_pairs = [Pair(v.id, s.id) for v in volunteers for s in shifts]
    pairs = (
        st.lists(st.sampled_from(all_pairs), unique=True, max_size=3) if all_pairs else st.just([])
    )
    solver_settings = Settings(
        min_rest_minutes=draw(st.integers(0, 600)),
        time_limit_s=draw(st.none() | st.floats(0.001, 3600)),
        seed=draw(st.integers(0, 2**31 - 1)),
        threads=draw(st.none() | st.integers(1, 16)),
        weights=draw(st.builds(Weights, *[NON_NEGATIVE] * 6)),
    )
    return Problem(
        horizon=draw(windows()),
        institutions=tuple(institutions),
        volunteers=tuple(volunteers),
        shifts=tuple(shifts),
        locked=tuple(draw(pairs)),
        previous=tuple(draw(pairs)),
        settings=solver_settings,
    )


def leaves(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths of every scalar (non-container) value of a JSON document."""
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in leaves(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in leaves(value, (*path, i))]
    return [path]


def value_at(doc: Any, path: tuple[str | int, ...]) -> Any:
    for token in path:
        doc = doc[token]
    return doc


def set_at(doc: Any, path: tuple[str | int, ...], value: Any) -> None:
    for token in path[:-1]:
        doc = doc[token]
    doc[path[-1]] = value


PROPERTY_SETTINGS = settings(max_examples=30, deadline=None)


@PROPERTY_SETTINGS
@given(problems())
def test_random_problem_round_trips_through_dict_and_json_text(problem: Problem) -> None:
    assert load_problem(problem_to_dict(problem)) == problem
    assert load_problem(dump_problem(problem, indent=None)) == problem


@PROPERTY_SETTINGS
@given(problems(), st.data())
def test_a_boolean_anywhere_is_refused_at_its_own_pointer(
    problem: Problem, data: st.DataObject
) -> None:
    doc = problem_to_dict(problem)
    path = data.draw(st.sampled_from(leaves(doc)))
    set_at(doc, path, True)
    with pytest.raises(ProblemError) as info:
        load_problem(doc)
    assert info.value.pointer == pointer(*path)


@PROPERTY_SETTINGS
@given(problems(), st.data())
def test_a_naive_datetime_anywhere_is_refused_at_its_own_pointer(
    problem: Problem, data: st.DataObject
) -> None:
    doc = problem_to_dict(problem)
    moments = [p for p in leaves(doc) if p[-1] in ("start", "end", "expires")]
    path = data.draw(st.sampled_from([p for p in moments if value_at(doc, p) is not None]))
    set_at(doc, path, value_at(doc, path)[:19])
    with pytest.raises(ProblemError) as info:
        load_problem(doc)
    assert (info.value.pointer, info.value.message) == (pointer(*path), "naive datetime")


def _strict_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.problem_io as problem_io

    monkeypatch.setattr(problem_io, "_fast_volunteer", lambda *args: None)
    monkeypatch.setattr(problem_io, "_fast_shift", lambda *args: None)


@PROPERTY_SETTINGS
@given(problems())
def test_fast_readers_build_what_the_strict_readers_build(problem: Problem) -> None:
    doc = problem_to_dict(problem)
    fast = load_problem(doc)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _strict_only(monkeypatch)
        strict = load_problem(doc)
    assert fast == strict == problem
    assert repr(fast) == repr(strict)


def test_fast_readers_give_way_on_unusual_but_valid_values() -> None:
    doc = raw_problem()
    vol, shift = doc["volunteers"][0], doc["shifts"][0]
    vol.update(lat=30, max_travel_km=15, max_hours=9, no_show_rate=0, credentials=None)
    vol["skills"] = ["music", "music"]
    del vol["gender"]
    shift.update(required_skills=None, languages=None)
    fast = load_problem(doc)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _strict_only(monkeypatch)
        strict = load_problem(doc)
    assert repr(fast) == repr(strict)
    assert fast.volunteers[0].lat == 30.0 and isinstance(fast.volunteers[0].lat, float)
    assert fast.volunteers[0].no_show_rate == 0.0


@pytest.mark.parametrize(
    ("path", "value", "expected_pointer"),
    [
        ("volunteers/0/no_show_rate", False, "/volunteers/0/no_show_rate"),
        ("volunteers/0/lat", 10**400, "/volunteers/0/lat"),
        ("volunteers/0/max_travel_km", float("nan"), "/volunteers/0/max_travel_km"),
        ("volunteers/0/skills", [["a"]], "/volunteers/0/skills/0"),
        ("volunteers/0/preferences", {"inst-1": 2.5}, "/volunteers/0/preferences/inst-1"),
        ("shifts/0/priority", None, "/shifts/0/priority"),
        ("shifts/0/required_skills", {"tutoring": True}, "/shifts/0/required_skills/tutoring"),
        ("volunteers/0/availability/0/start", ["x"], "/volunteers/0/availability/0/start"),
        ("volunteers/0/credentials", [{"name": ["cpr"]}], "/volunteers/0/credentials/0/name"),
        (
            "volunteers/0/credentials",
            [{"name": "cpr", "expires": 5}],
            "/volunteers/0/credentials/0/expires",
        ),
        ("shifts/0/start", "2026-12-05T12:00:00+02:00", "/shifts/0/end"),
    ],
)
def test_fast_readers_leave_errors_to_the_strict_readers(
    path: str, value: Any, expected_pointer: str
) -> None:
    assert error_of(edit(raw_problem(), path, value)).pointer == expected_pointer


def test_windows_and_credentials_with_the_same_texts_are_shared_and_checked_once_each() -> None:
    doc = raw_problem()
    vol = doc["volunteers"][0]
    vol["credentials"] = [{"name": "cpr", "expires": None}]
    doc["volunteers"].append({**copy.deepcopy(vol), "id": "vol-copy"})
    problem = load_problem(doc)
    first, copy_ = problem.volunteers[0], problem.volunteers[-1]
    assert first.availability == copy_.availability and first.credentials == copy_.credentials
    bad = copy.deepcopy(vol)
    bad["availability"][0]["end"] = bad["availability"][0]["start"]
    doc["volunteers"][-1] = {**bad, "id": "vol-bad"}
    with pytest.raises(ProblemError) as info:
        load_problem(doc)
    assert info.value.pointer == f"/volunteers/{len(doc['volunteers']) - 1}/availability/0/end"


@pytest.mark.parametrize("enabled", [True, False])
def test_load_problem_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        load_problem(raw_problem())
        assert gc.isenabled() is enabled
        with pytest.raises(ProblemError):
            load_problem(edit(raw_problem(), "volunteers/0/lat", "x"))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
