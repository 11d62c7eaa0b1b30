"""The independent solution validator: one test per hard rule and per consistency check."""

from __future__ import annotations

import dataclasses

import pytest

from matcher.check import check_assignments, check_solution
from matcher.model import Assignment, Credential, Metrics, Pair, Settings, Solution, Unfilled
from tests.matcher.conftest import (
    at,
    make_institution,
    make_problem,
    make_shift,
    make_solution,
    make_volunteer,
    window,
)


def one_error(errors: list[str], start: str) -> str:
    assert len(errors) == 1, errors
    assert errors[0].startswith(start), errors
    return errors[0]


def errors_for(problem, assignments, **kw) -> list[str]:
    return check_solution(problem, make_solution(problem, assignments, **kw))


def test_valid_solution_has_no_error() -> None:
    problem = make_problem(
        volunteers=(make_volunteer("a", skills={"tutoring"}), make_volunteer("b")),
        shifts=(make_shift(needed=3, required_skills={"tutoring": 1}),),
    )
    assert errors_for(problem, [("a", "shift-1", "tutoring"), ("b", "shift-1", None)]) == []


def test_empty_solution_of_an_empty_problem_is_valid() -> None:
    problem = make_problem(volunteers=(), shifts=())
    assert errors_for(problem, []) == []


def test_unknown_volunteer_and_shift() -> None:
    errors = errors_for(make_problem(), [("ghost", "shift-1"), ("vol-1", "nowhere")])
    assert "assignment 0: unknown volunteer 'ghost'" in errors
    assert "assignment 1: unknown shift 'nowhere'" in errors


def test_position_that_is_not_a_reserved_skill() -> None:
    problem = make_problem(volunteers=(make_volunteer(skills={"music"}),))
    solution = make_solution(problem, [])
    solution = dataclasses.replace(
        solution,
        assignments=(Assignment("vol-1", "shift-1", "music"),),
        unfilled=(),
        metrics=dataclasses.replace(solution.metrics, filled=1, upper_bound=1),
    )
    errors = check_solution(problem, solution)
    assert any("position 'music' is not a reserved skill" in e for e in errors), errors


def test_rule_1_one_place_per_volunteer() -> None:
    problem = make_problem(shifts=(make_shift(needed=2),))
    errors = errors_for(problem, [("vol-1", "shift-1"), ("vol-1", "shift-1")])
    one_error(errors, "rule 1 (one place per volunteer): vol-1 fills 2 places of shift-1")


def test_rule_1_open_places_not_exceeded() -> None:
    problem = make_problem(volunteers=(make_volunteer("a"), make_volunteer("b")))
    one_error(errors_for(problem, [("a", "shift-1"), ("b", "shift-1")]), "rule 1 (places)")


def test_rule_1_reserved_places_not_exceeded() -> None:
    problem = make_problem(
        volunteers=(make_volunteer("a", skills={"t"}), make_volunteer("b", skills={"t"})),
        shifts=(make_shift(needed=3, required_skills={"t": 1}),),
    )
    errors = errors_for(problem, [("a", "shift-1", "t"), ("b", "shift-1", "t")])
    assert any(e.startswith("rule 1 (places): shift-1 has 1 't' place") for e in errors), errors


def test_rule_2_availability() -> None:
    problem = make_problem(volunteers=(make_volunteer(availability=(window(10, 20),)),))
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 2 (availability)")


def test_rule_3_gender() -> None:
    problem = make_problem(shifts=(make_shift(gender="male"),))
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 3 (gender)")


def test_rule_3_minimum_age() -> None:
    problem = make_problem(volunteers=(make_volunteer(age=None),), shifts=(make_shift(min_age=16),))
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 3 (minimum age)")


def test_rule_3_credentials() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(credentials=(Credential("first_aid", at(8)),)),),
        shifts=(make_shift(required_credentials={"first_aid"}),),
    )
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 3 (credentials)")


def test_rule_3_languages() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(languages={"ar"}),), shifts=(make_shift(languages={"en"}),)
    )
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 3 (languages)")


def test_rule_4_distance() -> None:
    problem = make_problem(institutions=(make_institution(lat=31.2, lon=29.9),))
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 4 (distance)")


def test_rule_5_skill_place_needs_the_skill() -> None:
    problem = make_problem(shifts=(make_shift(needed=2, required_skills={"tutoring": 1}),))
    one_error(errors_for(problem, [("vol-1", "shift-1", "tutoring")]), "rule 5 (skills)")


def test_rule_6_overlap() -> None:
    problem = make_problem(
        shifts=(make_shift("s1"), make_shift("s2", start=at(11), end=at(13))),
    )
    errors = errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")])
    one_error(errors, "rule 6 (overlap): vol-1 has overlapping shifts s1 and s2")


