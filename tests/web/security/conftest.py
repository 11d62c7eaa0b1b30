"""Fixtures of the security tests: extra apps with other settings, a snapshot of every table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa


@pytest.fixture
def other_app(database_url: str) -> Iterator[Any]:
    """``other_app(**config)``: a second app on the test database, its engine closed after."""
    from tests.conftest import make_app
    from web.extensions import db

    made = []

    def build(**overrides: Any):
        made.append(make_app(database_url, **overrides))
        return made[-1]

    yield build
    for extra in made:
        with extra.app_context():
            db.engine.dispose()


def snapshot() -> dict[str, int]:
    """Rows in every table (what "writes nothing" is checked against)."""
    from web.extensions import db

    db.session.expire_all()
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar_one()
    return counts
