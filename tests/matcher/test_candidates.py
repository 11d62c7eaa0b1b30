"""Vectorised candidate generation agrees exactly with the scalar rules of matcher.eligibility."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from matcher import candidates as cand
from matcher import eligibility
from matcher.eligibility import EARTH_RADIUS_KM, REASONS, haversine_km, pair_reasons, positions_for
from matcher.model import Credential
from tests.matcher.conftest import (
    at,
    make_institution,
    make_problem,
    make_shift,
    make_volunteer,
    window,
)
from tests.matcher.random_problems import random_problem


def scalar_pairs(problem):
    return {
        (vi, si)
        for vi, v in enumerate(problem.volunteers)
        for si, s in enumerate(problem.shifts)
        if not pair_reasons(v, s, problem.institution_of(s))
    }


@pytest.mark.parametrize("seed", range(40))
def test_generate_equals_pair_reasons_on_random_problems(seed):
    problem = random_problem(seed, volunteers=25, shifts=20, institutions=4, days=2)
    arr = cand.build_arrays(problem)
    c = cand.generate(arr)
    got = set(zip(c.vol.tolist(), c.shift.tolist(), strict=True))
    assert got == scalar_pairs(problem)
    # sorted by (volunteer, shift), distances as the scalar function
    assert list(zip(c.vol, c.shift, strict=True)) == sorted(got)
    for v, s, km in zip(c.vol.tolist(), c.shift.tolist(), c.km.tolist(), strict=True):
        vol = problem.volunteers[v]
        inst = problem.institution_of(problem.shifts[s])
        assert km == pytest.approx(haversine_km(vol.lat, vol.lon, inst.lat, inst.lon), abs=1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_static_reasons_matrix_equals_pair_reasons(seed):
    problem = random_problem(seed + 100, volunteers=15, shifts=12, institutions=3)
    arr = cand.build_arrays(problem)
    v, s = np.meshgrid(np.arange(len(problem.volunteers)), np.arange(len(problem.shifts)))
    v, s = v.ravel(), s.ravel()
    matrix = cand.static_reasons(arr, v, s)
    for row, (vi, si) in enumerate(zip(v.tolist(), s.tolist(), strict=True)):
        vol, sh = problem.volunteers[vi], problem.shifts[si]
        expected = pair_reasons(vol, sh, problem.institution_of(sh))
        got = tuple(REASONS[k] for k in np.flatnonzero(matrix[row]))
        assert got == expected, (vi, si)
    first = cand.first_reason(matrix)
    for row, (vi, si) in enumerate(zip(v.tolist(), s.tolist(), strict=True)):
        sh = problem.shifts[si]
        expected = pair_reasons(problem.volunteers[vi], sh, problem.institution_of(sh))
        assert first[row] == (REASONS.index(expected[0]) if expected else cand.ELIGIBLE)


@pytest.mark.parametrize("seed", range(10))
def test_pair_positions_equal_positions_for(seed):
    problem = random_problem(seed + 200, volunteers=20, shifts=15, institutions=3)
    arr = cand.build_arrays(problem)
    c = cand.generate(arr)
    positions = cand.build_positions(arr)
    pair, pos = cand.pair_positions(arr, positions, c.vol, c.shift)
    got: dict[int, list[str | None]] = {}
    for p, q in zip(pair.tolist(), pos.tolist(), strict=True):
        assert positions.shift[q] == c.shift[p]
        got.setdefault(p, []).append(positions.skill[q])
    for p in range(len(c)):
        vol = problem.volunteers[int(c.vol[p])]
        sh = problem.shifts[int(c.shift[p])]
        assert tuple(got.get(p, [])) == positions_for(vol, sh)


def test_shift_ending_with_window_and_overlapping_windows_counted_once():
    vol = make_volunteer(availability=(window(9, 12), window(8, 13), window(11, 15)))
    problem = make_problem(volunteers=(vol,), shifts=(make_shift(start=at(9), end=at(12)),))
    c = cand.generate(cand.build_arrays(problem))
    assert c.vol.tolist() == [0] and c.shift.tolist() == [0]


def test_shift_across_two_touching_windows_is_not_covered():
    vol = make_volunteer(availability=(window(8, 10), window(10, 14)))
    problem = make_problem(volunteers=(vol,), shifts=(make_shift(start=at(9), end=at(12)),))
    assert len(cand.generate(cand.build_arrays(problem))) == 0


def test_distance_exactly_at_radius_is_allowed():
    inst = make_institution(lat=30.0, lon=31.0)
    vol = make_volunteer(lat=30.1, lon=31.1)
    d = haversine_km(vol.lat, vol.lon, inst.lat, inst.lon)
    inside = make_volunteer("vol-in", lat=30.1, lon=31.1, max_travel_km=d)
    outside = make_volunteer("vol-out", lat=30.1, lon=31.1, max_travel_km=d - 1e-6)
    problem = make_problem(institutions=(inst,), volunteers=(inside, outside))
    c = cand.generate(cand.build_arrays(problem))
    assert c.vol.tolist() == [0]


def test_credential_expiring_at_shift_start_is_expired():
    start = at(9)
    ok = make_volunteer("ok", credentials=(Credential("cpr", start + timedelta(seconds=1)),))
    expired = make_volunteer("expired", credentials=(Credential("cpr", start),))
    never = make_volunteer("never", credentials=(Credential("cpr", None),))
    other = make_volunteer("other", credentials=(Credential("police", None),))
    shift = make_shift(required_credentials=frozenset({"cpr"}))
    problem = make_problem(volunteers=(ok, expired, never, other), shifts=(shift,))
    c = cand.generate(cand.build_arrays(problem))
    assert c.vol.tolist() == [0, 2]


def test_required_credential_nobody_holds():
    shift = make_shift(required_credentials=frozenset({"unknown"}))
    problem = make_problem(shifts=(shift,))
    assert len(cand.generate(cand.build_arrays(problem))) == 0


def test_large_radius_and_far_institutions():
    far = make_institution("far", lat=24.0, lon=33.0)
    near = make_institution("near", lat=30.0, lon=31.2)
    vols = (
        make_volunteer("a", lat=30.0, lon=31.2, max_travel_km=5000.0),
        make_volunteer("b", lat=30.0, lon=31.2, max_travel_km=1.0),
        make_volunteer("c", lat=89.9, lon=179.9, max_travel_km=20000.0),
    )
    shifts = (
        make_shift("s-far", institution_id="far"),
        make_shift("s-near", institution_id="near"),
    )
    problem = make_problem(institutions=(far, near), volunteers=vols, shifts=shifts)
    c = cand.generate(cand.build_arrays(problem))
    assert set(zip(c.vol.tolist(), c.shift.tolist(), strict=True)) == scalar_pairs(problem)
    assert (0, 0) in scalar_pairs(problem) and (2, 0) in scalar_pairs(problem)


def test_many_skills_and_languages_use_several_words():
    skills = [f"skill-{i}" for i in range(150)]
    vol = make_volunteer(skills=frozenset(skills[140:]), languages=frozenset({"lang-99"}))
    shifts = (
        make_shift("reserved", needed=1, required_skills={"skill-149": 1}),
        make_shift("missing", needed=1, required_skills={"skill-3": 1}),
        make_shift("lang", languages=frozenset({"lang-99", "ar"})),
    )
    problem = make_problem(volunteers=(vol,), shifts=shifts)
    c = cand.generate(cand.build_arrays(problem))
    assert c.shift.tolist() == [0, 2]


def test_expand_ranges():
    owner, pos = cand.expand_ranges(np.array([3, 0, 5]), np.array([5, 0, 6]))
    assert owner.tolist() == [0, 0, 2] and pos.tolist() == [3, 4, 5]


def test_hours_cap_boundary():
    assert eligibility.hours_cap_us(3.0) == 3 * 3600 * 10**6


def test_parallel_generation_gives_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.generate import generate
    from matcher.problem_io import load_problem

    arr = cand.build_arrays(load_problem(generate(volunteers=600, shifts=180, seed=3)))
    monkeypatch.setattr(cand, "PARALLEL_MIN_VOLUNTEERS", 10)
    serial = cand.generate(arr)
    for workers in (1, 2, 3):
        parallel = cand.generate_parallel(arr, workers)
        assert np.array_equal(parallel.vol, serial.vol)
        assert np.array_equal(parallel.shift, serial.shift)
        assert np.array_equal(parallel.km, serial.km)
    part = cand.generate(arr, vol_range=(100, 300))
    inside = (serial.vol >= 100) & (serial.vol < 300)
    assert np.array_equal(part.vol, serial.vol[inside])
    assert np.array_equal(part.shift, serial.shift[inside])


def _geo_problem(seed: int):
    """Institutions anywhere (row edges, poles, the antimeridian) and volunteers whose radius is
    exactly, just under or just over the scalar distance to one of them: only distance decides."""
    import random

    rng = random.Random(seed)
    spots = [
        (rng.uniform(-60, 60), rng.uniform(-179, 179)),
        (round(rng.uniform(20, 32) / cand.LAT_CELL_DEG) * cand.LAT_CELL_DEG, 31.0),  # row edge
        (89.95, rng.uniform(-180, 180)),
        (-89.99, 0.0),
        (rng.uniform(-10, 10), 179.999),
        (rng.uniform(-10, 10), -180.0),
        (0.0, 0.0),
    ]
    insts = [
        make_institution(f"i{k}", lat=lat, lon=lon)
        for k, (lat, lon) in enumerate(
            spots + [(lat + rng.uniform(-0.3, 0.3), lon) for lat, lon in spots if abs(lat) < 89]
        )
    ]
    vols = []
    for k in range(60):
        target = rng.choice(insts)
        lat = max(-90.0, min(90.0, target.lat + rng.choice([0.0, 0.05, -0.05, 0.2, 0.001])))
        lon = target.lon + rng.choice([0.0, 0.1, -0.1, 0.3])
        lon = lon - 360.0 if lon > 180 else lon + 360.0 if lon < -180 else lon
        d = haversine_km(lat, lon, target.lat, target.lon)
        radius = rng.choice([d, d, d - 1e-9, d + 1e-9, d * (1 - 1e-12), d * 1.5, 0.0, 300.0])
        vols.append(make_volunteer(f"v{k}", lat=lat, lon=lon, max_travel_km=max(radius, 0.0)))
    vols.append(make_volunteer("none", availability=()))  # no windows: no candidate
    shifts = [make_shift(f"s{k}", institution_id=inst.id) for k, inst in enumerate(insts)]
    return make_problem(institutions=tuple(insts), volunteers=tuple(vols), shifts=tuple(shifts))


@pytest.mark.parametrize("seed", range(30))
def test_distance_join_equals_scalar_rule_at_the_radius_rows_poles_and_antimeridian(seed):
    problem = _geo_problem(seed)
    c = cand.generate(cand.build_arrays(problem))
    got = list(zip(c.vol.tolist(), c.shift.tolist(), strict=True))
    assert got == sorted(scalar_pairs(problem))
    for v, s, km in zip(c.vol.tolist(), c.shift.tolist(), c.km.tolist(), strict=True):
        vol = problem.volunteers[v]
        inst = problem.institution_of(problem.shifts[s])
        assert km == pytest.approx(haversine_km(vol.lat, vol.lon, inst.lat, inst.lon), abs=1e-9)


def test_generated_distances_are_haversine_np_bit_for_bit():
    problem = random_problem(3, volunteers=200, shifts=60, institutions=12)
    arr = cand.build_arrays(problem)
    c = cand.generate(arr)
    inst = arr.s_inst[c.shift]
    km = cand.haversine_np(arr.v_lat[c.vol], arr.v_lon[c.vol], arr.i_lat[inst], arr.i_lon[inst])
    assert len(c) and np.array_equal(c.km, km)


def test_windows_touching_the_shift_and_volunteers_without_windows():
    exact = make_volunteer("exact", availability=(window(9, 12),))
    early = make_volunteer("early", availability=(window(9.5, 12),))  # starts after the shift
    late = make_volunteer("late", availability=(window(9, 11.5),))  # ends before it
    nothing = make_volunteer("nothing", availability=())
    short = make_volunteer("short", availability=(window(9, 10), window(10, 11)))
    problem = make_problem(
        volunteers=(exact, early, late, nothing, short),
        shifts=(make_shift(start=at(9), end=at(12)), make_shift("s2", start=at(9), end=at(10))),
    )
    c = cand.generate(cand.build_arrays(problem))
    assert list(zip(c.vol.tolist(), c.shift.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (2, 1),
        (4, 1),
    ]


@pytest.mark.parametrize("seed", range(6))
def test_small_ranges_and_fallback_paths_give_the_same_pairs(seed, monkeypatch):
    problem = random_problem(seed + 300, volunteers=80, shifts=40, institutions=5, days=3)
    arr = cand.build_arrays(problem)
    base = cand.generate(arr)
    assert set(zip(base.vol.tolist(), base.shift.tolist(), strict=True)) == scalar_pairs(problem)
    monkeypatch.setattr(cand, "CHUNK_WORK", 50)  # many volunteer ranges
    monkeypatch.setattr(cand, "SHIFT_TABLE_MAX", 0)  # searchsorted instead of the table
    monkeypatch.setattr(cand, "SORT_KEY_LIMIT", 0)  # np.unique instead of packed keys
    monkeypatch.setattr(cand, "STATIC_TABLE_MAX", 0)  # rule by rule instead of the table
    monkeypatch.setattr(cand, "PARALLEL_MIN_VOLUNTEERS", 10)
    monkeypatch.setattr(cand, "OUTPUT_MARGIN", 0.01)  # the output grows several times
    assert len(cand._Join(arr, None).chunks(0, arr.n_volunteers, cand._Join(arr, None).work())) > 3
    for c in (cand.generate(arr), cand.generate_parallel(arr, 3)):
        assert np.array_equal(c.vol, base.vol)
        assert np.array_equal(c.shift, base.shift)
        assert np.array_equal(c.km, base.km)
    part = cand.generate(arr, vol_range=(17, 61))
    inside = (base.vol >= 17) & (base.vol < 61)
    assert np.array_equal(part.vol, base.vol[inside]) and np.array_equal(part.km, base.km[inside])
    assert len(cand.generate(arr, vol_range=(5, 5))) == 0
    mask = np.zeros(arr.n_shifts, dtype=bool)
    mask[::3] = True
    sub = cand.generate(arr, mask)
    keep = mask[base.shift]
    assert np.array_equal(sub.vol, base.vol[keep]) and np.array_equal(sub.shift, base.shift[keep])


def _haversine_reference(lat1, lon1, lat2, lon2):
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def test_haversine_np_is_the_formula_bit_for_bit_with_broadcasting():
    rng = np.random.default_rng(5)
    lat1, lat2 = rng.uniform(-90, 90, 1000), rng.uniform(-90, 90, 1000)
    lon1, lon2 = rng.uniform(-180, 180, 1000), rng.uniform(-180, 180, 1000)
    lat2[:10], lon2[:10] = lat1[:10], lon1[:10]  # zero distances
    lat2[10:20], lon2[10:20] = -lat1[10:20], lon1[10:20] + 180.0  # antipodes
    cases = [
        (lat1, lon1, lat2, lon2),
        (lat1, lon1, 30.0, 31.0),
        (30.0, 31.0, lat2, lon2),
        (30.0, lon1, 29.5, 31.0),
        (lat1[:, None], lon1[:, None], lat2[None, :50], lon2[None, :50]),
        (lat1.astype(int), lon1.astype(int), lat2, lon2.astype(int)),
    ]
    for args in cases:
        got, want = cand.haversine_np(*args), _haversine_reference(*args)
        assert got.shape == want.shape and np.array_equal(got, want)
    got = cand.haversine_np(30.0, 31.0, 30.5, 31.5)
    assert np.ndim(got) == 0 and got == _haversine_reference(30.0, 31.0, 30.5, 31.5)


@pytest.mark.parametrize("bad", [0, 7])
def test_an_error_in_any_range_reaches_the_caller(bad, monkeypatch):
    problem = random_problem(11, volunteers=80, shifts=40, institutions=5, days=3)
    arr = cand.build_arrays(problem)
    monkeypatch.setattr(cand, "CHUNK_WORK", 50)
    monkeypatch.setattr(cand, "PARALLEL_MIN_VOLUNTEERS", 10)
    ranges = cand._Join(arr, None).chunks(0, arr.n_volunteers, cand._Join(arr, None).work())
    run = cand._Join.run

    def failing(self, v_lo, v_hi):
        if (v_lo, v_hi) == ranges[bad]:
            raise RuntimeError("boom")
        return run(self, v_lo, v_hi)

    monkeypatch.setattr(cand._Join, "run", failing)
    for workers in (1, 2, 3):
        with pytest.raises(RuntimeError, match="boom"):
            cand.generate_parallel(arr, workers)


@pytest.mark.parametrize(
    ("n", "n_keys"),
    [(0, 10), (1, 70_000), (5_000, 300), (5_000, 70_000), (5_000, 2**40), (5_000, 2**62)],
)
def test_stable_argsort_is_numpys_stable_order(n: int, n_keys: int) -> None:
    """Every path (radix, packed key and index, merge sort) gives the stable order, ties in
    index order included."""
    rng = np.random.default_rng(n + n_keys % 997)
    high = min(n_keys, 50)  # many ties
    keys = rng.integers(0, high, n) * (n_keys // high)
    got = cand.stable_argsort(keys, n_keys)
    assert np.array_equal(got, np.argsort(keys, kind="stable"))
