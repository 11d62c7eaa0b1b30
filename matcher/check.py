"""Independent validator of a solution against its problem (the hard rules of the v1 format)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations

from matcher.eligibility import caps_reasons, clash, overlaps, pair_reasons
from matcher.model import STATUSES, Assignment, Problem, Shift, Solution, Volunteer

Excuse = Callable[[list[Assignment]], bool]
_STATIC_REASONS = ("availability", "gender", "age", "credentials", "languages", "distance")
_RULE_OF_REASON = {
    "availability": "rule 2 (availability)",
    "gender": "rule 3 (gender)",
    "age": "rule 3 (minimum age)",
    "credentials": "rule 3 (credentials)",
    "languages": "rule 3 (languages)",
    "distance": "rule 4 (distance)",
}


def _label(assignment: Assignment) -> str:
    return f"{assignment.volunteer_id} on {assignment.shift_id}"


def _place(position: str | None) -> str:
    return "open place" if position is None else f"{position!r} place"


def _warned(warnings: tuple[str, ...], volunteer_id: str, shift_id: str) -> bool:
    return any(volunteer_id in w and shift_id in w for w in warnings)


def check_solution(problem: Problem, solution: Solution) -> list[str]:
    """Every broken rule of `solution` for `problem`, as human-readable lines (empty = valid).

    The hard rules of :func:`check_assignments`, then the consistency of `unfilled` and of the
    metrics with the assignments.
    """
    errors, placed = _check_rules(problem, solution.assignments, solution.warnings)
    errors.extend(_check_unfilled(problem, solution, placed))
    errors.extend(_check_metrics(problem, solution))
    return errors


def check_assignments(
    problem: Problem, assignments: Iterable[Assignment], warnings: Iterable[str] = ()
) -> list[str]:
    """Every hard rule (ids, positions, rules 1-8) the assignments break (empty = valid).

    A rule broken only by locked pairs is excused (rule 8 keeps them) when one of `warnings`
    names the volunteer and the shift of each pair involved; otherwise it is reported too.
    """
    return _check_rules(problem, tuple(assignments), tuple(warnings))[0]


def _check_rules(
    problem: Problem, assignments: tuple[Assignment, ...], warnings: tuple[str, ...]
) -> tuple[list[str], list[Assignment]]:
    errors: list[str] = []
    locked = {(p.volunteer_id, p.shift_id) for p in problem.locked}
    rest = problem.settings.min_rest_minutes

    def is_locked(a: Assignment) -> bool:
        return (a.volunteer_id, a.shift_id) in locked

    def excused(pairs: list[Assignment]) -> bool:
        return all(is_locked(a) and _warned(warnings, a.volunteer_id, a.shift_id) for a in pairs)

    known: list[Assignment] = []  # volunteer and shift exist
    placed: list[Assignment] = []  # ... and the position is a place of the shift
    for index, a in enumerate(assignments):
        volunteer = problem.volunteer_by_id.get(a.volunteer_id)
        shift = problem.shift_by_id.get(a.shift_id)
        if volunteer is None:
            errors.append(f"assignment {index}: unknown volunteer {a.volunteer_id!r}")
        if shift is None:
            errors.append(f"assignment {index}: unknown shift {a.shift_id!r}")
        if volunteer is None or shift is None:
            continue
        known.append(a)
        if a.position is not None and a.position not in shift.required_skills:
            errors.append(
                f"assignment {index} ({_label(a)}): position {a.position!r} is not a reserved "
                f"skill of the shift"
            )
            continue
        placed.append(a)

    errors.extend(_check_places(problem, known, placed, excused, locked))
    errors.extend(_check_pairs(problem, known, excused))
    errors.extend(_check_schedules(problem, known, rest, excused))

    assigned = {(a.volunteer_id, a.shift_id) for a in assignments}
    for pair in problem.locked:
        if (pair.volunteer_id, pair.shift_id) not in assigned:
            errors.append(
                f"rule 8 (locked): locked pair {pair.volunteer_id} on {pair.shift_id} is missing"
            )
    return errors, placed


def _check_places(
    problem: Problem,
    known: list[Assignment],
    placed: list[Assignment],
    excused: Excuse,
    locked: set[tuple[str, str]],
) -> list[str]:
    errors: list[str] = []
    per_pair = Counter((a.volunteer_id, a.shift_id) for a in known)
    for (volunteer_id, shift_id), count in per_pair.items():
        if count > 1:
            errors.append(
                f"rule 1 (one place per volunteer): {volunteer_id} fills {count} places of "
                f"{shift_id}"
            )
    by_place: dict[tuple[str, str | None], list[Assignment]] = defaultdict(list)
    by_shift: dict[str, list[Assignment]] = defaultdict(list)
    for a in placed:
        by_place[(a.shift_id, a.position)].append(a)
        by_shift[a.shift_id].append(a)
    reported: set[str] = set()
    for (shift_id, position), holders in by_place.items():
        shift = problem.shift_by_id[shift_id]
        capacity = _capacity(shift, position)
        if len(holders) > capacity and not excused(holders):
            errors.append(
                f"rule 1 (places): {shift_id} has {capacity} {_place(position)}(s) but "
                f"{len(holders)} volunteers fill them"
            )
            reported.add(shift_id)
    # locked pairs beyond a position's places are excused there, not a shift's other holders:
    # a shift holds more volunteers than places only when its locked pairs alone do
    for shift_id, holders in by_shift.items():
        needed = problem.shift_by_id[shift_id].needed
        free = [a for a in holders if (a.volunteer_id, a.shift_id) not in locked]
        if len(holders) > needed and shift_id not in reported and free:
            errors.append(
                f"rule 1 (places): {shift_id} has {needed} place(s) but {len(holders)} "
                f"volunteers fill them"
            )
    return errors


def _capacity(shift: Shift, position: str | None) -> int:
    if position is None:
        return shift.open_places
    return shift.required_skills.get(position, 0)


def _check_pairs(problem: Problem, known: list[Assignment], excused: Excuse) -> list[str]:
    errors: list[str] = []
    for a in known:
        volunteer = problem.volunteer_by_id[a.volunteer_id]
        shift = problem.shift_by_id[a.shift_id]
        if excused([a]):
            continue
        reasons = pair_reasons(volunteer, shift, problem.institution_of(shift))
        for reason in reasons:
            if reason in _STATIC_REASONS:
                errors.append(f"{_RULE_OF_REASON[reason]}: {_label(a)} {_why(reason)}")
        if (
            a.position is not None
            and a.position in shift.required_skills
            and a.position not in volunteer.skills
        ):
            errors.append(f"rule 5 (skills): {_label(a)} fills a {a.position!r} place without it")
    return errors


def _why(reason: str) -> str:
    return {
        "availability": "is not available for the whole shift",
        "gender": "does not match the shift's gender",
        "age": "is under the minimum age (or of unknown age)",
        "credentials": "lacks a required credential valid at the shift's start",
        "languages": "speaks none of the shift's languages",
        "distance": "lives farther than their travel radius",
    }[reason]


def _check_schedules(
    problem: Problem, known: list[Assignment], rest: int, excused: Excuse
) -> list[str]:
    errors: list[str] = []
    by_volunteer: dict[str, list[Assignment]] = defaultdict(list)
    for a in known:
        by_volunteer[a.volunteer_id].append(a)
    for volunteer_id, taken in by_volunteer.items():
        volunteer = problem.volunteer_by_id[volunteer_id]
        distinct = list({a.shift_id: a for a in taken}.values())
        for a, b in combinations(distinct, 2):
            sa = problem.shift_by_id[a.shift_id]
            sb = problem.shift_by_id[b.shift_id]
            if not clash(sa.start, sa.end, sb.start, sb.end, rest) or excused([a, b]):
                continue
            if overlaps(sa.start, sa.end, sb.start, sb.end):
                errors.append(
                    f"rule 6 (overlap): {volunteer_id} has overlapping shifts {sa.id} and {sb.id}"
                )
            else:
                errors.append(
                    f"rule 6 (rest): {volunteer_id} rests less than {rest} minutes between "
                    f"{sa.id} and {sb.id}"
                )
        errors.extend(_check_caps(problem, volunteer, distinct, excused))
    return errors


def _check_caps(
    problem: Problem, volunteer: Volunteer, taken: list[Assignment], excused: Excuse
) -> list[str]:
    shifts = [problem.shift_by_id[a.shift_id] for a in taken]
    if not shifts or excused(taken):
        return []
    reasons = caps_reasons(volunteer, shifts)
    errors: list[str] = []
    if "max_shifts" in reasons:
        errors.append(
            f"rule 7 (max_shifts): {volunteer.id} has {len(shifts)} shifts, "
            f"cap {volunteer.max_shifts}"
        )
    if "max_hours" in reasons:
        hours = sum(s.duration_hours for s in shifts)
        errors.append(
            f"rule 7 (max_hours): {volunteer.id} has {hours:g} hours, cap {volunteer.max_hours:g}"
        )
    return errors


def _check_unfilled(problem: Problem, solution: Solution, placed: list[Assignment]) -> list[str]:
    errors: list[str] = []
    filled = Counter((a.shift_id, a.position) for a in placed)
    reported: Counter[tuple[str, str | None]] = Counter()
    for index, u in enumerate(solution.unfilled):
        shift = problem.shift_by_id.get(u.shift_id)
        if shift is None:
            errors.append(f"unfilled {index}: unknown shift {u.shift_id!r}")
            continue
        if u.position is not None and u.position not in shift.required_skills:
            errors.append(
                f"unfilled {index}: position {u.position!r} is not a reserved skill of {u.shift_id}"
            )
            continue
        reported[(u.shift_id, u.position)] += u.missing
    for shift in problem.shifts:
        positions: list[str | None] = list(shift.required_skills)
        if shift.open_places > 0:
            positions.append(None)
        for position in positions:
            key = (shift.id, position)
            open_count = max(0, _capacity(shift, position) - filled[key])
            if reported[key] != open_count:
                errors.append(
                    f"unfilled: {shift.id} {_place(position)}s left open: {open_count}, "
                    f"reported missing: {reported[key]}"
                )
    return errors


def _check_metrics(problem: Problem, solution: Solution) -> list[str]:
    errors: list[str] = []
    m = solution.metrics
    if m.demand != problem.demand:
        errors.append(f"metrics: demand is {m.demand}, the problem has {problem.demand} places")
    if m.filled != len(solution.assignments):
        errors.append(f"metrics: filled is {m.filled}, there are {len(solution.assignments)}")
    if m.filled > m.upper_bound:
        errors.append(f"metrics: filled {m.filled} exceeds upper_bound {m.upper_bound}")
    if m.status not in STATUSES:
        errors.append(f"metrics: unknown status {m.status!r}")
    elif m.status in ("OPTIMAL", "FILL_OPTIMAL") and m.filled != m.upper_bound:
        errors.append(f"metrics: status {m.status} but filled {m.filled} != {m.upper_bound}")
    elif m.status == "FEASIBLE" and m.filled >= m.upper_bound:
        errors.append(f"metrics: status FEASIBLE but filled {m.filled} reaches the upper bound")
    elif m.status == "EMPTY" and m.filled != 0:
        errors.append(f"metrics: status EMPTY but {m.filled} places are filled")
    return errors
