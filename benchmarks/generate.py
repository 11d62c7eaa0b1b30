"""Generator of realistic `volunteer-matching/v1` problems: a week of care shifts in Egypt.

Usage: ``python -m benchmarks.generate --volunteers N --shifts M --seed S [-o FILE]``.

Everything is drawn with numpy from one seeded generator, so the same arguments always give the
same JSON text. Places, people and rules follow the shape of the real service:

- institutions (about one per ten shifts a week) and volunteers live in Egypt's 27 governorates,
  drawn by population and scattered around each governorate's main city; a small instance is a
  young service that covers Cairo first, then Giza, Alexandria, Qalyubia and the rest by
  population, reaching all of Egypt at 15,000 shifts a week;
- shifts use three daily blocks (09-12, 13-17, 18-21) and, for a quarter of them, other lengths
  (2 h, 4 h, 6 h) at half-hour starts, so windows overlap and the block structure does not hold;
- shifts carry skill places, gender rules (girls' orphanages ask for women on many shifts), a
  minimum age, and a few credentials, languages and priorities;
- volunteers state weekly availability windows (some whole days), travel radii, caps on shifts
  and hours, preferences for nearby institutions, and optional credentials and languages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

FORMAT = "volunteer-matching/v1"
CAIRO = timezone(timedelta(hours=2))  # Africa/Cairo in December (no daylight saving)
HORIZON_START = datetime(2026, 12, 5, tzinfo=CAIRO)  # a Saturday, start of the Egyptian week
DAYS = 7
MIN_REST_MINUTES = 30

# name, population (millions, about 2023), main city latitude, longitude, scatter sigma in km
GOVERNORATES: tuple[tuple[str, float, float, float, float], ...] = (
    ("Cairo", 10.3, 30.044, 31.236, 9.0),
    ("Giza", 9.4, 30.013, 31.209, 10.0),
    ("Sharqia", 7.8, 30.587, 31.502, 18.0),
    ("Dakahlia", 7.0, 31.041, 31.378, 16.0),
    ("Beheira", 6.8, 31.034, 30.468, 20.0),
    ("Minya", 6.1, 28.109, 30.750, 22.0),
    ("Qalyubia", 6.0, 30.300, 31.220, 10.0),
    ("Alexandria", 5.5, 31.200, 29.919, 8.0),
    ("Sohag", 5.5, 26.557, 31.695, 18.0),
    ("Gharbia", 5.4, 30.786, 31.000, 12.0),
    ("Asyut", 4.9, 27.181, 31.183, 18.0),
    ("Monufia", 4.6, 30.553, 31.009, 12.0),
    ("Faiyum", 3.9, 29.308, 30.842, 14.0),
    ("Kafr El Sheikh", 3.6, 31.111, 30.940, 16.0),
    ("Beni Suef", 3.5, 29.074, 31.097, 16.0),
    ("Qena", 3.5, 26.164, 32.727, 18.0),
    ("Aswan", 1.6, 24.089, 32.899, 14.0),
    ("Damietta", 1.6, 31.417, 31.814, 8.0),
    ("Ismailia", 1.4, 30.596, 32.272, 10.0),
    ("Luxor", 1.35, 25.687, 32.639, 10.0),
    ("Port Said", 0.78, 31.265, 32.302, 5.0),
    ("Suez", 0.77, 29.967, 32.527, 6.0),
    ("Matrouh", 0.5, 31.353, 27.237, 10.0),
    ("North Sinai", 0.47, 31.131, 33.798, 10.0),
    ("Red Sea", 0.38, 27.257, 33.811, 10.0),
    ("New Valley", 0.26, 25.451, 30.546, 8.0),
    ("South Sinai", 0.11, 28.236, 33.622, 12.0),
)

KINDS = ("orphanage_girls", "orphanage_boys", "elderly_home", "disability_centre", "other")
KIND_P = (0.21, 0.21, 0.25, 0.23, 0.10)
SKILLS = (
    "tutoring",
    "music",
    "sports",
    "first_aid",
    "psychosocial",
    "arabic_reading",
    "nursing_aid",
)
# share of volunteers holding each skill (independent draws)
SKILL_HOLD_P = (0.30, 0.12, 0.20, 0.15, 0.10, 0.20, 0.08)
# skills each kind of institution reserves places for (weights over SKILLS)
SKILL_BY_KIND = {
    "orphanage_girls": (0.35, 0.15, 0.10, 0.05, 0.15, 0.20, 0.0),
    "orphanage_boys": (0.35, 0.10, 0.20, 0.05, 0.10, 0.20, 0.0),
    "elderly_home": (0.0, 0.15, 0.0, 0.25, 0.20, 0.05, 0.35),
    "disability_centre": (0.15, 0.10, 0.15, 0.20, 0.20, 0.0, 0.20),
    "other": (0.2, 0.15, 0.15, 0.15, 0.15, 0.15, 0.05),
}
# a service grows from Greater Cairo and Alexandria outward: a small instance covers the first
# governorates of this order (by population share), and from FULL_INSTITUTIONS on all of Egypt,
# so the number of suitable shifts per volunteer stays realistic at every size
ROLLOUT_FIRST = ("Cairo", "Giza", "Alexandria", "Qalyubia")
FULL_INSTITUTIONS = 1500
# (start, end) in hours of the three daily blocks
BLOCKS = ((9, 12), (13, 17), (18, 21))
KM_PER_DEG = 111.2


class _Stamps:
    """Formats minute offsets from the horizon start as ISO text, caching repeated values."""

    def __init__(self, origin: datetime) -> None:
        self.origin = origin
        self.cache: dict[int, str] = {}

    def __call__(self, minutes: int) -> str:
        text = self.cache.get(minutes)
        if text is None:
            text = (self.origin + timedelta(minutes=minutes)).isoformat()
            self.cache[minutes] = text
        return text


def _scatter(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, sigma_km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move points by a normal offset of `sigma_km` per axis; returns rounded coordinates."""
    n = lat.shape[0]
    dy = rng.normal(0.0, 1.0, n) * sigma_km
    dx = rng.normal(0.0, 1.0, n) * sigma_km
    new_lat = lat + dy / KM_PER_DEG
    new_lon = lon + dx / (KM_PER_DEG * np.cos(np.radians(lat)))
    return np.round(new_lat, 5), np.round(new_lon, 5)


