"""Run pages: start, watch, review, edit, publish and discard in both languages; rights."""

from __future__ import annotations

import sqlalchemy as sa

from web.extensions import db
from web.models import Assignment, MatchingRun
from web.services import runs


def solve_pending():
    run = runs.claim_next_run("test")
    assert run is not None
    return runs.execute_run(run)


def test_coordinator_starts_watches_and_publishes_a_run(client, login_as, world):
    login_as(world.coordinator)
    page = client.get("/coordinate/runs/new")
    assert page.status_code == 200
    response = client.post(
        "/coordinate/runs/new",
        data={"scope_kind": "national", "window_days": "٧", "time_limit": "10"},
    )
    assert response.status_code == 302
    run = db.session.scalars(sa.select(MatchingRun)).one()
    waiting = client.get(f"/coordinate/runs/{run.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting
    solve_pending()
    page = client.get(f"/coordinate/runs/{run.id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "Filled 3 of 3 places" in text and "proven best possible: 3" in text
    assert 'http-equiv="refresh"' not in text
    pair = db.session.get(MatchingRun, run.id).proposals[0]
    response = client.post(
        f"/coordinate/runs/{run.id}/edit",
        data={"action": "pin", "shift_id": pair.shift_id, "volunteer_id": pair.volunteer_id},
    )
    assert response.status_code == 303
    response = client.post(f"/coordinate/runs/{run.id}/publish")
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 3


def test_pages_render_in_arabic(client, login_as, world):
    login_as(world.coordinator)
    client.post(
        "/coordinate/runs/new",
        data={"scope_kind": "national", "window_days": "7", "time_limit": "10"},
    )
    run = solve_pending()
    for url in ("/coordinate/runs", "/coordinate/runs/new", f"/coordinate/runs/{run.id}"):
        page = client.get(url)
        assert page.status_code == 200
        assert 'dir="rtl"' in page.get_data(as_text=True)


def test_bad_input_re_renders_the_form_and_writes_nothing(client, login_as, world):
    login_as(world.coordinator)
    for data in (
        {"scope_kind": "national", "window_days": "0", "time_limit": "10"},
        {"scope_kind": "national", "window_days": "seven", "time_limit": "10"},
        {"scope_kind": "governorates", "window_days": "7", "time_limit": "10"},
        {"scope_kind": "moon", "window_days": "7", "time_limit": "10"},
        {
            "scope_kind": "institutions",
            "institutions": "99999",
            "window_days": "7",
            "time_limit": "10",
        },
    ):
        response = client.post("/coordinate/runs/new", data=data)
        assert response.status_code == 400, data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0


def test_governorate_coordinator_cannot_see_or_touch_other_runs(client, login_as, world):
    run = runs.start_run(world.coordinator, "national", [], *runs.default_window(7))
    login_as(world.giza_coordinator)
    assert client.get(f"/coordinate/runs/{run.id}").status_code == 403
    assert client.post(f"/coordinate/runs/{run.id}/discard").status_code == 403
    assert client.post(f"/coordinate/runs/{run.id}/publish").status_code == 403
    assert client.get("/coordinate/runs/999999").status_code == 404
    assert f"#{run.id}" not in client.get("/coordinate/runs").get_data(as_text=True)


def test_volunteers_and_managers_are_refused(client, login_as, world, factory):
    login_as(world.volunteers[0])
    assert client.get("/coordinate/runs").status_code == 403
    assert client.post("/coordinate/runs/new", data={"scope_kind": "national"}).status_code == 403


def test_only_admins_keep_schedules(client, login_as, world):
    login_as(world.coordinator)
    assert client.get("/coordinate/runs/schedules").status_code == 403
    login_as(world.admin)
    assert client.get("/coordinate/runs/schedules").status_code == 200
    response = client.post(
        "/coordinate/runs/schedules",
        data={
            "name": "Cairo nightly",
            "scope_kind": "governorates",
            "governorates": str(world.institution.governorate_id),
            "hour": "٣",
            "minute": "30",
            "window_days": "7",
            "time_limit": "60",
            "enabled": "y",
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/coordinate/runs/schedules",
        data={
            "name": "",
            "scope_kind": "national",
            "hour": "25",
            "minute": "0",
            "window_days": "7",
            "time_limit": "60",
        },
    )
    assert bad.status_code == 400


def test_coordinator_adds_a_listed_candidate_and_swaps(client, login_as, world, factory):
    factory.volunteer(lat=30.052, lon=31.241)  # one more volunteer than places
    login_as(world.coordinator)
    client.post(
        "/coordinate/runs/new",
        data={"scope_kind": "national", "window_days": "7", "time_limit": "10"},
    )
    run = solve_pending()
    pair = next(p for p in run.proposals if p.shift_id == world.shift.id)
    client.post(
        f"/coordinate/runs/{run.id}/edit",
        data={"action": "remove", "shift_id": pair.shift_id, "volunteer_id": pair.volunteer_id},
    )
    page = client.get(f"/coordinate/runs/{run.id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "Volunteer who could take the place" in text
    assert f'<option value="{pair.volunteer_id}">' in text
    response = client.post(
        f"/coordinate/runs/{run.id}/edit",
        data={"action": "add", "shift_id": pair.shift_id, "candidate": str(pair.volunteer_id)},
    )
    assert response.status_code == 303
    run = db.session.get(MatchingRun, run.id)
    db.session.refresh(run)
    restored = next(
        p
        for p in run.proposals
        if p.volunteer_id == pair.volunteer_id and p.shift_id == pair.shift_id
    )
    assert not restored.removed and restored.pinned
    everyone = {int(v["id"][1:]) for v in run.problem["volunteers"]}
    (unused,) = everyone - {p.volunteer_id for p in runs.final_pairs(run)}
    out = next(p for p in run.proposals if p.shift_id == world.second_shift.id)
    response = client.post(
        f"/coordinate/runs/{run.id}/edit",
        data={
            "action": "swap",
            "shift_id": world.second_shift.id,
            "volunteer_out": str(out.volunteer_id),
            "candidate": str(unused),
        },
    )
    assert response.status_code == 303
    db.session.refresh(run)
    final = {(p.volunteer_id, p.shift_id) for p in runs.final_pairs(run)}
    assert (unused, world.second_shift.id) in final
    assert (out.volunteer_id, world.second_shift.id) not in final


def test_an_edit_without_its_volunteer_is_refused(client, login_as, world):
    login_as(world.coordinator)
    client.post(
        "/coordinate/runs/new",
        data={"scope_kind": "national", "window_days": "7", "time_limit": "10"},
    )
    run = solve_pending()
    before = [(p.volunteer_id, p.shift_id, p.removed, p.pinned) for p in run.proposals]
    for data in (
        {"action": "add", "shift_id": world.shift.id},
        {"action": "swap", "shift_id": world.shift.id, "volunteer_out": "1"},
        {"action": "pin", "shift_id": world.shift.id},
        {"action": "explode", "shift_id": world.shift.id, "volunteer_id": "1"},
    ):
        assert client.post(f"/coordinate/runs/{run.id}/edit", data=data).status_code == 303
    db.session.refresh(run)
    assert [(p.volunteer_id, p.shift_id, p.removed, p.pinned) for p in run.proposals] == before
