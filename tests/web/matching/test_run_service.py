"""The run service: scope rights, locks, solving, editing, publishing, discarding, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from web.extensions import db
from web.models import Assignment, AuditEvent, MatchingRun, RunLock, Shift, User
from web.services import runs
from web.services.runs import RunError


def window():
    return runs.default_window(7)


def start(user, kind="national", ids=(), **kw):
    a, b = window()
    return runs.start_run(user, kind, list(ids), a, b, time_limit_s=kw.pop("limit", 10), **kw)


def solve(run):
    claimed = runs.claim_run(run.id, "test")
    assert claimed is not None
    return runs.execute_run(claimed)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_national_run_fills_every_place_and_proves_it(world):
    run = solve(start(world.coordinator))
    assert run.status == "proposed"
    assert run.metrics["demand"] == 3
    assert run.metrics["filled"] == 3
    assert run.metrics["upper_bound"] == 3
    assert run.metrics["volunteers"] == 3
    assert len(run.proposals) == 3
    assert run.problem["format"] == "volunteer-matching/v1"
    assert run.solution["metrics"]["filled"] == 3
    # Nothing reaches volunteers before publishing.
    assert count(Assignment) == 0


def test_publish_turns_the_proposal_into_offers_in_one_go(world):
    run = solve(start(world.coordinator))
    result = runs.publish_run(run.id, world.coordinator)
    assert result.offered == 3 and result.cancelled == 0
    assignments = db.session.scalars(sa.select(Assignment)).all()
    assert {a.state for a in assignments} == {"offered"}
    assert {a.source for a in assignments} == {"matcher"}
    db.session.refresh(world.shift)
    assert world.shift.taken == 2
    run = db.session.get(MatchingRun, run.id)
    assert run.status == "published" and run.published_by_id == world.coordinator.id
    assert count(RunLock) == 0
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"run.start", "run.proposed", "run.publish"} <= actions


def test_publishing_twice_is_refused(world):
    run = solve(start(world.coordinator))
    runs.publish_run(run.id, world.coordinator)
    with pytest.raises(RunError) as err:
        runs.publish_run(run.id, world.coordinator)
    assert err.value.status == 409
    assert count(Assignment) == 3


def test_confirmed_self_signups_are_locked_and_kept(world):
    volunteer = world.volunteers[2]
    db.session.add(
        Assignment(
            shift_id=world.shift.id, volunteer_id=volunteer.id, state="confirmed", source="self"
        )
    )
    world.shift.open_taken = 1
    db.session.commit()
    run = solve(start(world.coordinator))
    locked = [p for p in run.proposals if p.locked]
    assert [(p.volunteer_id, p.shift_id) for p in locked] == [(volunteer.id, world.shift.id)]
    with pytest.raises(RunError):
        runs.edit_run(run.id, world.coordinator, "remove", world.shift.id, volunteer.id)
    result = runs.publish_run(run.id, world.coordinator)
    assert result.kept == 1 and result.offered == 2
    db.session.refresh(world.shift)
    assert world.shift.taken == 2


def test_overlapping_scopes_cannot_run_at_once(world):
    first = start(world.coordinator)
    with pytest.raises(RunError) as err:
        start(world.cairo_coordinator, "governorates", [world.institution.governorate_id])
    assert err.value.status == 409
    assert count(MatchingRun) == 1
    runs.discard_run(first.id, world.coordinator)
    second = start(world.cairo_coordinator, "governorates", [world.institution.governorate_id])
    assert second.status == "queued"


def test_disjoint_scopes_run_side_by_side(world):
    start(world.coordinator, "institutions", [world.institution.id])
    other = start(world.coordinator, "institutions", [world.far_institution.id])
    assert other.status == "queued"


@pytest.mark.parametrize(
    ("who", "kind", "ids_of"),
    [
        ("giza_coordinator", "governorates", lambda w: [w.institution.governorate_id]),
        ("cairo_coordinator", "national", lambda w: []),
        ("giza_coordinator", "institutions", lambda w: [w.institution.id]),
    ],
)
def test_coordinators_only_run_inside_their_scope(world, who, kind, ids_of):
    with pytest.raises(RunError) as err:
        start(getattr(world, who), kind, ids_of(world))
    assert err.value.status == 403
    assert count(MatchingRun) == 0 and count(RunLock) == 0


@pytest.mark.parametrize(
    ("kind", "ids"),
    [("governorates", []), ("institutions", [999999]), ("galaxy", []), ("national", [1])],
)
def test_bad_scopes_are_refused(world, kind, ids):
    with pytest.raises(RunError):
        start(world.admin, kind, ids)
    assert count(MatchingRun) == 0


def test_bad_windows_and_limits_are_refused(world):
    a, b = window()
    with pytest.raises(RunError):
        runs.start_run(world.admin, "national", [], b, a)
    with pytest.raises(RunError):
        runs.start_run(world.admin, "national", [], a, a + timedelta(days=40))
    with pytest.raises(RunError):
        runs.start_run(world.admin, "national", [], a, b, time_limit_s=0)
    with pytest.raises(RunError):
        runs.start_run(world.admin, "national", [], a.replace(tzinfo=None), b)
    assert count(MatchingRun) == 0


def test_scope_without_institutions_is_refused(world, factory):
    empty = factory.governorate("EG-ASN")
    with pytest.raises(RunError) as err:
        start(world.admin, "governorates", [empty.id])
    with force_locale("en"):
        assert "no active institutions" in str(err.value.message)


def test_window_without_shifts_gives_an_empty_result(world):
    db.session.execute(sa.update(Shift).values(status="cancelled"))
    db.session.commit()
    run = solve(start(world.coordinator))
    assert run.status == "proposed"
    assert run.metrics["demand"] == 0 and run.metrics["status"] == "EMPTY"


def test_scope_without_volunteers_explains_every_unfilled_place(world):
    db.session.execute(sa.text("DELETE FROM volunteer_profile"))
    db.session.commit()
    run = solve(start(world.coordinator))
    assert run.metrics["filled"] == 0 and run.metrics["upper_bound"] == 0
    assert sum(u["missing"] for u in run.solution["unfilled"]) == 3
    with force_locale("en"):
        assert any("No volunteer" in line for line in runs.summary_lines(run))


def test_far_volunteers_are_reported_by_distance(world, factory):
    db.session.execute(sa.text("DELETE FROM volunteer_profile"))
    db.session.commit()
    factory.volunteer(lat=30.30, lon=31.24, radius=10)  # ~27 km away, within the search box
    run = solve(start(world.coordinator))
    reasons = {}
    for u in run.solution["unfilled"]:
        for k, v in u["reasons"].items():
            reasons[k] = reasons.get(k, 0) + v
    assert reasons.get("distance", 0) >= 1


def test_a_matcher_error_fails_the_run_and_frees_the_scope(world, monkeypatch):
    import matcher

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(matcher, "solve", broken)
    run = solve(start(world.coordinator))
    assert run.status == "failed" and "solver exploded" in run.error
    assert count(RunLock) == 0
    assert count(Assignment) == 0
    assert start(world.coordinator).status == "queued"


def test_stale_running_runs_fail_when_a_worker_starts(world):
    run = start(world.coordinator)
    assert runs.claim_run(run.id, "dead-worker") is not None
    assert runs.fail_stale_runs() == 1
    run = db.session.get(MatchingRun, run.id)
    assert run.status == "failed" and "worker" in run.error
    assert count(RunLock) == 0


def test_a_run_is_claimed_once(world):
    run = start(world.coordinator)
    assert runs.claim_run(run.id, "a") is not None
    assert runs.claim_run(run.id, "b") is None
    assert runs.claim_next_run("c") is None


def test_remove_and_restore_a_pair(world):
    run = solve(start(world.coordinator))
    pair = next(p for p in run.proposals if not p.locked)
    runs.edit_run(run.id, world.coordinator, "remove", pair.shift_id, pair.volunteer_id)
    assert len(runs.final_pairs(db.session.get(MatchingRun, run.id))) == 2
    runs.edit_run(run.id, world.coordinator, "restore", pair.shift_id, pair.volunteer_id)
    runs.edit_run(run.id, world.coordinator, "pin", pair.shift_id, pair.volunteer_id)
    run = db.session.get(MatchingRun, run.id)
    assert len(runs.final_pairs(run)) == 3
    assert any(p.pinned for p in run.proposals)


def test_an_edit_that_breaks_a_rule_changes_nothing(world, factory):
    overlapping = factory.shift(
        factory.opportunity(world.institution),
        start=world.shift.starts_at + timedelta(hours=1),
        needed=2,
    )
    far = factory.volunteer(lat=30.30, lon=31.24, radius=5)
    run = solve(start(world.coordinator))
    assert run.metrics["filled"] < run.metrics["demand"]
    # Someone outside the problem (too far to be considered) cannot be added.
    with pytest.raises(RunError):
        runs.edit_run(run.id, world.coordinator, "add", world.second_shift.id, far.id)
    # Three volunteers for the four places of two overlapping shifts: one of them keeps a free
    # place, and a volunteer of the other cannot also take it (rule 6).
    on = {
        sid: [p.volunteer_id for p in run.proposals if p.shift_id == sid]
        for sid in (world.shift.id, overlapping.id)
    }
    free, full = sorted(on, key=lambda sid: len(on[sid]))
    busy = on[full][0]
    with pytest.raises(RunError) as err, force_locale("en"):
        runs.edit_run(run.id, world.coordinator, "add", free, busy)
    assert err.value.status == 409
    with force_locale("en"):
        assert str(err.value.message) == (
            "This change breaks a matching rule: another shift at the same time"
        )
    with pytest.raises(RunError) as err, force_locale("ar"):
        runs.edit_run(run.id, world.coordinator, "add", free, busy)
    with force_locale("ar"):
        arabic = str(err.value.message)
    assert "rule" not in arabic and "another shift" not in arabic and "فترة أخرى" in arabic
    run = db.session.get(MatchingRun, run.id)
    assert all(not p.removed and not p.pinned for p in run.proposals)
    assert (busy, free) not in {(p.volunteer_id, p.shift_id) for p in run.proposals}


def test_adding_to_a_full_shift_is_refused(world):
    run = solve(start(world.coordinator))
    outsider = next(p.volunteer_id for p in run.proposals if p.shift_id != world.second_shift.id)
    with pytest.raises(RunError):
        runs.edit_run(run.id, world.coordinator, "add", world.second_shift.id, outsider)


def test_swap_replaces_one_volunteer_by_another(world, factory):
    factory.volunteer(lat=30.051, lon=31.241)
    run = solve(start(world.coordinator))
    everyone = {int(v["id"][1:]) for v in run.problem["volunteers"]}
    (spare_id,) = everyone - {p.volunteer_id for p in run.proposals}
    spare = db.session.get(User, spare_id)
    pair = next(p for p in run.proposals if p.shift_id == world.second_shift.id)
    runs.edit_run(
        run.id, world.coordinator, "swap", world.second_shift.id, pair.volunteer_id, spare.id
    )
    run = db.session.get(MatchingRun, run.id)
    final = {(p.volunteer_id, p.shift_id) for p in runs.final_pairs(run)}
    assert (spare.id, world.second_shift.id) in final
    assert (pair.volunteer_id, world.second_shift.id) not in final


def test_edits_after_publish_are_refused(world):
    run = solve(start(world.coordinator))
    runs.publish_run(run.id, world.coordinator)
    pair = run.proposals[0]
    with pytest.raises(RunError) as err:
        runs.edit_run(run.id, world.coordinator, "remove", pair.shift_id, pair.volunteer_id)
    assert err.value.status == 409


def test_rerun_keeps_the_published_roster_and_diff_is_empty(world):
    first = solve(start(world.coordinator))
    runs.publish_run(first.id, world.coordinator)
    second = solve(start(world.coordinator))
    assert second.problem["previous"], "offers of the last publish are sent as previous"
    diff = runs.diff_run(second)
    assert not diff.added and not diff.removed and not diff.moved
    assert len(diff.kept) == 3


def test_publish_withdraws_offers_the_new_run_drops(world):
    first = solve(start(world.coordinator))
    runs.publish_run(first.id, world.coordinator)
    second = solve(start(world.coordinator))
    pair = next(p for p in second.proposals if p.shift_id == world.second_shift.id)
    runs.edit_run(second.id, world.coordinator, "remove", pair.shift_id, pair.volunteer_id)
    diff = runs.diff_run(db.session.get(MatchingRun, second.id))
    assert diff.removed == [(pair.volunteer_id, pair.shift_id)]
    result = runs.publish_run(second.id, world.coordinator)
    assert result.cancelled == 1
    withdrawn = db.session.scalars(
        sa.select(Assignment).where(Assignment.shift_id == world.second_shift.id)
    ).one()
    assert withdrawn.state == "cancelled"
    db.session.refresh(world.second_shift)
    assert world.second_shift.taken == 0


def test_discard_frees_the_scope_and_writes_nothing_else(world):
    run = solve(start(world.coordinator))
    runs.discard_run(run.id, world.coordinator)
    assert db.session.get(MatchingRun, run.id).status == "discarded"
    assert count(Assignment) == 0 and count(RunLock) == 0
    with pytest.raises(RunError):
        runs.discard_run(run.id, world.coordinator)


def test_auto_publish_publishes_after_solving(world):
    run = solve(start(world.coordinator, auto_publish=True))
    assert run.status == "published"
    assert count(Assignment) == 3
