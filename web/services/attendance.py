"""Attendance: marking a confirmed volunteer absent frees the place and re-matches it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.authz import can_manage_institution
from web.extensions import db
from web.models import Assignment, User, utcnow
from web.services import audit, places


class AttendanceError(Exception):
    """The change cannot be made; the message is for the user."""

    def __init__(self, message: object, status: int = 409) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


def mark_absent(actor: User, assignment: Assignment) -> Assignment:
    """A manager marks a confirmed volunteer as not coming; a replacement is sought in time."""
    from web.services.replacement import request_replacement
    from web.services.signup import lock_shift

    shift = assignment.shift
    if not can_manage_institution(actor, shift.institution):
        raise AttendanceError(_l("You may not change this shift."), status=403)
    if assignment.state == "no_show":
        return assignment
    if assignment.state != "confirmed":
        raise AttendanceError(_l("Only a confirmed volunteer can be marked absent."))
    if shift.status != "open":
        raise AttendanceError(_l("This shift was cancelled."))
    lock_shift(shift.id)
    places.release(assignment)
    assignment.state = "no_show"
    assignment.state_changed_at = utcnow()
    audit.record(actor, "assignment.no_show", "assignment", assignment.id, shift=shift.id)
    db.session.commit()
    if shift.starts_at > utcnow():
        db.session.refresh(shift)
        request_replacement(shift)
    return assignment