def covered_population(n_institutions: int) -> np.ndarray:
    """Population weight per governorate, zero for governorates the service has not reached."""
    pop = np.array([g[1] for g in GOVERNORATES])
    names = [g[0] for g in GOVERNORATES]
    first = [names.index(name) for name in ROLLOUT_FIRST]
    rest = [i for i in np.argsort(-pop, kind="stable") if i not in first]
    order = first + rest
    share = min(1.0, n_institutions / FULL_INSTITUTIONS) * pop.sum()
    covered = np.zeros_like(pop)
    total = 0.0
    for i in order:
        covered[i] = pop[i]
        total += pop[i]
        if total >= share - 1e-9:
            break
    return covered


def _institutions(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    pop = covered_population(n)
    gov = rng.choice(len(GOVERNORATES), size=n, p=pop / pop.sum())
    c_lat = np.array([g[2] for g in GOVERNORATES])[gov]
    c_lon = np.array([g[3] for g in GOVERNORATES])[gov]
    sigma = np.array([g[4] for g in GOVERNORATES])[gov]
    lat, lon = _scatter(rng, c_lat, c_lon, sigma)
    kind = rng.choice(len(KINDS), size=n, p=KIND_P)
    return {"gov": gov, "lat": lat, "lon": lon, "kind": kind}


def _shift_counts(rng: np.random.Generator, n_inst: int, shifts: int) -> np.ndarray:
    """How many shifts each institution runs this week: at least one each, the rest by size."""
    base = np.ones(n_inst, dtype=np.int64) if shifts >= n_inst else np.zeros(n_inst, np.int64)
    rest = shifts - int(base.sum())
    size = rng.lognormal(0.0, 0.6, n_inst)
    return base + rng.multinomial(rest, size / size.sum())


def _shift_times(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each shift in minutes from the horizon start."""
    day = rng.integers(0, DAYS, n)
    block = rng.choice(3, size=n, p=(0.4, 0.4, 0.2))
    b_start = np.array([b[0] for b in BLOCKS])[block] * 60
    b_end = np.array([b[1] for b in BLOCKS])[block] * 60
    other = rng.random(n) < 0.25
    length = rng.choice(np.array([2, 4, 6]) * 60, size=n, p=(0.4, 0.3, 0.3))
    # half-hour starts from 08:00 so that the shift ends by 22:00
    latest = 22 * 60 - length
    slots = (latest - 8 * 60) // 30 + 1
    o_start = 8 * 60 + (rng.random(n) * slots).astype(np.int64) * 30
    start = np.where(other, o_start, b_start) + day * 1440
    end = np.where(other, o_start + length, b_end) + day * 1440
    return start.astype(np.int64), end.astype(np.int64)


def _availability(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly availability: 1-5 windows per volunteer on distinct days.

    Returns (count per volunteer, starts, ends) with starts/ends shaped (n, 5) in minutes
    from the horizon start; only the first `count` columns of each row are used.
    """
    k_max = 5
    count = rng.choice(np.arange(1, k_max + 1), size=n, p=(0.15, 0.25, 0.25, 0.2, 0.15))
    days = np.argsort(rng.random((n, DAYS)), axis=1)[:, :k_max]
    days.sort(axis=1)
    kind = rng.choice(3, size=(n, k_max), p=(0.45, 0.40, 0.15))
    # 0: block-aligned windows (one block or two adjacent ones)
    block_windows = np.array([(9, 12), (13, 17), (18, 21), (9, 17), (13, 21)]) * 60
    pick = rng.choice(len(block_windows), size=(n, k_max), p=(0.25, 0.25, 0.2, 0.15, 0.15))
    b_start, b_end = block_windows[pick, 0], block_windows[pick, 1]
    # 1: free windows of 2-8 h at half-hour starts between 08:00 and 19:00, ending by 23:00
    f_start = 8 * 60 + rng.integers(0, 23, size=(n, k_max)) * 30
    f_len = rng.integers(4, 17, size=(n, k_max)) * 30
    f_end = np.minimum(f_start + f_len, 23 * 60)
    # 2: the whole day
    start = np.select([kind == 0, kind == 1], [b_start, f_start], 8 * 60)
    end = np.select([kind == 0, kind == 1], [b_end, f_end], 22 * 60)
    return count, start + days * 1440, end + days * 1440


def _pick_weighted(
    rng: np.random.Generator, n: int, values: Sequence[int], p: Sequence[float]
) -> np.ndarray:
    return rng.choice(np.asarray(values), size=n, p=np.asarray(p) / np.sum(p))


def generate(volunteers: int, shifts: int, seed: int) -> dict:
    """Build one week's problem with `volunteers` volunteers and `shifts` shifts, as a v1 dict."""
    if volunteers < 1 or shifts < 1:
        raise ValueError("volunteers and shifts must be positive")
    rng = np.random.default_rng(seed)
    stamp = _Stamps(HORIZON_START)

    # --- institutions ---------------------------------------------------------------------
    n_inst = max(1, round(shifts / 10))
    inst = _institutions(rng, n_inst)
    gov_count = np.bincount(inst["gov"], minlength=len(GOVERNORATES))

    # --- shifts ---------------------------------------------------------------------------
    per_inst = _shift_counts(rng, n_inst, shifts)
    s_inst = np.repeat(np.arange(n_inst), per_inst)
    s_kind = inst["kind"][s_inst]
    s_start, s_end = _shift_times(rng, shifts)
    order = np.lexsort((s_start, s_inst))  # each institution's shifts in time order
    s_start, s_end = s_start[order], s_end[order]
    needed = _pick_weighted(rng, shifts, (1, 2, 3, 4, 5), (0.30, 0.30, 0.20, 0.12, 0.08))
    # reserved skill places: a first skill on 35 % of shifts, a second one on some of those
    skill_p = np.array([SKILL_BY_KIND[KINDS[k]] for k in range(len(KINDS))])
    skill_p = skill_p / skill_p.sum(axis=1, keepdims=True)
    cum = np.cumsum(skill_p[s_kind], axis=1)
    first = np.minimum((cum < rng.random((shifts, 1))).sum(axis=1), len(SKILLS) - 1)
    second = np.minimum((cum < rng.random((shifts, 1))).sum(axis=1), len(SKILLS) - 1)
    has_first = rng.random(shifts) < 0.35
    first_n = np.minimum(rng.integers(1, 3, shifts), needed)
    has_second = has_first & (rng.random(shifts) < 0.25) & (second != first) & (needed > first_n)
    # gender rules: girls' orphanages ask for women on many shifts, a few others set a rule too
    g_roll = rng.random(shifts)
    gender = np.full(shifts, "any", dtype=object)
    gender[(s_kind == 0) & (g_roll < 0.45)] = "female"
    gender[(s_kind == 1) & (g_roll < 0.25)] = "male"
    gender[(s_kind == 2) & (g_roll < 0.08)] = "female"
    gender[(s_kind == 2) & (g_roll > 0.94)] = "male"
    min_age = _pick_weighted(rng, shifts, (16, 18, 21), (0.55, 0.33, 0.12))
    min_age = np.where(np.isin(s_kind, (2, 3)), np.maximum(min_age, 18), min_age)
    cred_roll = rng.random(shifts)
    lang_roll = rng.random(shifts)
    priority = _pick_weighted(rng, shifts, (1, 2, 3, 5), (0.85, 0.10, 0.04, 0.01))

    shift_list = []
    for i in range(shifts):
        k = int(s_kind[i])
        rec: dict = {
            "id": f"shift-{i + 1:05d}",
            "institution_id": f"inst-{int(s_inst[i]) + 1:05d}",
            "start": stamp(int(s_start[i])),
            "end": stamp(int(s_end[i])),
            "needed": int(needed[i]),
        }
        if has_first[i]:
            req = {SKILLS[int(first[i])]: int(first_n[i])}
            if has_second[i]:
                req[SKILLS[int(second[i])]] = 1
            rec["required_skills"] = req
        rec["gender"] = gender[i]
        rec["min_age"] = int(min_age[i])
        if cred_roll[i] < 0.05:
            rec["required_credentials"] = ["child_protection" if k < 2 else "first_aid_cert"]
        if lang_roll[i] < 0.03:
            rec["languages"] = ["en"] if lang_roll[i] < 0.02 else ["en", "fr"]
        if priority[i] != 1:
            rec["priority"] = int(priority[i])
        shift_list.append(rec)

    # --- volunteers -----------------------------------------------------------------------
    # mostly near an institution's governorate (drawn by shifts), some anywhere by population
    anchor = rng.choice(n_inst, size=volunteers, p=per_inst / per_inst.sum())
    pop = covered_population(n_inst)
    elsewhere = rng.random(volunteers) < 0.12
    v_gov = np.where(
        elsewhere,
        rng.choice(len(GOVERNORATES), size=volunteers, p=pop / pop.sum()),
        inst["gov"][anchor],
    )
    c_lat = np.array([g[2] for g in GOVERNORATES])[v_gov]
    c_lon = np.array([g[3] for g in GOVERNORATES])[v_gov]
    sigma = np.array([g[4] for g in GOVERNORATES])[v_gov] * 1.1
    v_lat, v_lon = _scatter(rng, c_lat, c_lon, sigma)
    g_roll = rng.random(volunteers)
    v_gender = np.where(g_roll < 0.56, "female", "male").astype(object)
    v_gender[g_roll > 0.985] = None
    age_band = rng.choice(3, size=volunteers, p=(0.5, 0.35, 0.15))
    age = np.select(
        [age_band == 0, age_band == 1],
        [rng.integers(16, 26, volunteers), rng.integers(26, 46, volunteers)],
        rng.integers(46, 69, volunteers),
    )
    age_missing = rng.random(volunteers) < 0.01
    holds = rng.random((volunteers, len(SKILLS))) < np.array(SKILL_HOLD_P)
    radius = _pick_weighted(
        rng, volunteers, (5, 10, 15, 20, 30, 50), (0.15, 0.30, 0.22, 0.17, 0.10, 0.06)
    )
    w_count, w_start, w_end = _availability(rng, volunteers)
    max_shifts = _pick_weighted(rng, volunteers, (1, 2, 3, 4, 5), (0.15, 0.30, 0.25, 0.18, 0.12))
    max_hours = np.clip(np.round(max_shifts * rng.uniform(2.5, 5.0, volunteers)), 4, 20)
    # preferences: the nearest 0-3 of a handful of institutions in the home governorate
    n_pref = _pick_weighted(rng, volunteers, (0, 1, 2, 3), (0.5, 0.25, 0.15, 0.10))
    pref_weight = rng.integers(1, 4, size=(volunteers, 3))
    by_gov_order = np.argsort(inst["gov"], kind="stable")
    gov_first = np.concatenate(([0], np.cumsum(gov_count)[:-1]))
    probe = 12
    has_inst = gov_count[v_gov] > 0
    pick = (rng.random((volunteers, probe)) * np.maximum(gov_count[v_gov], 1)[:, None]).astype(
        np.int64
    )
    cand = by_gov_order[np.minimum(gov_first[v_gov][:, None] + pick, n_inst - 1)]
    d2 = (inst["lat"][cand] - v_lat[:, None]) ** 2 + (
        (inst["lon"][cand] - v_lon[:, None]) * np.cos(np.radians(v_lat))[:, None]
    ) ** 2
    nearest = np.take_along_axis(cand, np.argsort(d2, axis=1), axis=1)
    cred_roll = rng.random((volunteers, 2))
    # expiry days relative to the horizon start: some already expired, some during the week
    cred_days = rng.integers(-30, 365, size=(volunteers, 2))
    lang_roll = rng.random((volunteers, 2))
    date_stamp = _Stamps(HORIZON_START)

    vol_list = []
    for i in range(volunteers):
        n_w = int(w_count[i])
        rec = {
            "id": f"vol-{i + 1:06d}",
            "skills": [SKILLS[j] for j in np.flatnonzero(holds[i])],
            "gender": v_gender[i],
            "age": None if age_missing[i] else int(age[i]),
            "lat": float(v_lat[i]),
            "lon": float(v_lon[i]),
            "max_travel_km": int(radius[i]),
            "availability": [
                {"start": stamp(int(w_start[i, j])), "end": stamp(int(w_end[i, j]))}
                for j in range(n_w)
            ],
            "max_shifts": int(max_shifts[i]),
            "max_hours": int(max_hours[i]),
        }
        if n_pref[i] and has_inst[i]:
            prefs: dict[str, int] = {}
            for j in range(int(n_pref[i])):
                key = f"inst-{int(nearest[i, j]) + 1:05d}"
                prefs.setdefault(key, int(pref_weight[i, j]))
            rec["preferences"] = prefs
        creds = []
        if cred_roll[i, 0] < 0.20:
            creds.append(
                {"name": "child_protection", "expires": date_stamp(int(cred_days[i, 0]) * 1440)}
            )
        if cred_roll[i, 1] < 0.12:
            creds.append(
                {
                    "name": "first_aid_cert",
                    "expires": None
                    if cred_days[i, 1] > 300
                    else date_stamp(int(cred_days[i, 1]) * 1440),
                }
            )
        if creds:
            rec["credentials"] = creds
        langs = ["ar"]
        if lang_roll[i, 0] < 0.25:
            langs.append("en")
        if lang_roll[i, 1] < 0.05:
            langs.append("fr")
        rec["languages"] = langs
        vol_list.append(rec)

    inst_list = [
        {
            "id": f"inst-{i + 1:05d}",
            "lat": float(inst["lat"][i]),
            "lon": float(inst["lon"][i]),
            "kind": KINDS[int(inst["kind"][i])],
        }
        for i in range(n_inst)
    ]
    return {
        "format": FORMAT,
        "horizon": {"start": stamp(0), "end": stamp(DAYS * 1440)},
        "institutions": inst_list,
        "volunteers": vol_list,
        "shifts": shift_list,
        "settings": {"min_rest_minutes": MIN_REST_MINUTES},
        "meta": {
            "generator": "benchmarks.generate",
            "volunteers": volunteers,
            "shifts": shifts,
            "seed": seed,
        },
    }


def write(problem: dict, path: str | Path | None) -> None:
    """Write a problem as compact JSON to `path`, or to stdout when `path` is None or '-'."""
    text = json.dumps(problem, separators=(",", ":"), ensure_ascii=False)
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.write("\n")
    else:
        Path(path).write_text(text + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--volunteers", type=int, required=True)
    parser.add_argument("--shifts", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    problem = generate(args.volunteers, args.shifts, args.seed)
    write(problem, args.output)
    print(
        f"generated {args.volunteers} volunteers x {args.shifts} shifts "
        f"({len(problem['institutions'])} institutions) in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
