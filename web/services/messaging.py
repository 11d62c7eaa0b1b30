"""The outbox: what to tell whom, in their language, when (consent, quiet hours), and sending it."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date, format_datetime
from flask import current_app, g
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _

from web.extensions import db
from web.models import (
    Assignment,
    Institution,
    MessagingContact,
    OutboundMessage,
    PhoneVerification,
    Shift,
    User,
    utcnow,
)
from web.models.messaging import FINAL_STATUSES, STATUS_RANK
from web.services import audit
from web.services.matching_problem import parse_key
from web.services.shifts import shift_cancelled, shift_changed
from web.services.sms_backends import PERMANENT_CODES, TRANSIENT_CODES, SendError, get_backend

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCALES = ("ar", "en")
QUIET_START = time(22, 0)
QUIET_END = time(8, 0)
VERIFICATION_MINUTES = 10
VERIFICATION_MAX_ATTEMPTS = 5
VERIFICATION_RESEND_SECONDS = 60
SUBMIT_RECONCILE_AFTER = timedelta(minutes=3)
# Kinds about a change to a shift: these may break quiet hours on the day of the shift.
CHANGE_KINDS = frozenset(
    {"offer", "replacement_offer", "confirmation", "cancellation", "withdrawal", "change"}
)
NAME_MAX = 28
ADDRESS_MAX = 40

# --- segments -----------------------------------------------------------------------------------

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """How a text travels: its encoding, its length in that encoding and the parts it needs."""

    encoding: str
    units: int
    segments: int


def count_segments(text: str) -> Segments:
    """GSM-7 (160 alone, 153 per part) or UCS-2 (70 alone, 67 per part; Arabic is UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP count twice
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / part)
    return Segments(encoding, units, segments)


def cost_estimate(message: OutboundMessage) -> float:
    """Segments times the configured price of one segment."""
    return round(message.segments * float(current_app.config.get("SMS_SEGMENT_PRICE", 0.1)), 4)


# --- rendering in the recipient's language ------------------------------------------------------


def recipient_locale(user: User | None) -> str:
    return user.locale if user is not None and user.locale in LOCALES else "ar"


