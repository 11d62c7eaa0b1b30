"""Shared fixtures: the app on SQLite and PostgreSQL (TEST_DATABASE_URL), clients, factories."""

from __future__ import annotations

import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner


def sibling_database_url(url: str, suffix: str) -> str:
    """The URL of the database ``<name><suffix>`` on the same server as ``url``."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/") or "test"
    return urllib.parse.urlunsplit(parts._replace(path="/" + name + suffix))


@contextmanager
def postgres_admin(url: str) -> Iterator[sa.Connection]:
    """An AUTOCOMMIT connection to ``url``, for statements that run outside a transaction
    (CREATE DATABASE, DROP SCHEMA); its engine is disposed afterwards."""
    from web.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def worker_database_url(url: str | None, worker: str | None) -> str | None:
    """The PostgreSQL database of one pytest-xdist worker: ``<name>_<worker>`` beside ``url``.

    Workers run at the same time, and every database test drops and recreates the public
    schema, so each worker has a database of its own; a run without workers uses ``url``.
    A worker's child processes inherit both variables: a URL that already names the worker's
    database is kept.
    """
    if not url or not worker:
        return url
    if urllib.parse.urlsplit(url).path.endswith("_" + worker):
        return url
    return sibling_database_url(url, "_" + worker)


CONFIGURED_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_DATABASE_URL = worker_database_url(
    CONFIGURED_DATABASE_URL, os.environ.get("PYTEST_XDIST_WORKER")
)
REFERENCE_TABLES = {"governorate", "skill", "credential_type", "alembic_version"}
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
PASSWORD = "correct horse battery"
_HASHES: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    """A real password hash, computed once per password per test run."""
    if password not in _HASHES:
        from werkzeug.security import generate_password_hash

        _HASHES[password] = generate_password_hash(password)
    return _HASHES[password]


ALL_WEEK = tuple((day, "08:00", "22:00") for day in range(7))


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, create the worker's database and point every test at it."""
    if TEST_DATABASE_URL and TEST_DATABASE_URL != CONFIGURED_DATABASE_URL:
        assert CONFIGURED_DATABASE_URL
        name = urllib.parse.urlsplit(TEST_DATABASE_URL).path.lstrip("/")
        with postgres_admin(CONFIGURED_DATABASE_URL) as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # Modules and child processes that read the environment get the worker's database
        # (a child that imports this module keeps it: worker_database_url is idempotent).
        os.environ["TEST_DATABASE_URL"] = TEST_DATABASE_URL


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema of the test database (fails loudly if unreachable)."""
    with postgres_admin(url) as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


def backend_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        assert TEST_DATABASE_URL
        reset_postgres(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


def make_app(database_url: str, **overrides: Any) -> Flask:
    from web import create_app

    config = {
        "TESTING": True,
        "APP_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        # Uploaded files go to a folder of the test run, never the checkout's instance folder.
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="uploads-"),
    }
    config.update(overrides)
    app = create_app(config)
    app.before_request(_forget_previous_request)
    return app


def _forget_previous_request() -> None:
    """Drop what the extensions cached on ``g`` during an earlier request of the same test.

    The ``app`` fixture keeps one application context pushed for the whole test, and Flask reuses
    it for every test-client request, so ``g`` (where Flask-Login keeps the current user and
    Flask-Babel the locale) would outlive a request; in production each request has its own.
    """
    from flask import g
    from flask_babel import refresh

    g.pop("_login_user", None)
    refresh()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: ``sqlite`` always, ``postgresql`` when configured."""
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return backend_url(backend, tmp_path_factory)


@pytest.fixture(scope="session")
def migrated_app(database_url: str) -> Iterator[Flask]:
    """An app whose database has been upgraded to head once per backend."""
    from flask_migrate import upgrade

    app = make_app(database_url)
    with app.app_context():
        upgrade()
    yield app
    from web.extensions import db

    with app.app_context():
        db.engine.dispose()


