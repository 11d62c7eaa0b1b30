"""Migrations: empty -> head on each backend equals the models; head -> base works; one head."""

from __future__ import annotations

import urllib.parse

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from tests.conftest import BACKENDS, TEST_DATABASE_URL, postgres_admin, sibling_database_url
from web.config import ROOT
from web.extensions import db


def _scratch_postgres_url() -> str:
    """A separate, empty PostgreSQL database beside the test database."""
    assert TEST_DATABASE_URL
    url = sibling_database_url(TEST_DATABASE_URL, "_migrations")
    scratch = urllib.parse.urlsplit(url).path.lstrip("/")
    with postgres_admin(TEST_DATABASE_URL) as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """An empty database of each backend under test (PostgreSQL when TEST_DATABASE_URL is set)."""
    if request.param == "postgresql":
        return _scratch_postgres_url()
    return f"sqlite:///{tmp_path}/migrations.sqlite"


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_one_linear_history():
    script = ScriptDirectory(str(ROOT / "migrations"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrade_matches_models_and_downgrades(empty_database_url):
    from tests.conftest import make_app

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        with db.engine.connect() as conn:
            governorates = conn.execute(sa.text("SELECT count(*) FROM governorate")).scalar()
            skills = conn.execute(sa.text("SELECT count(*) FROM skill")).scalar()
        assert governorates == 27
        assert skills >= 10
        downgrade(revision="base")
        assert _tables(db.engine) <= {"alembic_version"}
        upgrade()
        assert "assignment" in _tables(db.engine)
        db.engine.dispose()
