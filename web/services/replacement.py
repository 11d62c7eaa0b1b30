"""Replacement: when a place is given back close to a shift, offer it to the next best volunteer."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from web.models import MatchingRun, Shift, utcnow
from web.services.runs import RunError, start_run

log = logging.getLogger(__name__)


def request_replacement(shift: Shift) -> MatchingRun | None:
    """Queue a replacement run for one shift whose place was declined, cancelled or missed.

    Only that shift is re-matched; everyone already on it stays (their assignments are locked),
    and the run publishes itself so the next best volunteer receives the offer. Nothing is queued
    when the shift is full again (the waitlist filled it), cancelled, or starts sooner than
    REPLACEMENT_MIN_NOTICE_HOURS from now. Call it after the releasing change is committed.
    """
    notice = timedelta(hours=float(current_app.config.get("REPLACEMENT_MIN_NOTICE_HOURS", 2)))
    now = utcnow()
    if shift.status != "open" or shift.free <= 0 or shift.starts_at - now < notice:
        return None
    try:
        return start_run(
            None,
            "institutions",
            [shift.institution_id],
            shift.starts_at,
            shift.starts_at + timedelta(minutes=1),
            time_limit_s=10,
            trigger="replacement",
            auto_publish=True,
            shift_ids=[shift.id],
        )
    except RunError as exc:
        log.warning("no replacement run for shift %s: %s", shift.id, exc)
        return None