def short(text: str | None, limit: int) -> str:
    """Cut a value so a message stays short; an ellipsis marks the cut."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_when(moment: datetime, zone_name: str, locale: str) -> str:
    """A shift's start as a short day, date and time in the institution's zone."""
    return format_datetime(moment, "EEE d MMM HH:mm", tzinfo=ZoneInfo(zone_name), locale=locale)


def _pick(locale: str, text_ar: str | None, text_en: str | None) -> str:
    if locale == "en":
        return text_en or text_ar or ""
    return text_ar or text_en or ""


def shift_values(shift: Shift, locale: str) -> dict[str, str]:
    """The values message templates use about a shift, in one language."""
    institution: Institution = shift.institution
    return {
        "place": short(_pick(locale, institution.name_ar, institution.name_en), NAME_MAX),
        "when": format_when(shift.starts_at, institution.timezone, locale),
        "address": short(
            _pick(locale, institution.address_ar, institution.address_en), ADDRESS_MAX
        ),
        "starts_at": shift.starts_at.isoformat(),
    }


def _t_offer(v: dict[str, Any]) -> str:
    return _(
        "%(place)s, %(when)s: a place for you. Reply YES to accept, NO to decline.",
        place=v["place"],
        when=v["when"],
    )


def _t_replacement(v: dict[str, Any]) -> str:
    return _(
        "Urgent: a place freed at %(place)s, %(when)s. Reply YES to take it, NO to pass.",
        place=v["place"],
        when=v["when"],
    )


def _t_confirmation(v: dict[str, Any]) -> str:
    return _("Confirmed: %(place)s, %(when)s. Thank you!", place=v["place"], when=v["when"])


def _t_cancellation(v: dict[str, Any]) -> str:
    return _(
        "Cancelled: the shift at %(place)s, %(when)s. We are sorry for the change.",
        place=v["place"],
        when=v["when"],
    )


def _t_withdrawal(v: dict[str, Any]) -> str:
    return _(
        "The offer for %(place)s, %(when)s was withdrawn. No need to reply. Thank you.",
        place=v["place"],
        when=v["when"],
    )


def _t_change(v: dict[str, Any]) -> str:
    return _(
        "Time changed: %(place)s is now %(when)s. Please tell us if you cannot come.",
        place=v["place"],
        when=v["when"],
    )


def _t_reminder(v: dict[str, Any]) -> str:
    return ngettext(
        "Reminder: in %(num)d hour, %(place)s (%(when)s). %(address)s",
        "Reminder: in %(num)d hours, %(place)s (%(when)s). %(address)s",
        int(v["hours"]),
        place=v["place"],
        when=v["when"],
        address=v["address"],
    )


def _t_digest(v: dict[str, Any]) -> str:
    return ngettext(
        "Next 7 days: %(num)d unfilled place in %(shifts)s shift(s). Details: %(url)s",
        "Next 7 days: %(num)d unfilled places in %(shifts)s shift(s). Details: %(url)s",
        int(v["places"]),
        shifts=v["shifts"],
        url=v["url"],
    )


def _t_verification(v: dict[str, Any]) -> str:
    return ngettext(
        "Your code is %(code)s. It expires in %(num)d minute. Do not share it.",
        "Your code is %(code)s. It expires in %(num)d minutes. Do not share it.",
        int(v["minutes"]),
        code=v["code"],
    )


def _t_credential_expiry(v: dict[str, Any]) -> str:
    locale = str(get_locale() or "ar")
    return ngettext(
        "Your %(name)s expires in %(num)d day (%(date)s). Add the renewed one on your "
        "credentials page.",
        "Your %(name)s expires in %(num)d days (%(date)s). Add the renewed one on your "
        "credentials page.",
        int(v["days"]),
        name=short(_pick(locale, v.get("name_ar"), v.get("name_en")), NAME_MAX + 12),
        date=format_date(date.fromisoformat(str(v["expires_on"])), "d MMM yyyy", locale=locale),
    )


def _t_enrolment(v: dict[str, Any]) -> str:
    decision = v.get("decision")
    programme = v.get("programme", "")
    if decision == "accepted":
        return _(
            "Welcome to %(programme)s: your application was accepted. Your sessions are in "
            "the app.",
            programme=programme,
        )
    if decision == "waitlisted":
        return _(
            "Your application to %(programme)s is on the waiting list. We will tell you if a "
            "place frees up.",
            programme=programme,
        )
    return _(
        "Your application to %(programme)s was not accepted this time. Thank you for applying.",
        programme=programme,
    )


TEMPLATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "offer": _t_offer,
    "replacement_offer": _t_replacement,
    "confirmation": _t_confirmation,
    "cancellation": _t_cancellation,
    "withdrawal": _t_withdrawal,
    "change": _t_change,
    "reminder": _t_reminder,
    "digest": _t_digest,
    "verification": _t_verification,
    "credential_expiry": _t_credential_expiry,
    "enrolment": _t_enrolment,
}


def in_locale(locale: str, produce: Callable[[], T]) -> T:
    """Run ``produce`` with the locale forced (also outside a request, e.g. in the worker)."""
    # Flask-Babel ignores force_locale while ``g`` is empty; give it something to hold.
    if not g:
        g._flask_babel = SimpleNamespace()
    with force_locale(locale):
        return produce()


def render(kind: str, locale: str, values: dict[str, Any]) -> str:
    """The text of a message kind in one language."""
    return str(in_locale(locale, lambda: TEMPLATES[kind](values)))


# --- who may be messaged -------------------------------------------------------------------------


def contact_for(user: User, *, create: bool = False) -> MessagingContact | None:
    contact = db.session.get(MessagingContact, user.id)
    if contact is None and create:
        contact = MessagingContact(user_id=user.id, channel="sms")
        db.session.add(contact)
    return contact


def blocked_reason(user: User | None, kind: str) -> str | None:
    """Why this user may not get this message now (None: they may)."""
    if user is None or not user.phone:
        return "no phone"
    if not user.active:
        return "inactive account"
    contact = db.session.get(MessagingContact, user.id)
    if contact is not None and contact.bad_number and contact.bad_number == user.phone:
        return f"number marked bad ({contact.bad_number_code})"
    profile = user.profile
    if profile is not None:
        if profile.sms_opted_out_at is not None:
            return "opted out"
        if kind != "verification" and not profile.sms_consent:
            return "no consent"
    elif contact is not None and contact.opted_out_at is not None:
        return "opted out"
    if kind != "verification" and user.role == "volunteer" and not user.phone_verified:
        return "phone not verified"
    return None


def user_zone(user: User | None) -> ZoneInfo:
    name = None
    if user is not None and user.profile is not None:
        name = user.profile.timezone
    return ZoneInfo(name or current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo"))


def quiet_until(now: datetime, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet hours (22:00-08:00 local) ``now`` falls in, or None."""
    local = now.astimezone(zone)
    if local.time() >= QUIET_START:
        day = local.date() + timedelta(days=1)
    elif local.time() < QUIET_END:
        day = local.date()
    else:
        return None
    return datetime.combine(day, QUIET_END, tzinfo=zone)


