"""Two coordinators publishing the same run at once: exactly one publish happens."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from web.extensions import db
from web.models import Assignment, MatchingRun
from web.services import runs


def test_concurrent_publishes_publish_once(app, world):
    run = runs.start_run(world.coordinator, "national", [], *runs.default_window(7))
    run = runs.execute_run(runs.claim_run(run.id))
    run_id, proposals = run.id, len(run.proposals)
    users = [world.coordinator.id, world.admin.id]
    db.session.remove()
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def publish(user_id: int) -> None:
        with app.app_context():
            from web.models import User

            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                runs.publish_run(run_id, user)
                outcomes.append("published")
            except runs.RunError as exc:
                outcomes.append(f"refused {exc.status}")
            except Exception as exc:  # a database lock error counts as refused, not as a bug
                outcomes.append(f"error {type(exc).__name__}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("published") == 1, outcomes
    assert db.session.get(MatchingRun, run_id).status == "published"
    offered = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment))
    assert offered == proposals