def test_rule_6_rest() -> None:
    problem = make_problem(
        shifts=(make_shift("s1"), make_shift("s2", start=at(12.25), end=at(14))),
        settings=Settings(min_rest_minutes=30),
    )
    errors = errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")])
    one_error(errors, "rule 6 (rest): vol-1 rests less than 30 minutes between s1 and s2")


def test_rule_6_rest_exactly_the_minimum_is_valid() -> None:
    problem = make_problem(
        shifts=(make_shift("s1"), make_shift("s2", start=at(12.5), end=at(14))),
        settings=Settings(min_rest_minutes=30),
    )
    assert errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")]) == []


def test_rule_7_max_shifts() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(max_shifts=1),),
        shifts=(make_shift("s1"), make_shift("s2", start=at(9, 1), end=at(12, 1))),
    )
    errors = errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")])
    one_error(errors, "rule 7 (max_shifts): vol-1 has 2 shifts, cap 1")


def test_rule_7_max_hours() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(max_hours=5),),
        shifts=(make_shift("s1"), make_shift("s2", start=at(9, 1), end=at(12, 1))),
    )
    errors = errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")])
    one_error(errors, "rule 7 (max_hours): vol-1 has 6 hours, cap 5")


def test_rule_8_locked_pair_must_be_present() -> None:
    problem = make_problem(locked=(Pair("vol-1", "shift-1"),))
    one_error(errors_for(problem, []), "rule 8 (locked): locked pair vol-1 on shift-1 is missing")
    assert errors_for(problem, [("vol-1", "shift-1")]) == []


def test_locked_pair_breaking_a_rule_is_excused_when_a_warning_names_it() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(gender="male"),),
        shifts=(make_shift(gender="female"),),
        locked=(Pair("vol-1", "shift-1"),),
    )
    warning = "locked pair vol-1 / shift-1 breaks the gender rule"
    assert errors_for(problem, [("vol-1", "shift-1")], warnings=[warning]) == []
    one_error(errors_for(problem, [("vol-1", "shift-1")]), "rule 3 (gender)")


def test_a_free_volunteer_on_a_shift_full_of_locked_pairs_breaks_its_places() -> None:
    # two locked volunteers without the skill overflow the open place (warned, excused there),
    # so the holder on the reserved place makes three volunteers on a shift of two places
    problem = make_problem(
        volunteers=(make_volunteer("a"), make_volunteer("b"), make_volunteer("t", skills={"t"})),
        shifts=(make_shift(needed=2, required_skills={"t": 1}),),
        locked=(Pair("a", "shift-1"), Pair("b", "shift-1")),
    )
    warnings = ["locked pair a on shift-1: more locked volunteers than places; kept"]
    warnings.append(warnings[0].replace("pair a", "pair b"))
    overfull = [("a", "shift-1", None), ("b", "shift-1", None), ("t", "shift-1", "t")]
    one_error(
        errors_for(problem, overfull, warnings=warnings),
        "rule 1 (places): shift-1 has 2 place(s) but 3 volunteers fill them",
    )
    # the locked pairs alone on both places (one on the reserved place without the skill,
    # warned) are a valid roster
    warnings = ["locked pair b on shift-1 fills a 't' place without that skill; kept"]
    assert (
        errors_for(problem, [("a", "shift-1", None), ("b", "shift-1", "t")], warnings=warnings)
        == []
    )


def test_clash_between_two_locked_pairs_is_excused_but_not_with_a_free_one() -> None:
    shifts = (
        make_shift("s1"),
        make_shift("s2", start=at(11), end=at(13)),
        make_shift("s3", start=at(12), end=at(14)),
    )
    warnings = ["locked vol-1 on s1 and s2 overlap: vol-1 s1 s2"]
    locked = make_problem(shifts=shifts, locked=(Pair("vol-1", "s1"), Pair("vol-1", "s2")))
    assert errors_for(locked, [("vol-1", "s1"), ("vol-1", "s2")], warnings=warnings) == []
    errors = errors_for(
        locked, [("vol-1", "s1"), ("vol-1", "s2"), ("vol-1", "s3")], warnings=warnings
    )
    assert errors == ["rule 6 (overlap): vol-1 has overlapping shifts s2 and s3"]


def test_caps_exceeded_by_locked_pairs_alone_are_excused() -> None:
    shifts = (make_shift("s1"), make_shift("s2", start=at(9, 1), end=at(12, 1)))
    problem = make_problem(
        volunteers=(make_volunteer(max_shifts=1),),
        shifts=shifts,
        locked=(Pair("vol-1", "s1"), Pair("vol-1", "s2")),
    )
    warnings = ["vol-1 is over max_shifts with locked s1, s2"]
    assert errors_for(problem, [("vol-1", "s1"), ("vol-1", "s2")], warnings=warnings) == []


