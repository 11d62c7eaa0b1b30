"""`flask demo`: migrations, idempotent deterministic demo data, printed logins, serving."""

import os
import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from web import demo_data
from web.models import (
    HOLDING_STATES,
    INSTITUTION_KINDS,
    Assignment,
    Institution,
    Opportunity,
    Shift,
    ShiftSeries,
    ShiftSkillRequirement,
    User,
)


def check_demo_data(db) -> None:
    """The demo data's promises: variety, scopes, and counters that match the assignments."""
    session = db.session
    institutions = session.scalars(sa.select(Institution)).all()
    assert len(institutions) >= 12
    assert {i.kind for i in institutions} == set(INSTITUTION_KINDS)
    codes = {i.governorate.code for i in institutions}
    assert {"EG-C", "EG-GZ", "EG-ALX", "EG-KB", "EG-DK", "EG-AST"} <= codes
    assert all(i.name_ar and i.name_en and i.address_ar and i.address_en for i in institutions)
    assert all(i.managers for i in institutions)
    assert all(o.title_ar and o.title_en for o in session.scalars(sa.select(Opportunity)))
    roles = Counter(session.scalars(sa.select(User.role)))
    assert roles["volunteer"] == demo_data.VOLUNTEERS
    assert roles["manager"] >= 10 and roles["coordinator"] == 2 and roles["admin"] == 1
    by_email = {u.email: u for u in session.scalars(sa.select(User))}
    national = by_email[f"coordinator@{demo_data.DOMAIN}"]
    cairo = by_email[f"cairo.coordinator@{demo_data.DOMAIN}"]
    assert national.governorate_ids() is None
    assert [g.code for g in cairo.governorates] == ["EG-C"]
    volunteers = session.scalars(sa.select(User).where(User.role == "volunteer")).all()
    assert {v.profile.gender for v in volunteers} == {"female", "male"}
    assert all(v.profile.availability_rules and v.profile.skills for v in volunteers)
    assert session.scalar(sa.select(sa.func.count(ShiftSeries.id))) > 0
    assert session.scalar(sa.select(sa.func.count(ShiftSkillRequirement.id))) > 0
    assert {s.gender for s in session.scalars(sa.select(Shift))} == {"any", "female", "male"}

    holding = session.scalars(sa.select(Assignment).where(Assignment.state.in_(HOLDING_STATES)))
    held = Counter((a.shift_id, a.position_skill_id) for a in holding)
    assert sum(held.values()) > 30
    for shift in session.scalars(sa.select(Shift)):
        assert shift.open_taken == held[(shift.id, None)] <= shift.open_places
        for requirement in shift.requirements:
            assert requirement.taken == held[(shift.id, requirement.skill_id)]
            assert requirement.taken <= requirement.places
        for assignment in shift.assignments:
            if shift.gender != "any" and assignment.holds_place:
                assert assignment.volunteer.profile.gender == shift.gender


def test_demo_data_loads_once_on_each_backend(app):
    from web.extensions import db

    summary = demo_data.load()
    assert summary.created and summary.volunteers == demo_data.VOLUNTEERS
    check_demo_data(db)
    again = demo_data.load()
    assert not again.created
    assert (again.shifts, again.assignments) == (summary.shifts, summary.assignments)
    admin = db.session.scalar(sa.select(User).where(User.email == demo_data.MARKER_EMAIL))
    assert admin.role == "admin" and admin.check_password(demo_data.PASSWORDS["admin"])
    demo_data.wipe()
    assert not demo_data.is_loaded()
    assert db.session.scalar(sa.select(sa.func.count(Institution.id))) == 0


@pytest.fixture
def fresh_app(tmp_path):
    """An app on an empty SQLite file: the command itself must create the schema."""
    app = make_app(f"sqlite:///{tmp_path}/instance.sqlite")
    yield app
    from web.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def volunteer_names(app) -> list[str]:
    from web.extensions import db

    with app.app_context():
        names = db.session.scalars(
            sa.select(User.full_name).where(User.role == "volunteer").order_by(User.id)
        ).all()
        db.session.remove()
    return names


def test_demo_command_migrates_loads_idempotently_and_prints_logins(fresh_app, monkeypatch):
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: served.append((a, k)))
    workers = []

    class FakeWorker:
        pid = 4242

        def terminate(self):
            workers.append("terminated")

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(
        "web.commands.demo.start_worker_process", lambda app: workers.append(app) or FakeWorker()
    )
    runner = fresh_app.test_cli_runner()

    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    assert "http://127.0.0.1:5000/" in result.output
    for role, password in demo_data.PASSWORDS.items():
        assert role in result.output and password in result.output
    for login in demo_data.logins():
        assert login.email in result.output and login.phone in result.output
    assert not served
    names = volunteer_names(fresh_app)
    assert len(names) == demo_data.VOLUNTEERS
    with fresh_app.app_context():
        from web.extensions import db

        check_demo_data(db)
        db.session.remove()

    result = runner.invoke(args=["demo", "--no-serve", "--port", "5050"])
    assert result.exit_code == 0, result.output
    assert "already present" in result.output and "http://127.0.0.1:5050/" in result.output
    assert volunteer_names(fresh_app) == names

    result = runner.invoke(args=["demo", "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = served
    assert args[:2] == ("0.0.0.0", 8123) and args[2] is fresh_app
    assert kwargs["use_reloader"] is False
    assert fresh_app.config["SESSION_COOKIE_SECURE"] is False
    assert workers == [fresh_app, "terminated"], "the demo runs a worker and stops it after"

    # QA: `kill <demo pid>` (SIGTERM) left the worker running; it must stop it as Ctrl+C does.
    def terminated_while_serving(*args, **kwargs):
        served.append("serving")
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler), "SIGTERM would kill the demo without stopping its worker"
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises SystemExit as soon as the signal is delivered
        served.append("not stopped")

    monkeypatch.setattr("werkzeug.serving.run_simple", terminated_while_serving)
    workers.clear()
    served.clear()
    before = signal.getsignal(signal.SIGTERM)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.exception
    assert served == ["serving"], result.output
    assert workers[-1] == "terminated"
    assert signal.getsignal(signal.SIGTERM) == before


def test_demo_command_refuses_foreign_data_unless_reset(fresh_app):
    runner = fresh_app.test_cli_runner()
    from flask_migrate import upgrade

    from web.extensions import db

    with fresh_app.app_context():
        upgrade()
        user = User(full_name="Real person", phone="+201229999999", role="admin")  # no email
        user.set_password("a real password")
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code != 0
    assert "not the complete demo data" in result.output
    assert volunteer_names(fresh_app) == []

    result = runner.invoke(args=["demo", "--no-serve", "--reset"])
    assert result.exit_code == 0, result.output
    assert "Wiping" in result.output and "Demo data loaded." in result.output
    with fresh_app.app_context():
        assert db.session.scalar(sa.select(User).where(User.phone == "+201229999999")) is None
        db.session.remove()
    assert len(volunteer_names(fresh_app)) == demo_data.VOLUNTEERS


def test_reset_refuses_a_production_database(monkeypatch):
    app = make_app("postgresql://nobody@127.0.0.1:1/none", APP_ENV="production")
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--reset"])
    assert result.exit_code != 0
    assert "refuses to wipe a production database" in result.output
