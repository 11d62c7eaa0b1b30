"""The immutable problem/solution model: coercion, immutability, hashing, lookups, to_dict."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from matcher.model import (
    FORMAT,
    Assignment,
    Credential,
    FrozenMap,
    Metrics,
    Settings,
    Solution,
    Unfilled,
    Weights,
    Window,
)
from tests.matcher.conftest import at, make_institution, make_problem, make_shift, make_volunteer


def test_frozen_map_is_a_read_only_hashable_mapping() -> None:
    m = FrozenMap({"a": 1, "b": 2})
    assert m["a"] == 1
    assert list(m) == ["a", "b"]
    assert len(m) == 2
    assert m == {"b": 2, "a": 1}
    assert hash(m) == hash(FrozenMap([("b", 2), ("a", 1)]))
    with pytest.raises(TypeError):
        m["c"] = 3  # type: ignore[index]
    assert m != FrozenMap({"a": 1})
    assert m != ["a", "b"]


def test_volunteer_coerces_collections_to_immutable_ones() -> None:
    volunteer = make_volunteer(
        skills=["music", "music"],
        availability=[Window(at(8), at(12))],
        preferences={"inst-1": 3},
        credentials=[Credential("first_aid")],
        languages=["ar"],
    )
    assert volunteer.skills == frozenset({"music"})
    assert isinstance(volunteer.availability, tuple)
    assert isinstance(volunteer.preferences, FrozenMap)
    assert volunteer.preferences["inst-1"] == 3
    assert volunteer.credentials == (Credential("first_aid"),)
    assert volunteer.languages == frozenset({"ar"})
    hash(volunteer)


def test_model_objects_are_immutable() -> None:
    volunteer = make_volunteer()
    with pytest.raises(dataclasses.FrozenInstanceError):
        volunteer.age = 30  # type: ignore[misc]
    with pytest.raises(TypeError):
        volunteer.preferences["x"] = 1  # type: ignore[index]


def test_equal_models_are_equal_and_hash_alike() -> None:
    assert make_problem() == make_problem()
    assert hash(make_problem()) == hash(make_problem())
    assert make_shift(required_skills={"a": 1}, needed=2) == make_shift(
        required_skills=FrozenMap({"a": 1}), needed=2
    )


def test_shift_properties() -> None:
    shift = make_shift(
        start=at(9),
        end=at(12, day=0) + timedelta(minutes=30),
        needed=5,
        required_skills={"tutoring": 2, "music": 1},
    )
    assert shift.duration_hours == 3.5
    assert shift.open_places == 2


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 12, 5, 9)
    with pytest.raises(ValueError, match="naive"):
        Window(naive, naive + timedelta(hours=1))
    with pytest.raises(ValueError, match="naive"):
        make_shift(start=naive, end=naive + timedelta(hours=1))
    with pytest.raises(ValueError, match="naive"):
        Credential("first_aid", naive)


def test_end_not_after_start_is_refused() -> None:
    with pytest.raises(ValueError, match="after start"):
        Window(at(9), at(9))
    with pytest.raises(ValueError, match="after start"):
        make_shift(start=at(12), end=at(9))


def test_problem_lookups_and_demand() -> None:
    shifts = (make_shift("s1", needed=2), make_shift("s2", needed=3))
    problem = make_problem(shifts=shifts, institutions=[make_institution()])
    assert problem.shift_by_id["s2"] is shifts[1]
    assert problem.volunteer_by_id["vol-1"].id == "vol-1"
    assert problem.institution_of(shifts[0]).id == "inst-1"
    assert problem.demand == 5
    assert isinstance(problem.institutions, tuple)
    with pytest.raises(TypeError):
        problem.shift_by_id["s3"] = shifts[0]  # type: ignore[index]


def test_settings_defaults() -> None:
    settings = Settings()
    assert settings.min_rest_minutes == 0
    assert settings.time_limit_s is None
    assert settings.seed == 0
    assert settings.threads is None
    assert settings.weights == Weights()


def test_solution_to_dict_has_the_v1_shape() -> None:
    solution = Solution(
        assignments=[Assignment("vol-1", "shift-1", "tutoring"), Assignment("vol-2", "shift-1")],
        unfilled=[Unfilled("shift-2", None, 2, {"availability": 4}, ("widen the radius",))],
        metrics=Metrics(5, 2, 3, "FEASIBLE", 0.5, 6.25, {1: 2}, 0.5, {"components": 3}),
        warnings=["locked pair vol-9/shift-9 breaks availability"],
    )
    assert solution.to_dict() == {
        "format": FORMAT,
        "assignments": [
            {"volunteer_id": "vol-1", "shift_id": "shift-1", "position": "tutoring"},
            {"volunteer_id": "vol-2", "shift_id": "shift-1", "position": None},
        ],
        "unfilled": [
            {
                "shift_id": "shift-2",
                "position": None,
                "missing": 2,
                "reasons": {"availability": 4},
                "suggestions": ["widen the radius"],
            }
        ],
        "metrics": {
            "demand": 5,
            "filled": 2,
            "upper_bound": 3,
            "status": "FEASIBLE",
            "solve_seconds": 0.5,
            "mean_km": 6.25,
            "filled_by_priority": {"1": 2},
            "fairness_spread": 0.5,
            "components": 3,
        },
        "warnings": ["locked pair vol-9/shift-9 breaks availability"],
    }


def test_metrics_optional_figures_are_left_out_when_unset() -> None:
    assert Metrics(0, 0, 0, "EMPTY", 0.0).to_dict() == {
        "demand": 0,
        "filled": 0,
        "upper_bound": 0,
        "status": "EMPTY",
        "solve_seconds": 0.0,
        "mean_km": None,
    }
