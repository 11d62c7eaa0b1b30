"""Seeded random v1 problems for the solver and candidate tests (edge cases on purpose).

Times sit on a half-hour grid so that shifts often end exactly when a window ends, gaps often
equal the minimum rest and credentials often expire exactly at a shift's start; homes sit a few
km from institutions so that travel radii cut through the candidates.
"""

from __future__ import annotations

import random
from datetime import timedelta

from matcher.model import (
    Credential,
    Institution,
    Pair,
    Problem,
    Settings,
    Shift,
    Volunteer,
    Weights,
    Window,
)
from tests.matcher.conftest import T0

SKILLS = ("tutoring", "music", "first_aid", "sports")
LANGS = ("ar", "en", "fr")
CREDS = ("police_check", "cpr")


def _half_hours(n: float) -> timedelta:
    return timedelta(minutes=30 * n)


def random_problem(
    seed: int,
    *,
    volunteers: int = 6,
    shifts: int = 5,
    institutions: int = 2,
    days: int = 2,
    locked: int = 0,
    previous: int = 0,
    rich: bool = True,
) -> Problem:
    """A random problem; `rich` adds credentials, languages, priorities and caps."""
    rng = random.Random(seed)
    insts = tuple(
        Institution(
            id=f"inst-{i}",
            lat=30.0 + rng.uniform(-0.08, 0.08),
            lon=31.2 + rng.uniform(-0.08, 0.08),
        )
        for i in range(institutions)
    )
    vols = []
    for i in range(volunteers):
        windows = []
        for _ in range(rng.randint(0, 3)):
            day = rng.randrange(days)
            start = rng.randrange(14, 36)  # 07:00 .. 17:30
            length = rng.randint(2, 14)
            windows.append(
                Window(
                    T0 + timedelta(days=day) + _half_hours(start),
                    T0 + timedelta(days=day) + _half_hours(start + length),
                )
            )
        creds = ()
        if rich and rng.random() < 0.5:
            creds = tuple(
                Credential(
                    name=rng.choice(CREDS),
                    expires=rng.choice(
                        [None, T0 + timedelta(days=rng.randrange(days)) + _half_hours(18)]
                    ),
                )
                for _ in range(rng.randint(1, 2))
            )
        vols.append(
            Volunteer(
                id=f"vol-{i}",
                skills=frozenset(rng.sample(SKILLS, rng.randint(0, 2))),
                gender=rng.choice(["female", "male", None]),
                age=rng.choice([None, 16, 18, 25, 40]),
                lat=30.0 + rng.uniform(-0.1, 0.1),
                lon=31.2 + rng.uniform(-0.1, 0.1),
                max_travel_km=rng.choice([3.0, 8.0, 15.0, 30.0]),
                availability=tuple(windows),
                max_shifts=rng.choice([None, 1, 2, 3]) if rich else None,
                max_hours=rng.choice([None, 3.0, 4.5, 6.0, 8.0]) if rich else None,
                preferences={insts[0].id: rng.randint(1, 3)} if rng.random() < 0.3 else {},
                credentials=creds,
                languages=frozenset(rng.sample(LANGS, rng.randint(0, 2))) if rich else frozenset(),
            )
        )
    shift_list = []
    for i in range(shifts):
        day = rng.randrange(days)
        start = rng.randrange(16, 34)
        length = rng.choice([2, 3, 4, 6, 8])
        needed = rng.randint(1, 3)
        reserved: dict[str, int] = {}
        if rng.random() < 0.5:
            skill = rng.choice(SKILLS)
            reserved[skill] = rng.randint(1, needed)
            if rng.random() < 0.3 and reserved[skill] < needed:
                other = rng.choice([k for k in SKILLS if k != skill])
                reserved[other] = 1
        shift_list.append(
            Shift(
                id=f"shift-{i}",
                institution_id=rng.choice(insts).id,
                start=T0 + timedelta(days=day) + _half_hours(start),
                end=T0 + timedelta(days=day) + _half_hours(start + length),
                needed=needed,
                required_skills=reserved,
                gender=rng.choice(["any", "any", "female", "male"]),
                min_age=rng.choice([0, 0, 18, 21]),
                required_credentials=(
                    frozenset(rng.sample(CREDS, 1)) if rich and rng.random() < 0.25 else frozenset()
                ),
                languages=(
                    frozenset(rng.sample(LANGS, 1)) if rich and rng.random() < 0.25 else frozenset()
                ),
                priority=rng.choice([1, 1, 2, 3]) if rich else 1,
            )
        )
    vol_ids = [v.id for v in vols]
    shift_ids = [s.id for s in shift_list]
    locked_pairs = (
        sorted(
            {Pair(rng.choice(vol_ids), rng.choice(shift_ids)) for _ in range(locked)},
            key=lambda p: (p.volunteer_id, p.shift_id),
        )
        if vol_ids and shift_ids
        else []
    )
    previous_pairs = (
        sorted(
            {Pair(rng.choice(vol_ids), rng.choice(shift_ids)) for _ in range(previous)},
            key=lambda p: (p.volunteer_id, p.shift_id),
        )
        if vol_ids and shift_ids
        else []
    )
    return Problem(
        horizon=Window(T0, T0 + timedelta(days=7)),
        institutions=insts,
        volunteers=tuple(vols),
        shifts=tuple(shift_list),
        locked=tuple(locked_pairs),
        previous=tuple(previous_pairs),
        settings=Settings(
            min_rest_minutes=rng.choice([0, 30, 60]),
            weights=Weights(),
        ),
    )
