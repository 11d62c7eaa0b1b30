"""Fixtures of the programme tests: a programme with one cohort, and weekly sessions."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

CAIRO = ZoneInfo("Africa/Cairo")


def next_monday(weeks: int = 1) -> date:
    from datetime import datetime

    today = datetime.now(CAIRO).date()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1))


@pytest.fixture
def world(factory):
    """A coordinator of Cairo, an institution there, a programme with a cohort and sessions."""
    from web.services import programmes

    coordinator = factory.user("coordinator")
    coordinator.governorates.append(factory.governorate("EG-C"))
    factory.db.session.commit()
    manager = factory.user("manager")
    institution = factory.institution(managers=(manager,))
    programme = programmes.create_programme(
        coordinator,
        programmes.ProgrammeInput(
            kind="choir",
            governorate_id=factory.governorate("EG-C").id,
            name_ar="كورال الأمل",
            name_en="Hope choir",
            institution_ids=(institution.id,),
        ),
    )
    cohort = programmes.create_cohort(
        coordinator,
        programme,
        programmes.CohortInput(
            name_ar="الدفعة الأولى",
            name_en="First cohort",
            starts_on=next_monday() - timedelta(days=1),
            ends_on=next_monday() + timedelta(days=60),
            capacity=2,
        ),
    )
    series = programmes.add_sessions(
        coordinator,
        cohort,
        programmes.SessionInput(
            institution_id=institution.id,
            first_day=next_monday(),
            start=time(10),
            end=time(12),
            weeks=3,
            needed=2,
        ),
    )
    return {
        "coordinator": coordinator,
        "manager": manager,
        "institution": institution,
        "programme": programme,
        "cohort": cohort,
        "series": series,
    }
