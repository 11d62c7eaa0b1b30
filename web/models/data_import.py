"""Pending imports: a parsed CSV/Excel file kept between its preview and its confirmation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import UTCDateTime, utcnow
from web.models.user import User

IMPORT_KINDS = ("volunteers", "institutions", "shifts")


class DataImport(db.Model):
    """An uploaded file's rows (cleaned text per column), owned by its uploader, expiring."""

    __tablename__ = "data_import"
    __table_args__ = (
        CheckConstraint("kind IN ('volunteers', 'institutions', 'shifts')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    # [{"line": n, "values": {column: text}}, ...] in file order.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    owner: Mapped[User] = relationship()
