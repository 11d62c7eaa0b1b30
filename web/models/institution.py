"""Care institutions: orphanages, elderly homes, disability centres and others."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.i18n import localized
from web.models.base import UTCDateTime, utcnow
from web.models.user import institution_manager

if TYPE_CHECKING:
    from web.models.opportunity import Opportunity
    from web.models.reference import Governorate
    from web.models.user import User

INSTITUTION_KINDS = ("orphanage", "elderly_home", "disability_centre", "other")


class Institution(db.Model):
    """A care home with its place, zone and managers."""

    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('orphanage', 'elderly_home', 'disability_centre', 'other')",
            name="kind_known",
        ),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    governorate_id: Mapped[int] = mapped_column(ForeignKey("governorate.id"), index=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    address_ar: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Africa/Cairo")
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    governorate: Mapped[Governorate] = relationship()
    managers: Mapped[list[User]] = relationship(
        secondary=institution_manager, back_populates="managed_institutions", order_by="User.id"
    )
    opportunities: Mapped[list[Opportunity]] = relationship(
        back_populates="institution", order_by="Opportunity.id"
    )

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)

    @property
    def address(self) -> str:
        return localized(self.address_ar, self.address_en)
