"""Publishing is atomic: a process killed (SIGKILL) at any point leaves the old roster whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
import sqlalchemy as sa

from web.config import ROOT
from web.extensions import db
from web.models import Assignment, AuditEvent, MatchingRun, RunLock, Shift
from web.services import runs

PUBLISH = textwrap.dedent(
    """
    import sys
    from tests.conftest import make_app
    from web.services.runs import publish_run

    app = make_app(sys.argv[1])
    with app.app_context():
        publish_run(int(sys.argv[2]), None)
    print("published")
    """
)


def publish_in_child(
    database_url: str, run_id: int, crash_at: str | None
) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("VM_CRASH_AT", None)
    if crash_at:
        env["VM_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", PUBLISH, database_url, str(run_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def roster() -> set[tuple[int, int, str]]:
    db.session.expire_all()
    return {
        (a.volunteer_id, a.shift_id, a.state) for a in db.session.scalars(sa.select(Assignment))
    }


def taken() -> list[int]:
    db.session.expire_all()
    return [s.taken for s in db.session.scalars(sa.select(Shift).order_by(Shift.id))]


@pytest.mark.parametrize("crash_at", ["after_cancel", "mid_offers", "before_commit"])
def test_killed_publish_leaves_the_old_roster(world, factory, database_url, crash_at):
    # An old published roster exists: the second run drops one of its offers and adds others.
    first = runs.execute_run(
        runs.claim_run(
            runs.start_run(world.coordinator, "national", [], *runs.default_window(7)).id
        )
    )
    runs.publish_run(first.id, world.coordinator)
    factory.shift(
        factory.opportunity(world.institution), start=world.shift.starts_at + timedelta(days=1)
    )
    second = runs.start_run(world.coordinator, "national", [], *runs.default_window(7))
    second = runs.execute_run(runs.claim_run(second.id))
    dropped = next(p for p in second.proposals if p.shift_id == world.second_shift.id)
    runs.edit_run(second.id, world.coordinator, "remove", dropped.shift_id, dropped.volunteer_id)
    second_id, dropped_pair = second.id, (dropped.volunteer_id, dropped.shift_id)
    before_roster, before_taken = roster(), taken()
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    db.session.remove()

    result = publish_in_child(database_url, second_id, crash_at)
    assert result.returncode == -signal.SIGKILL, result.stderr

    assert roster() == before_roster
    assert taken() == before_taken
    run = db.session.get(MatchingRun, second_id)
    assert run.status == "proposed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RunLock)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before
    db.session.remove()

    # The same publish, uninterrupted, then goes through completely.
    result = publish_in_child(database_url, second_id, None)
    assert result.returncode == 0, result.stderr
    assert (*dropped_pair, "cancelled") in roster()
    assert db.session.get(MatchingRun, second_id).status == "published"
