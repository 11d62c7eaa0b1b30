"""Nightly matching schedules that admins keep: validation and saving."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import MatchingSchedule, User
from web.services import audit
from web.services.runs import RunError, validate_scope

FIELDS = ("name", "hour", "minute", "window_days", "time_limit_s", "auto_publish", "enabled")


def all_schedules() -> list[MatchingSchedule]:
    return list(db.session.scalars(sa.select(MatchingSchedule).order_by(MatchingSchedule.id)))


def save_schedule(
    user: User,
    schedule: MatchingSchedule | None,
    scope_kind: str,
    scope_ids: list[int],
    **values: Any,
) -> MatchingSchedule:
    """Create or update a schedule; the worker picks the change up within a minute."""
    if user.role != "admin":
        raise RunError(_l("Only an administrator can change schedules."), status=403)
    validate_scope(scope_kind, scope_ids)
    created = schedule is None
    schedule = schedule or MatchingSchedule(timezone="Africa/Cairo")
    schedule.scope_kind = scope_kind
    schedule.scope_ids = sorted(set(scope_ids))
    for name in FIELDS:
        setattr(schedule, name, values[name])
    db.session.add(schedule)
    db.session.flush()
    audit.record(
        user,
        "schedule.create" if created else "schedule.update",
        "matching_schedule",
        schedule.id,
        scope=scope_kind,
        ids=schedule.scope_ids,
        hour=schedule.hour,
        minute=schedule.minute,
        enabled=schedule.enabled,
    )
    db.session.commit()
    return schedule


def delete_schedule(user: User, schedule: MatchingSchedule) -> None:
    if user.role != "admin":
        raise RunError(_l("Only an administrator can change schedules."), status=403)
    audit.record(user, "schedule.delete", "matching_schedule", schedule.id, name=schedule.name)
    db.session.delete(schedule)
    db.session.commit()