def is_same_day_change(kind: str, shift: Shift | None, now: datetime, zone: ZoneInfo) -> bool:
    """A change to a shift that starts today (or before the quiet hours end) may not wait."""
    if kind not in CHANGE_KINDS or shift is None:
        return False
    local_now = now.astimezone(zone)
    starts = shift.starts_at.astimezone(zone)
    end = quiet_until(now, zone)
    return starts.date() <= local_now.date() or (end is not None and shift.starts_at <= end)


# --- writing to the outbox -----------------------------------------------------------------------


def enqueue(
    user: User,
    kind: str,
    key: str,
    values: dict[str, Any],
    *,
    assignment: Assignment | None = None,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> OutboundMessage:
    """Add one message to the outbox in the caller's transaction; a known key returns the row."""
    existing = db.session.execute(
        sa.select(OutboundMessage).where(OutboundMessage.idempotency_key == key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    now = now or utcnow()
    locale = recipient_locale(user)
    body = render(kind, locale, values)
    seg = count_segments(body)
    contact = db.session.get(MessagingContact, user.id)
    shift = assignment.shift if assignment is not None else None
    row = OutboundMessage(
        idempotency_key=key,
        kind=kind,
        channel=contact.channel if contact is not None else "sms",
        user_id=user.id,
        assignment_id=assignment.id if assignment is not None else None,
        to_number=user.phone or "",
        locale=locale,
        body=body,
        template_variables={k: str(v) for k, v in values.items() if k != "code"},
        encoding=seg.encoding,
        segments=seg.segments,
        urgent=is_same_day_change(kind, shift, now, user_zone(user)),
        status="pending",
        status_history=[],
        due_at=due_at or now,
        attempts=0,
        created_at=now,
    )
    reason = blocked_reason(user, kind)
    if reason is not None:
        row.error_message = reason
        row.move("skipped", reason=reason)
    else:
        row.move("pending")
    db.session.add(row)
    return row


def _assignment_key(prefix: str, assignment: Assignment) -> str:
    return f"{prefix}:{assignment.id}:{int(assignment.state_changed_at.timestamp())}"


def queue_offer(assignment: Assignment, *, replacement: bool = False) -> OutboundMessage:
    """The offer text for an assignment that has just become ``offered``."""
    kind = "replacement_offer" if replacement else "offer"
    volunteer = assignment.volunteer
    values = shift_values(assignment.shift, recipient_locale(volunteer))
    return enqueue(
        volunteer, kind, _assignment_key("offer", assignment), values, assignment=assignment
    )


def queue_publish_messages(run: Any, published_at: datetime) -> int:
    """Offers for every assignment a run has just offered; notices for offers it withdrew.

    Called by ``runs.publish_run`` inside its transaction, after the offers are flushed.
    """
    replacement = run.trigger == "replacement"
    count = 0
    offered = db.session.scalars(
        sa.select(Assignment)
        .where(Assignment.run_id == run.id, Assignment.state == "offered")
        .order_by(Assignment.id)
    ).all()
    for assignment in offered:
        queue_offer(assignment, replacement=replacement)
        count += 1
    shift_ids = [parse_key(s["id"]) for s in (run.problem or {}).get("shifts", [])]
    if shift_ids and not replacement:
        withdrawn = db.session.scalars(
            sa.select(Assignment).where(
                Assignment.shift_id.in_(shift_ids),
                Assignment.state == "cancelled",
                Assignment.state_changed_at >= published_at - timedelta(seconds=1),
            )
        ).all()
        for assignment in withdrawn:
            told = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.assignment_id == assignment.id,
                    OutboundMessage.kind.in_(("offer", "replacement_offer")),
                    OutboundMessage.status != "skipped",
                )
            )
            if told:
                _queue_about(assignment, "withdrawal")
                count += 1
    return count


def _queue_about(assignment: Assignment, kind: str) -> OutboundMessage:
    volunteer = assignment.volunteer
    values = shift_values(assignment.shift, recipient_locale(volunteer))
    return enqueue(
        volunteer, kind, _assignment_key(kind, assignment), values, assignment=assignment
    )


def queue_confirmation(assignment: Assignment) -> OutboundMessage:
    """Tell a volunteer their place is confirmed (e.g. after answering on the web)."""
    return _queue_about(assignment, "confirmation")


def on_shift_cancelled(shift: Shift, assignments: Iterable[Assignment] = (), **_: Any) -> None:
    """Receiver of ``shifts.shift_cancelled``: a notice to everyone the cancellation removed."""
    for assignment in assignments:
        _queue_about(assignment, "cancellation")


def on_shift_changed(shift: Shift, before: dict[str, Any] | None = None, **_: Any) -> None:
    """Receiver of ``shifts.shift_changed``: when the start moved, tell everyone holding a place."""
    if before is None or before.get("starts_at") == shift.starts_at.isoformat():
        return
    holders = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.shift_id == shift.id, Assignment.state.in_(("offered", "confirmed"))
        )
    ).all()
    for assignment in holders:
        volunteer = assignment.volunteer
        values = shift_values(shift, recipient_locale(volunteer))
        key = f"change:{assignment.id}:{int(shift.starts_at.timestamp())}"
        enqueue(volunteer, "change", key, values, assignment=assignment)


