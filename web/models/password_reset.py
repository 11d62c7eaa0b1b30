"""Password reset requests: a hashed single-use secret sent by SMS (a code) or email (a link)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from web.extensions import db
from web.models.base import UTCDateTime, utcnow

RESET_CHANNELS = ("sms", "email")


class PasswordReset(db.Model):
    """One "forgot password" request: only the secret's HMAC is stored; used once, then dead."""

    __tablename__ = "password_reset"
    __table_args__ = (CheckConstraint("channel IN ('sms', 'email')", name="channel_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    secret_hash: Mapped[str] = mapped_column(String(128), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
