"""A volunteer's private iCal feed of their confirmed shifts, behind a revocable random token.

Only the SHA-256 of the token is stored: the link is shown once, when it is made; a new link
replaces the old one, and a revoked or replaced link answers 404. Times are written in UTC, so
every calendar shows them in its own zone; each event's UID is stable (shift and volunteer),
so a moved shift updates the same event and a cancelled one is kept with STATUS:CANCELLED.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy.orm import joinedload

from web.extensions import db
from web.models import Assignment, CalendarFeed, Shift, User, utcnow
from web.services.audit import record

PAST_DAYS = 60
FUTURE_DAYS = 366
# A confirmed place; attended and no-show keep the event of a past shift.
SHOWN_STATES = ("confirmed", "attended", "no_show")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.get(CalendarFeed, user.id)


def issue_token(user: User) -> str:
    """Make a new link for the volunteer (the old one stops working); returns the token once."""
    if user.role != "volunteer":
        raise PermissionError("only volunteers have a calendar feed")
    token = secrets.token_urlsafe(32)
    feed = feed_of(user)
    replaced = feed is not None
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token_hash = _hash(token)
    feed.created_at = utcnow()
    record(user, "calendar.token_issued", "user", user.id, replaced=replaced)
    db.session.commit()
    return token


def revoke(user: User) -> bool:
    """Stop the volunteer's link; False when there was none."""
    feed = feed_of(user)
    if feed is None:
        return False
    db.session.delete(feed)
    record(user, "calendar.token_revoked", "user", user.id)
    db.session.commit()
    return True


def owner_of(token: str) -> User | None:
    """The active volunteer whose link this is, or None (unknown, revoked, replaced)."""
    if not token or len(token) > 200:
        return None
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    if user is None or not user.active or user.role != "volunteer":
        return None
    return user


def _pick(locale: str, text_ar: str | None, text_en: str | None) -> str:
    if locale == "en":
        return text_en or text_ar or ""
    return text_ar or text_en or ""


def feed_events(user: User, now: datetime) -> list[tuple[Assignment, str]]:
    """The assignments the feed shows, with their iCal STATUS (CONFIRMED or CANCELLED)."""
    rows = db.session.scalars(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.volunteer_id == user.id,
            Shift.ends_at >= now - timedelta(days=PAST_DAYS),
            Shift.starts_at <= now + timedelta(days=FUTURE_DAYS),
            sa.or_(
                Assignment.state.in_(SHOWN_STATES),
                # the shift was cancelled while the volunteer held it: show it as cancelled
                sa.and_(Assignment.state == "cancelled", Shift.status == "cancelled"),
            ),
        )
        .options(
            joinedload(Assignment.shift).joinedload(Shift.institution),
            joinedload(Assignment.shift).joinedload(Shift.opportunity),
        )
        .order_by(Shift.starts_at, Shift.id)
    ).unique()
    events = []
    for assignment in rows:
        shift = assignment.shift
        cancelled = shift.status == "cancelled"
        if assignment.state == "cancelled" and not _cancelled_with_shift(assignment):
            continue  # the volunteer withdrew before the shift was cancelled
        events.append((assignment, "CANCELLED" if cancelled else "CONFIRMED"))
    return events


def _cancelled_with_shift(assignment: Assignment) -> bool:
    """The assignment was cancelled by the shift's cancellation (not withdrawn earlier)."""
    cancelled_at = assignment.shift.cancelled_at
    changed = assignment.state_changed_at
    if cancelled_at is None or changed is None:
        return True
    return changed >= cancelled_at - timedelta(minutes=1)


def build_calendar(user: User, now: datetime | None = None) -> bytes:
    """The volunteer's feed as iCalendar bytes, in their language."""
    now = now or utcnow()
    locale = user.locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "ar")
    host = current_app.config.get("CALENDAR_UID_DOMAIN") or "volunteer-matching"
    cal = Calendar()
    cal.add("prodid", "-//volunteer-matching//shifts//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    with force_locale(locale):
        cal.add("x-wr-calname", _("My volunteer shifts"))
        cancelled_note = _("This shift was cancelled.")
    cal.add("x-published-ttl", "PT1H")
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for assignment, status in feed_events(user, now):
        shift = assignment.shift
        institution = shift.institution
        opportunity = shift.opportunity
        event = Event()
        event.add("uid", f"shift-{shift.id}-volunteer-{user.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.starts_at.astimezone(UTC))
        event.add("dtend", shift.ends_at.astimezone(UTC))
        event.add("summary", _pick(locale, opportunity.title_ar, opportunity.title_en))
        place = _pick(locale, institution.name_ar, institution.name_en)
        address = _pick(locale, institution.address_ar, institution.address_en)
        event.add("location", ", ".join(p for p in (place, address) if p))
        if institution.lat is not None and institution.lon is not None:
            event.add("geo", (institution.lat, institution.lon))
        notes = _pick(locale, shift.description_ar, shift.description_en)
        if status == "CANCELLED":
            notes = "\n".join(p for p in (str(cancelled_note), notes) if p)
        if notes:
            event.add("description", notes)
        event.add("status", status)
        event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
        # A cancelled shift gets a higher sequence, so clients replace their copy.
        event.add("sequence", 1 if status == "CANCELLED" else 0)
        cal.add_component(event)
    return cal.to_ical()