def reminder_hours() -> list[int]:
    raw = str(current_app.config.get("SMS_REMINDER_HOURS", "24,2"))
    hours = sorted({int(part) for part in raw.replace(" ", "").split(",") if part}, reverse=True)
    return [h for h in hours if h > 0]


def ensure_reminders(assignment: Assignment, now: datetime | None = None) -> list[OutboundMessage]:
    """Reminder rows (24 h and 2 h before, by default) for a confirmed assignment; idempotent."""
    now = now or utcnow()
    shift = assignment.shift
    if assignment.state != "confirmed" or shift.status != "open" or shift.starts_at <= now:
        return []
    volunteer = assignment.volunteer
    rows = []
    for hours in reminder_hours():
        due = shift.starts_at - timedelta(hours=hours)
        if due <= now:
            continue
        values = {**shift_values(shift, recipient_locale(volunteer)), "hours": hours}
        key = f"reminder:{assignment.id}:{hours}h:{int(shift.starts_at.timestamp())}"
        rows.append(
            enqueue(volunteer, "reminder", key, values, assignment=assignment, due_at=due, now=now)
        )
    return rows


def queue_due_reminders(now: datetime | None = None) -> int:
    """Reminder rows for every confirmed assignment whose shift starts within the longest lead."""
    now = now or utcnow()
    hours = reminder_hours()
    if not hours:
        return 0
    horizon = now + timedelta(hours=max(hours) + 1)
    assignments = db.session.scalars(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.state == "confirmed",
            Shift.status == "open",
            Shift.starts_at > now,
            Shift.starts_at <= horizon,
        )
    ).all()
    created = 0
    for assignment in assignments:
        before = len(db.session.new)
        ensure_reminders(assignment, now)
        created += len(db.session.new) - before
    db.session.commit()
    return created


