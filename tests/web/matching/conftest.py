"""Fixtures of the matching-run tests: a small Cairo world with shifts and volunteers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


@dataclass
class World:
    """Institutions, shifts and volunteers the run tests share."""

    institution: Any
    far_institution: Any
    shift: Any
    second_shift: Any
    volunteers: list[Any]
    coordinator: Any
    cairo_coordinator: Any
    giza_coordinator: Any
    admin: Any


def day_after_tomorrow(hour: int = 8) -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


@pytest.fixture
def world(factory) -> World:
    cairo = factory.governorate("EG-C")
    giza = factory.governorate("EG-GZ")
    institution = factory.institution(lat=30.06, lon=31.25, governorate="EG-C")
    far = factory.institution(lat=31.20, lon=29.92, governorate="EG-ALX")
    shift = factory.shift(factory.opportunity(institution), start=day_after_tomorrow(8), needed=2)
    second = factory.shift(factory.opportunity(institution), start=day_after_tomorrow(13), needed=1)
    volunteers = [factory.volunteer(lat=30.05 + i * 0.001, lon=31.24) for i in range(3)]
    coordinator = factory.user("coordinator", national_scope=True)
    cairo_coordinator = factory.user("coordinator", governorates=[cairo])
    giza_coordinator = factory.user("coordinator", governorates=[giza])
    admin = factory.user("admin")
    return World(
        institution,
        far,
        shift,
        second,
        volunteers,
        coordinator,
        cairo_coordinator,
        giza_coordinator,
        admin,
    )
