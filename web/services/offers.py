"""Answers to offers: a volunteer accepts or declines (on the web or by SMS); declines re-match."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import TRANSITIONS, Assignment, User, utcnow
from web.services import audit, places

log = logging.getLogger(__name__)


class OfferError(Exception):
    """The answer cannot be taken; the message is for the volunteer."""

    def __init__(self, message: object, status: int = 409) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


def pending_offers(user: User) -> list[Assignment]:
    """The volunteer's open offers for shifts that have not started, soonest first."""
    import sqlalchemy as sa

    from web.models import Shift

    return list(
        db.session.scalars(
            sa.select(Assignment)
            .join(Shift, Shift.id == Assignment.shift_id)
            .where(
                Assignment.volunteer_id == user.id,
                Assignment.state == "offered",
                Shift.status == "open",
                Shift.starts_at > utcnow(),
            )
            .order_by(Shift.starts_at, Assignment.id)
        )
    )


def _check(assignment: Assignment, user: User, now: datetime) -> None:
    if assignment.volunteer_id != user.id:
        raise OfferError(_l("This offer is not yours."), status=404)
    if assignment.shift.status != "open":
        raise OfferError(_l("This shift was cancelled."))
    if assignment.shift.starts_at <= now:
        raise OfferError(_l("This shift has already started."))


def accept(assignment: Assignment, user: User, *, channel: str = "web") -> Assignment:
    """Confirm an offered place; accepting twice is harmless."""
    now = utcnow()
    _check(assignment, user, now)
    if assignment.state == "confirmed":
        return assignment
    if assignment.state != "offered":
        raise OfferError(_l("This offer is no longer open."))
    assignment.state = "confirmed"
    assignment.state_changed_at = now
    audit.record(user, "assignment.accepted", "assignment", assignment.id, channel=channel)
    if channel == "web":  # an SMS answer gets its confirmation in the reply itself
        from web.services.messaging import queue_confirmation

        queue_confirmation(assignment)  # reminders follow from the worker's reminder job
    db.session.commit()
    return assignment


def decline(assignment: Assignment, user: User, *, channel: str = "web") -> Assignment:
    """Give back an offered or confirmed place; the waitlist, then a replacement run, refill it."""
    from web.services.replacement import request_replacement
    from web.services.signup import lock_shift, promote_waitlist

    now = utcnow()
    _check(assignment, user, now)
    if assignment.state == "declined":
        return assignment
    if assignment.state not in ("offered", "confirmed"):
        raise OfferError(_l("This offer is no longer open."))
    target = "declined" if "declined" in TRANSITIONS[assignment.state] else "cancelled"
    previous = assignment.state
    lock_shift(assignment.shift_id)  # the same lock order as withdrawals: no deadlock
    places.release(assignment)
    assignment.state = target
    assignment.state_changed_at = now
    audit.record(
        user, "assignment.declined", "assignment", assignment.id, channel=channel, previous=previous
    )
    db.session.flush()
    promoted = promote_waitlist(assignment.shift, now, after=assignment)
    db.session.commit()
    if promoted is None:
        db.session.refresh(assignment.shift)
        request_replacement(assignment.shift)
    return assignment