def queue_weekly_digests(now: datetime | None = None, base_url: str | None = None) -> int:
    """For each manager, the unfilled places of their institutions in the next 7 days."""
    from web.models.user import institution_manager

    now = now or utcnow()
    week = now.astimezone(ZoneInfo("Africa/Cairo")).strftime("%G-W%V")
    base = (base_url or current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    url = f"{base}/manage" if base else "/manage"
    managers = db.session.scalars(
        sa.select(User).where(User.role == "manager", User.active.is_(True)).order_by(User.id)
    ).all()
    created = 0
    for manager in managers:
        shifts = db.session.scalars(
            sa.select(Shift)
            .join(
                institution_manager,
                institution_manager.c.institution_id == Shift.institution_id,
            )
            .where(
                institution_manager.c.user_id == manager.id,
                Shift.status == "open",
                Shift.starts_at > now,
                Shift.starts_at <= now + timedelta(days=7),
            )
        ).all()
        short_of = [s for s in shifts if s.free > 0]
        if not short_of:
            continue
        values = {"places": sum(s.free for s in short_of), "shifts": len(short_of), "url": url}
        before = len(db.session.new)
        enqueue(manager, "digest", f"digest:{manager.id}:{week}", values, now=now)
        created += len(db.session.new) - before
    db.session.commit()
    return created


# --- phone verification --------------------------------------------------------------------------


class MessagingError(Exception):
    """A request about messages that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class VerificationError(MessagingError):
    """A code cannot be sent or is not right."""


def _code_hash(user_id: int, code: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def latest_verification(user: User) -> PhoneVerification | None:
    return db.session.scalars(
        sa.select(PhoneVerification)
        .where(PhoneVerification.user_id == user.id)
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc())
        .limit(1)
    ).first()


def send_verification_code(user: User, now: datetime | None = None) -> PhoneVerification:
    """Write a new 6-digit code (the previous one stops working) and its message, one commit."""
    now = now or utcnow()
    if not user.phone:
        raise VerificationError(_("Your account has no phone number."))
    if user.phone_verified:
        raise VerificationError(_("Your phone number is already verified."), status=409)
    previous = latest_verification(user)
    if previous is not None and (now - previous.created_at).total_seconds() < (
        VERIFICATION_RESEND_SECONDS
    ):
        raise VerificationError(
            _("A code was sent less than a minute ago. Please wait before asking again."),
            status=429,
        )
    reason = blocked_reason(user, "verification")
    if reason is not None:
        raise VerificationError(
            _("We cannot send messages to this number. If you replied STOP, reply START first."),
            status=409,
        )
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification(
        user_id=user.id,
        phone=user.phone,
        code_hash=_code_hash(user.id, code),
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(minutes=VERIFICATION_MINUTES),
    )
    db.session.add(verification)
    db.session.flush()
    enqueue(
        user,
        "verification",
        f"verification:{verification.id}",
        {"code": code, "minutes": VERIFICATION_MINUTES},
        now=now,
    )
    audit.record(user, "phone.code_sent", "user", user.id)
    db.session.commit()
    return verification


def check_verification_code(user: User, code: str, now: datetime | None = None) -> None:
    """Mark the phone verified if ``code`` is the latest code, in time and within the attempts."""
    from web.i18n import ascii_digits

    now = now or utcnow()
    verification = latest_verification(user)
    if verification is None or verification.verified_at is not None:
        raise VerificationError(_("Ask for a code first."))
    if verification.phone != user.phone:
        raise VerificationError(_("Your phone number changed. Ask for a new code."))
    if verification.expires_at <= now:
        raise VerificationError(_("This code has expired. Ask for a new one."))
    if verification.attempts >= VERIFICATION_MAX_ATTEMPTS:
        raise VerificationError(_("Too many wrong codes. Ask for a new one."), status=429)
    typed = "".join(ascii_digits(code or "").split())
    verification.attempts += 1
    if not hmac.compare_digest(_code_hash(user.id, typed), verification.code_hash):
        audit.record(user, "phone.code_wrong", "user", user.id, attempt=verification.attempts)
        db.session.commit()
        raise VerificationError(_("This code is not right."))
    verification.verified_at = now
    user.phone_verified = True
    audit.record(user, "phone.verified", "user", user.id)
    db.session.commit()


# --- sending ------------------------------------------------------------------------------------


def _status_callback_url(message: OutboundMessage) -> str | None:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return None
    return f"{base.rstrip('/')}/sms/status?m={message.id}"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min... at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _still_relevant(message: OutboundMessage, now: datetime) -> str | None:
    """Why a message no longer makes sense (None: send it)."""
    if message.kind == "verification":
        verification_id = int(message.idempotency_key.split(":")[1])
        verification = db.session.get(PhoneVerification, verification_id)
        if verification is None or verification.expires_at <= now:
            return "code expired"
        return None
    if message.assignment_id is None:
        return None
    assignment = db.session.get(Assignment, message.assignment_id)
    if assignment is None:
        return "assignment gone"
    shift = assignment.shift
    if message.kind in ("offer", "replacement_offer"):
        if assignment.state != "offered" or shift.status != "open" or shift.starts_at <= now:
            return "offer no longer open"
    elif message.kind == "change":
        if assignment.state not in ("offered", "confirmed") or shift.status != "open":
            return "no longer on the shift"
    elif message.kind in ("reminder", "confirmation"):
        if assignment.state != "confirmed" or shift.status != "open" or shift.starts_at <= now:
            return "no longer confirmed"
        started = (message.template_variables or {}).get("starts_at")
        if message.kind == "reminder" and started != shift.starts_at.isoformat():
            return "shift moved"
    return None


def _whatsapp_template(message: OutboundMessage, contact: MessagingContact | None, now: datetime):
    """For WhatsApp outside the 24-hour window: the approved template, or None."""
    if (
        contact is not None
        and contact.whatsapp_inbound_at is not None
        and (now - contact.whatsapp_inbound_at < timedelta(hours=24))
    ):
        return None, False
    templates = current_app.config.get("TWILIO_WHATSAPP_TEMPLATES") or {}
    spec = templates.get(message.kind)
    if not spec:
        return None, True
    sid = spec.get(message.locale) or spec.get("sid")
    names = spec.get("variables", [])
    values = message.template_variables or {}
    variables = {str(i + 1): str(values.get(name, "")) for i, name in enumerate(names)}
    return (sid, variables), True


def prepare(message: OutboundMessage, now: datetime) -> str | None:
    """Check a due message once more just before it goes; returns why it must not go now."""
    user = message.user
    reason = blocked_reason(user, message.kind)
    if reason is not None:
        message.error_message = reason
        message.move("skipped", reason=reason)
        return "skipped"
    reason = _still_relevant(message, now)
    if reason is not None:
        message.error_message = reason
        message.move("skipped", reason=reason)
        return "skipped"
    if message.kind != "verification":
        zone = user_zone(user)
        end = quiet_until(now, zone)
        shift = None
        if message.assignment_id is not None:
            assignment = db.session.get(Assignment, message.assignment_id)
            shift = assignment.shift if assignment is not None else None
        if end is not None and not (
            message.urgent or is_same_day_change(message.kind, shift, now, zone)
        ):
            if shift is not None and message.kind == "reminder" and end >= shift.starts_at:
                message.error_message = "quiet hours until the shift starts"
                message.move("skipped", reason="quiet hours")
                return "skipped"
            message.next_attempt_at = end.astimezone(now.tzinfo)
            message.status_history = [
                *(message.status_history or []),
                {
                    "status": "pending",
                    "at": now.isoformat(timespec="seconds"),
                    "reason": "quiet hours",
                    "until": end.isoformat(timespec="minutes"),
                },
            ]
            return "deferred"
    if message.channel == "whatsapp" and user is not None:
        template, outside = _whatsapp_template(message, contact_for(user), now)
        if outside and template is None:
            message.channel = "sms"
            message.status_history = [
                *(message.status_history or []),
                {
                    "status": "pending",
                    "at": now.isoformat(timespec="seconds"),
                    "reason": "no WhatsApp template outside the 24-hour window: sent by SMS",
                },
            ]
        elif template is not None:
            message.template_sid = template[0]
            message.template_variables = {
                **(message.template_variables or {}),
                "_content": template[1],
            }
    return None


def mark_bad_number(message: OutboundMessage, code: str | None, now: datetime) -> None:
    """Stop writing to a number the provider says is invalid, not mobile or unsubscribed."""
    if message.user is None:
        return
    contact = contact_for(message.user, create=True)
    contact.bad_number = message.to_number.removeprefix("whatsapp:")
    contact.bad_number_code = code
    contact.bad_number_at = now
    audit.record(None, "sms.number_marked_bad", "user", message.user_id, code=code)
    if code == "21610" and message.user.profile is not None:
        message.user.profile.sms_opted_out_at = message.user.profile.sms_opted_out_at or now


def due_message_ids(now: datetime, limit: int = 50) -> list[int]:
    when = sa.func.coalesce(OutboundMessage.next_attempt_at, OutboundMessage.due_at)
    return list(
        db.session.scalars(
            sa.select(OutboundMessage.id)
            .where(OutboundMessage.status == "pending", when <= now)
            .order_by(when, OutboundMessage.id)
            .limit(limit)
        )
    )


def send_one(message_id: int, now: datetime | None = None) -> str:
    """Send one due message: check, claim (committed), call the provider, record. Never twice."""
    now = now or utcnow()
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.status != "pending":
        return "gone"
    outcome = prepare(message, now)
    if outcome is not None:
        db.session.commit()
        return outcome
    backend = get_backend()  # a configuration error stops here, before anything is claimed
    # Claim: only one worker moves the row out of pending; the commit is made before the
    # provider is called, so a crash after the call leaves it 'submitting', never 'pending'.
    claimed = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.status == "pending")
        .values(
            status="submitting",
            attempts=OutboundMessage.attempts + 1,
            submitted_at=now,
            channel=message.channel,
            template_sid=message.template_sid,
            template_variables=message.template_variables,
            status_history=[
                *(message.status_history or []),
                {
                    "status": "submitting",
                    "at": now.isoformat(timespec="seconds"),
                    "attempt": message.attempts + 1,
                },
            ],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return "taken"
    db.session.refresh(message)
    try:
        result = backend.send(message, _status_callback_url(message))
    except SendError as exc:
        return _record_failure(message, exc, now)
    except Exception as exc:  # unknown: the request may have gone out; never resend blindly
        log.exception("sending message %s failed unexpectedly", message.id)
        message.error_code = "error"
        message.error_message = f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        return "uncertain"
    message.provider_sid = result.sid
    message.error_code = None
    message.error_message = None
    if message.kind == "verification":  # the code is kept only as a hash once it has gone
        message.body = re.sub(r"\d{6}", "******", message.body)
    message.move(result.status, sid=result.sid, backend=backend.name)
    db.session.commit()
    return result.status


def _record_failure(message: OutboundMessage, exc: SendError, now: datetime) -> str:
    message.error_code = exc.code
    message.error_message = exc.message[:500]
    max_attempts = int(current_app.config.get("SMS_MAX_ATTEMPTS", 5))
    if exc.kind == "permanent":
        message.move("failed", code=exc.code, reason="permanent")
        mark_bad_number(message, exc.code, now)
    elif exc.kind == "transient" and message.attempts < max_attempts:
        message.next_attempt_at = now + backoff(message.attempts)
        message.move(
            "pending",
            code=exc.code,
            reason="transient",
            retry_at=message.next_attempt_at.isoformat(timespec="seconds"),
        )
    elif exc.kind == "uncertain":
        # Stays 'submitting': reconcile_submitting looks it up later; it is never resent blindly.
        message.status_history = [
            *(message.status_history or []),
            {
                "status": "submitting",
                "at": now.isoformat(timespec="seconds"),
                "code": exc.code,
                "reason": "no answer from the provider",
            },
        ]
        db.session.commit()
        return "uncertain"
    else:
        message.move("failed", code=exc.code, reason=exc.kind)
    db.session.commit()
    return message.status


def send_due(now: datetime | None = None, limit: int = 50) -> dict[str, int]:
    """Send every due message (one claim each); safe to run in several places at once."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for message_id in due_message_ids(now, limit):
        outcome = send_one(message_id, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def reconcile_submitting(now: datetime | None = None) -> dict[str, int]:
    """Rows left 'submitting' (a crash or timeout): look them up; if not found, surface them."""
    now = now or utcnow()
    rows = db.session.scalars(
        sa.select(OutboundMessage).where(
            OutboundMessage.status == "submitting",
            OutboundMessage.submitted_at <= now - SUBMIT_RECONCILE_AFTER,
        )
    ).all()
    counts = {"found": 0, "unconfirmed": 0}
    backend = get_backend() if rows else None
    for message in rows:
        try:
            found = backend.lookup(message) if backend is not None else None
        except Exception:  # the lookup failing is no reason to resend
            log.exception("looking up message %s failed", message.id)
            continue
        if found is not None:
            message.provider_sid = found.sid
            message.move(found.status, sid=found.sid, reason="found at the provider")
            counts["found"] += 1
        else:
            message.move("unconfirmed", reason="not found at the provider; resend by hand")
            counts["unconfirmed"] += 1
    db.session.commit()
    return counts


def record_status(params: dict[str, str], message_hint: int | None = None) -> str:
    """Apply a status callback: only ever forward; late, repeated or unknown ones are harmless."""
    now = utcnow()
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    code = params.get("ErrorCode") or None
    if not sid or status not in STATUS_RANK:
        return "ignored"
    message = db.session.execute(
        sa.select(OutboundMessage).where(OutboundMessage.provider_sid == sid)
    ).scalar_one_or_none()
    if message is None and message_hint is not None:
        candidate = db.session.get(OutboundMessage, message_hint)
        earlier_sids = (
            {e.get("sid") for e in (candidate.status_history or [])} if candidate else set()
        )
        if (
            candidate is not None
            and candidate.provider_sid is None
            and candidate.status in ("submitting", "unconfirmed")
            and sid not in earlier_sids
        ):
            message = candidate
            message.provider_sid = sid
    if message is None:
        return "unknown"
    if STATUS_RANK[status] <= STATUS_RANK.get(message.status, 0) or message.status in (
        FINAL_STATUSES - {"delivered"}
    ):
        db.session.commit()
        return "ignored"
    message.move(status, code=code, sid=sid, source="callback")
    if status in ("failed", "undelivered") and code:
        message.error_code = code
        max_attempts = int(current_app.config.get("SMS_MAX_ATTEMPTS", 5))
        if code in PERMANENT_CODES:
            mark_bad_number(message, code, now)
        elif code in TRANSIENT_CODES and message.attempts < max_attempts:
            # Not delivered by the network: try again later with a new provider message.
            message.provider_sid = None
            message.next_attempt_at = now + backoff(message.attempts)
            message.move("pending", reason="transient delivery error", code=code)
    db.session.commit()
    return message.status


def resend(message: OutboundMessage, actor: User | None) -> None:
    """An admin sends a failed, skipped or unconfirmed message again (a new attempt)."""
    if message.status not in ("failed", "undelivered", "unconfirmed", "skipped"):
        raise MessagingError(
            _("Only failed, undelivered, unconfirmed or skipped messages can be sent again."),
            status=409,
        )
    now = utcnow()
    message.provider_sid = None
    message.next_attempt_at = now
    message.error_code = None
    message.move("pending", reason="resent by an admin", by=getattr(actor, "id", None))
    audit.record(actor, "sms.resend", "outbound_message", message.id)
    db.session.commit()


shift_cancelled.connect(on_shift_cancelled)
shift_changed.connect(on_shift_changed)
