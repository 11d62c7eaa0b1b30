"""The worker keeps APScheduler's per-poll "Running job" lines out of the INFO log."""

from __future__ import annotations

import logging

from web import worker


class _IdleScheduler:
    def get_jobs(self) -> list:
        return []

    def start(self) -> None:
        return None


def test_start_worker_quiets_the_per_job_lines_but_keeps_errors(app, monkeypatch):
    parent = logging.getLogger("apscheduler.executors")
    executor = logging.getLogger("apscheduler.executors.default")
    before = parent.level
    parent.setLevel(logging.INFO)  # as under the demo's and the worker's INFO logging
    try:
        assert executor.isEnabledFor(logging.INFO)
        monkeypatch.setattr(worker, "build_scheduler", lambda app: _IdleScheduler())
        worker.start_worker(app)
        assert not executor.isEnabledFor(logging.INFO)
        assert executor.isEnabledFor(logging.ERROR)
        # only APScheduler's executors: the worker's own lines keep the configured level
        assert logging.getLogger("web.worker").level == logging.NOTSET
    finally:
        parent.setLevel(before)
