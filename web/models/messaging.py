"""The SMS and WhatsApp outbox and inbox, phone verification codes and per-user contact settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from web.models.user import User

CHANNELS = ("sms", "whatsapp")
MESSAGE_KINDS = (
    "verification",
    "offer",
    "replacement_offer",
    "confirmation",
    "cancellation",
    "withdrawal",
    "change",
    "reminder",
    "digest",
    "credential_expiry",
    "enrolment",
)
# Statuses of an outbound message. Ours: pending (waiting for its time), submitting (handed to
# the provider, answer not yet recorded), unconfirmed (submitting for too long and not found at
# the provider: never resent automatically), skipped (not sent: consent, quiet hours, moot),
# failed. The provider's: accepted, scheduled, queued, sending, sent, delivered, read,
# undelivered, failed.
OUTBOUND_STATUSES = (
    "pending",
    "submitting",
    "unconfirmed",
    "skipped",
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
)
# How far along each status is; status callbacks only ever move a message forward.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "submitting": 1,
    "unconfirmed": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "read": 6,
    "skipped": 7,
}
FINAL_STATUSES = frozenset({"delivered", "read", "undelivered", "failed", "skipped"})


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class OutboundMessage(db.Model):
    """One text to one number: written with the change that causes it, sent by the worker."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(OUTBOUND_STATUSES)})", name="status_known"),
        CheckConstraint(f"channel IN ({_in(CHANNELS)})", name="channel_known"),
        CheckConstraint(f"kind IN ({_in(MESSAGE_KINDS)})", name="kind_known"),
        CheckConstraint("locale IN ('ar', 'en')", name="locale_known"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment.id", ondelete="SET NULL"), index=True
    )
    to_number: Mapped[str] = mapped_column(String(40), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="ar")
    body: Mapped[str] = mapped_column(Text)
    # WhatsApp outside the 24-hour window: an approved template and its variables.
    template_sid: Mapped[str | None] = mapped_column(String(64))
    template_variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    # Same-day changes may be sent during quiet hours.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    status_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship()

    def move(self, status: str, **details: Any) -> None:
        """Set the status and append it, with when and why, to the history."""
        self.status = status
        entry = {"status": status, "at": utcnow().isoformat(timespec="seconds")}
        entry.update({k: v for k, v in details.items() if v is not None})
        self.status_history = [*(self.status_history or []), entry]


class InboundMessage(db.Model):
    """One text received from a number; the MessageSid makes a repeated webhook harmless."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    from_number: Mapped[str] = mapped_column(String(40), index=True)
    to_number: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment.id", ondelete="SET NULL")
    )
    intent: Mapped[str] = mapped_column(String(20), default="unknown")
    outcome: Mapped[str] = mapped_column(String(40), default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


class PhoneVerification(db.Model):
    """A code sent to a phone to prove the user holds it: expires, and allows few attempts."""

    __tablename__ = "phone_verification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessagingContact(db.Model):
    """Per-user messaging settings: channel, opt-out of staff, a number the provider refused."""

    __tablename__ = "messaging_contact"
    __table_args__ = (CheckConstraint(f"channel IN ({_in(CHANNELS)})", name="channel_known"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    # Staff have no volunteer profile: their opt-out (STOP) is kept here.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bad_number: Mapped[str | None] = mapped_column(String(20))
    bad_number_code: Mapped[str | None] = mapped_column(String(20))
    bad_number_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    whatsapp_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
