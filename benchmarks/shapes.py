"""Problems of shapes the main generator never makes, to check the time limit and the rules.

``benchmarks.generate`` makes realistic national instances: three daily blocks, radii of 5-50
km, a few windows a week. The matcher must not depend on that shape (an outside checker runs
it on instances nobody here has seen), so the runner also times these, each at one home town
and with ``--time-limit 20``:

- ``dense``: every volunteer free all week and within reach of every institution;
- ``short``: shifts of 15-45 minutes starting every 5 minutes (thousands of candidate shifts
  per volunteer);
- ``long``: shifts of 24-48 hours, caps of 1-4 shifts and 24-120 hours;
- ``windows``: up to 56 windows of three hours per volunteer;
- ``hours``: shifts of every length from 30 to 600 minutes and hour caps that bind.

Usage: ``python -m benchmarks.shapes KIND [-o FILE] [--seed N] [--scale X]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

TZ = timezone(timedelta(hours=2))
START = datetime(2026, 12, 5, tzinfo=TZ)
WEEK_MIN = 7 * 24 * 60

# kind -> (institutions, volunteers, shifts, what it is)
SHAPES: dict[str, tuple[int, int, int, str]] = {
    "dense": (40, 4000, 1000, "everyone free all week and within reach of every institution"),
    "short": (10, 2000, 5000, "shifts of 15-45 min starting every 5 min, everyone free"),
    "long": (30, 3000, 1500, "shifts of 24-48 h; caps of 1-4 shifts and 24-120 h"),
    "windows": (50, 3000, 1500, "up to 56 three-hour windows per volunteer"),
    "hours": (20, 2000, 3000, "shifts of every length from 30 to 600 min; hour caps that bind"),
}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _shift_time(kind: str, rng: random.Random) -> tuple[datetime, timedelta]:
    if kind == "short":
        start = START + timedelta(minutes=5 * rng.randrange(WEEK_MIN // 5 - 9))  # ends in the week
        return start, timedelta(minutes=rng.choice([15, 20, 30, 45]))
    if kind == "long":
        return START + timedelta(hours=rng.randrange(120)), timedelta(
            hours=rng.choice([24, 36, 48])
        )
    if kind == "hours":
        start = START + timedelta(minutes=rng.randrange(WEEK_MIN - 600))
        return start, timedelta(minutes=rng.randrange(30, 600))
    start = START + timedelta(hours=rng.randrange(7 * 24 - 8))
    return start, timedelta(hours=rng.choice([2, 3, 4, 6, 8]))


def _availability(kind: str, rng: random.Random) -> list[dict[str, str]]:
    if kind != "windows":
        return [{"start": _iso(START), "end": _iso(START + timedelta(days=7))}]
    return [
        {
            "start": _iso(START + timedelta(days=day, hours=hour)),
            "end": _iso(START + timedelta(days=day, hours=hour + 3)),
        }
        for day in range(7)
        for hour in range(0, 24, 3)
        if rng.random() < 0.6
    ]


def _caps(kind: str, rng: random.Random) -> tuple[int, int]:
    if kind == "hours":
        return rng.randint(5, 30), rng.randint(4, 40)
    if kind == "long":
        return rng.randint(1, 4), rng.randint(24, 120)
    return rng.randint(1, 10), rng.randint(4, 40)


def shape_problem(kind: str, seed: int = 1, scale: float = 1.0) -> dict[str, Any]:
    """A `volunteer-matching/v1` problem of one shape (`SHAPES`); `scale` shrinks or grows
    the numbers of volunteers and shifts (institutions stay)."""
    n_inst, n_vol, n_shift, _ = SHAPES[kind]
    n_vol, n_shift = max(1, round(n_vol * scale)), max(1, round(n_shift * scale))
    rng = random.Random(f"{kind}-{seed}")
    institutions = [
        {
            "id": f"inst-{i}",
            "lat": round(30.0 + rng.uniform(-0.05, 0.05), 6),
            "lon": round(31.2 + rng.uniform(-0.05, 0.05), 6),
        }
        for i in range(n_inst)
    ]
    shifts = []
    for s in range(n_shift):
        start, length = _shift_time(kind, rng)
        shift: dict[str, Any] = {
            "id": f"shift-{s}",
            "institution_id": f"inst-{rng.randrange(n_inst)}",
            "start": _iso(start),
            "end": _iso(start + length),
            "needed": rng.randint(1, 4),
        }
        if rng.random() < 0.2:
            shift["required_skills"] = {"music": 1}
        if rng.random() < 0.1:
            shift["priority"] = rng.randint(1, 5)
        shifts.append(shift)
    volunteers = []
    for v in range(n_vol):
        max_shifts, max_hours = _caps(kind, rng)
        volunteers.append(
            {
                "id": f"vol-{v}",
                "lat": round(30.0 + rng.uniform(-0.1, 0.1), 6),
                "lon": round(31.2 + rng.uniform(-0.1, 0.1), 6),
                "max_travel_km": 100,
                "gender": rng.choice(["female", "male"]),
                "age": rng.randint(16, 68),
                "skills": ["music"] if rng.random() < 0.3 else [],
                "availability": _availability(kind, rng),
                "max_shifts": max_shifts,
                "max_hours": max_hours,
            }
        )
    return {
        "format": "volunteer-matching/v1",
        "horizon": {"start": _iso(START), "end": _iso(START + timedelta(days=7))},
        "institutions": institutions,
        "volunteers": volunteers,
        "shifts": shifts,
        "settings": {"min_rest_minutes": 30},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shapes", description=__doc__)
    parser.add_argument("kind", choices=sorted(SHAPES))
    parser.add_argument("-o", "--output", help="write here, not stdout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    text = json.dumps(shape_problem(args.kind, args.seed, args.scale))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
