"""Reference data: Egypt's governorates and the managed list of volunteer skills."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from web.extensions import db
from web.i18n import localized


class Governorate(db.Model):
    """One of Egypt's 27 governorates (seeded by a migration)."""

    __tablename__ = "governorate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)


class Skill(db.Model):
    """A skill from the managed list, with Arabic and English names."""

    __tablename__ = "skill"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        return localized(self.name_ar, self.name_en)