def clean_database(app: Flask) -> None:
    """Remove every row but the reference data the migrations seed."""
    from web.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
        with db.engine.begin() as conn:
            for table in reversed(tables):
                conn.execute(table.delete())
            if conn.dialect.name == "postgresql":
                # DELETE and a sequence restart: ten times faster than TRUNCATE on small tables.
                sequences = conn.scalars(
                    sa.text(
                        "SELECT sequence_name FROM information_schema.sequences "
                        "WHERE sequence_schema = 'public'"
                    )
                ).all()
                keep = {f"{name}_id_seq" for name in REFERENCE_TABLES}
                for name in sorted(set(sequences) - keep):
                    conn.execute(sa.text(f'ALTER SEQUENCE public."{name}" RESTART'))


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The app with a clean database and an application context pushed."""
    clean_database(migrated_app)
    with migrated_app.app_context():
        yield migrated_app
        from web.extensions import db

        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class Factory:
    """Builds domain rows directly for tests (the services are tested through their own API)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    @property
    def db(self):
        from web.extensions import db

        return db

    def governorate(self, code: str = "EG-C"):
        from web.models import Governorate

        return self.db.session.execute(
            sa.select(Governorate).where(Governorate.code == code)
        ).scalar_one()

    def skill(self, code: str = "tutoring"):
        from web.models import Skill

        return self.db.session.execute(sa.select(Skill).where(Skill.code == code)).scalar_one()

    def user(self, role: str = "volunteer", commit: bool = True, **kw: Any):
        from web.models import User

        n = self._next()
        user = User(
            full_name=kw.pop("full_name", f"Test {role} {n}"),
            email=kw.pop("email", f"{role}{n}@example.org"),
            phone=kw.pop("phone", f"+2010{n:08d}"),
            role=role,
            phone_verified=kw.pop("phone_verified", True),
            locale=kw.pop("locale", None),
            **kw,
        )
        user.password_hash = password_hash()  # one real hash per run: scrypt takes ~0.5 s
        self.db.session.add(user)
        if commit:
            self.db.session.commit()
        return user

    def volunteer(
        self,
        *,
        gender: str = "female",
        age: int = 25,
        governorate: str = "EG-C",
        lat: float = 30.05,
        lon: float = 31.24,
        radius: float = 25.0,
        skills: tuple[str, ...] = (),
        availability: tuple[tuple[int, str, str], ...] = ALL_WEEK,
        max_shifts: int | None = None,
        max_hours: float | None = None,
        languages: tuple[str, ...] = ("ar",),
        **user_kw: Any,
    ):
        from web.models import AvailabilityRule, VolunteerProfile

        user = self.user("volunteer", commit=False, **user_kw)
        today = date.today()
        profile = VolunteerProfile(
            user=user,
            gender=gender,
            date_of_birth=date(today.year - age, 1, 1) if today >= date(today.year, 1, 1) else None,
            governorate=self.governorate(governorate),
            home_lat=lat,
            home_lon=lon,
            travel_radius_km=radius,
            max_shifts_per_week=max_shifts,
            max_hours_per_week=max_hours,
            languages=list(languages),
            sms_consent=True,
            skills=[self.skill(code) for code in skills],
        )
        for weekday, start, end in availability:
            profile.availability_rules.append(
                AvailabilityRule(
                    weekday=weekday,
                    start_time=time.fromisoformat(start),
                    end_time=time.fromisoformat(end),
                )
            )
        self.db.session.add(profile)
        self.db.session.commit()
        return user

    def institution(self, *, managers: tuple = (), governorate: str = "EG-C", **kw: Any):
        from web.models import Institution

        n = self._next()
        institution = Institution(
            kind=kw.pop("kind", "orphanage"),
            governorate=self.governorate(governorate),
            name_ar=kw.pop("name_ar", f"دار الأمل {n}"),
            name_en=kw.pop("name_en", f"Dar Al Amal {n}"),
            address_ar=kw.pop("address_ar", "شارع النيل"),
            address_en=kw.pop("address_en", "Nile Street"),
            lat=kw.pop("lat", 30.06),
            lon=kw.pop("lon", 31.25),
            **kw,
        )
        institution.managers.extend(managers)
        self.db.session.add(institution)
        self.db.session.commit()
        return institution

    def opportunity(self, institution: Any = None, **kw: Any):
        from web.models import Opportunity

        institution = institution or self.institution()
        n = self._next()
        opportunity = Opportunity(
            institution=institution,
            title_ar=kw.pop("title_ar", f"تدريس أسبوعي {n}"),
            title_en=kw.pop("title_en", f"Weekly tutoring {n}"),
            description_ar=kw.pop("description_ar", "مساعدة الأطفال في المذاكرة"),
            description_en=kw.pop("description_en", "Help children with homework"),
            status=kw.pop("status", "open"),
            **kw,
        )
        self.db.session.add(opportunity)
        self.db.session.commit()
        return opportunity

    def shift(
        self,
        opportunity: Any = None,
        *,
        start: datetime | None = None,
        hours: float = 3,
        needed: int = 3,
        skills: dict[str, int] | None = None,
        **kw: Any,
    ):
        from web.models import Shift, ShiftSkillRequirement

        opportunity = opportunity or self.opportunity()
        if start is None:
            start = (datetime.now(UTC) + timedelta(days=2)).replace(
                hour=8, minute=0, second=0, microsecond=0
            )
        skills = skills or {}
        reserved = {code: self.skill(code) for code in skills}  # looked up before autoflush
        shift = Shift(
            opportunity=opportunity,
            institution_id=opportunity.institution_id,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            needed=needed,
            open_places=needed - sum(skills.values()),
            open_taken=0,
            **kw,
        )
        for code, places in skills.items():
            shift.requirements.append(ShiftSkillRequirement(skill=reserved[code], places=places))
        self.db.session.add(shift)
        self.db.session.commit()
        return shift


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


def login(client: FlaskClient, user: Any, password: str = PASSWORD) -> None:
    """Log a user in through Flask-Login's session (the login form is tested on its own)."""
    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        # The identifier "strong" session protection expects (else the login is discarded).
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()  # "<id>.<session_version>" (User.get_id)
        session["_fresh"] = True
        session["_id"] = identifier


@pytest.fixture
def login_as(client: FlaskClient):
    """``login_as(user)`` logs the test client in as that user."""

    def _login(user: Any) -> FlaskClient:
        login(client, user)
        return client

    return _login


def csrf_token_from(html: str) -> str:
    """Pull the CSRF token out of a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)


@pytest.fixture
def race_app(migrated_app: Flask, database_url: str) -> Iterator[Flask]:
    """An app of its own with a pool big enough for racing threads, on a clean database."""
    from web.extensions import db

    clean_database(migrated_app)
    options = {"pool_pre_ping": True, "pool_size": 20, "max_overflow": 5, "pool_timeout": 60}
    app = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    clean_database(migrated_app)


@pytest.fixture
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A few pbkdf2 rounds instead of scrypt: same API, milliseconds instead of 0.2 s a hash."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from web.services import accounts

    fast = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("web.models.user.generate_password_hash", fast)
    monkeypatch.setattr("web.services.accounts.generate_password_hash", fast)
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="write the browser tests' page screenshots to docs/screenshots/",
    )