def test_unfilled_must_report_every_open_place() -> None:
    problem = make_problem(shifts=(make_shift(needed=3, required_skills={"t": 1}),))
    solution = make_solution(problem, [("vol-1", "shift-1", None)])
    assert check_solution(problem, solution) == []
    missing_one = dataclasses.replace(solution, unfilled=solution.unfilled[:1])
    one_error(check_solution(problem, missing_one), "unfilled: shift-1 open places left open: 1")


def test_unfilled_naming_an_unknown_shift_or_position() -> None:
    problem = make_problem()
    solution = make_solution(problem, [("vol-1", "shift-1")])
    bad = dataclasses.replace(
        solution, unfilled=(Unfilled("nowhere", None, 1), Unfilled("shift-1", "music", 1))
    )
    errors = check_solution(problem, bad)
    assert errors == [
        "unfilled 0: unknown shift 'nowhere'",
        "unfilled 1: position 'music' is not a reserved skill of shift-1",
    ]


def _with_metrics(solution: Solution, **changes: object) -> Solution:
    return dataclasses.replace(solution, metrics=dataclasses.replace(solution.metrics, **changes))


def test_metrics_demand_and_filled_must_match() -> None:
    problem = make_problem()
    solution = make_solution(problem, [("vol-1", "shift-1")])
    one_error(check_solution(problem, _with_metrics(solution, demand=7)), "metrics: demand is 7")
    errors = check_solution(problem, _with_metrics(solution, filled=0))
    assert "metrics: filled is 0, there are 1" in errors


def test_metrics_filled_above_upper_bound() -> None:
    problem = make_problem()
    solution = make_solution(problem, [("vol-1", "shift-1")], upper_bound=0, status="FEASIBLE")
    errors = check_solution(problem, solution)
    assert "metrics: filled 1 exceeds upper_bound 0" in errors


def test_metrics_status_must_agree_with_fill() -> None:
    problem = make_problem(shifts=(make_shift(needed=2),))
    partial = make_solution(problem, [("vol-1", "shift-1")], upper_bound=2, status="OPTIMAL")
    one_error(check_solution(problem, partial), "metrics: status OPTIMAL but filled 1 != 2")
    feasible = make_solution(problem, [("vol-1", "shift-1")], upper_bound=1, status="FEASIBLE")
    one_error(check_solution(problem, feasible), "metrics: status FEASIBLE")
    assert check_solution(problem, _with_metrics(feasible, status="FILL_OPTIMAL")) == []
    empty = make_solution(problem, [("vol-1", "shift-1")], status="EMPTY")
    one_error(check_solution(problem, empty), "metrics: status EMPTY")
    unknown = make_solution(problem, [("vol-1", "shift-1")], status="DONE")
    one_error(check_solution(problem, unknown), "metrics: unknown status 'DONE'")


def test_several_broken_rules_are_all_reported() -> None:
    problem = make_problem(
        volunteers=(make_volunteer(gender="male", availability=(), max_travel_km=0.5),),
        shifts=(make_shift(gender="female"),),
        locked=(Pair("vol-1", "shift-1"),),
    )
    solution = Solution(
        assignments=(),
        unfilled=(),
        metrics=Metrics(demand=1, filled=0, upper_bound=0, status="EMPTY", solve_seconds=0),
    )
    errors = check_solution(problem, solution)
    assert errors[0].startswith("rule 8 (locked)")
    assert any(e.startswith("unfilled: shift-1") for e in errors)
    shifted = dataclasses.replace(solution, assignments=(Assignment("vol-1", "shift-1"),))
    rules = [e.split(":")[0] for e in check_solution(problem, _with_metrics(shifted, filled=1))]
    assert rules[:3] == ["rule 2 (availability)", "rule 3 (gender)", "rule 4 (distance)"]


def test_check_assignments_judges_only_the_hard_rules() -> None:
    problem = make_problem(
        shifts=(make_shift(needed=2), make_shift("s2", gender="male")),
        locked=(Pair("vol-1", "s2"),),
    )
    pairs = [Assignment("vol-1", "shift-1"), Assignment("vol-1", "s2")]
    assert check_assignments(problem, pairs) == [
        "rule 3 (gender): vol-1 on s2 does not match the shift's gender",
        "rule 6 (overlap): vol-1 has overlapping shifts shift-1 and s2",
    ]
    assert check_assignments(problem, pairs[1:], warnings=["locked vol-1 on s2: gender"]) == []
    assert check_assignments(problem, []) == ["rule 8 (locked): locked pair vol-1 on s2 is missing"]


@pytest.mark.parametrize("seed", range(30))
def test_solver_output_on_random_problems_passes_the_validator(seed: int) -> None:
    from matcher.solver import solve
    from tests.matcher.random_problems import random_problem

    problem = random_problem(seed, volunteers=8, shifts=6, locked=seed % 3, previous=seed % 2)
    solution = solve(problem, time_limit=5, seed=0, threads=1)
    assert check_solution(problem, solution) == []
    assert (
        solution.metrics.filled
        <= solution.metrics.upper_bound
        <= problem.demand + len(problem.locked)
    )
