"""`flask users create|list`: the same service and rules as the admin page."""

import sqlalchemy as sa

from web.extensions import db
from web.models import AuditEvent, User


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def by_email(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one()


def test_create_national_coordinator(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "coordinator",
            "--name",
            "Hoda Said",
            "--email",
            "Hoda@Example.org",
            "--phone",
            "٠١٠١٢٣٤٥٦٧٨",
            "--password",
            "a long password",
            "--national",
        ]
    )
    assert result.exit_code == 0, result.output
    user = by_email("hoda@example.org")
    assert f"Created coordinator #{user.id} Hoda Said <hoda@example.org>" in result.output
    assert user.national_scope and user.phone == "+201012345678"
    assert user.check_password("a long password")
    event = db.session.execute(sa.select(AuditEvent)).scalar_one()
    assert (event.action, event.actor_id, event.object_id) == ("user.staff_created", None, user.id)
    assert event.details["via"] == "cli" and event.details["national"] is True


def test_create_manager_and_scoped_coordinator(runner, factory):
    first, second = factory.institution(), factory.institution()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "manager",
            "--name",
            "Karim",
            "--email",
            "karim@example.org",
            "--password",
            "a long password",
            "--institution",
            str(first.id),
            "--institution",
            str(second.id),
        ]
    )
    assert result.exit_code == 0, result.output
    assert [i.id for i in by_email("karim@example.org").managed_institutions] == [
        first.id,
        second.id,
    ]
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "coordinator",
            "--name",
            "Amr",
            "--email",
            "amr@example.org",
            "--password",
            "a long password",
            "--governorate",
            "eg-c",
            "--governorate",
            "EG-GZ",
            "--locale",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    user = by_email("amr@example.org")
    assert {g.code for g in user.governorates} == {"EG-C", "EG-GZ"} and user.locale == "en"


def test_password_is_prompted_hidden_and_confirmed(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "admin",
            "--name",
            "Root",
            "--email",
            "root@example.org",
        ],
        input="typed at the prompt\ntyped at the prompt\n",
    )
    assert result.exit_code == 0, result.output
    assert "typed at the prompt" not in result.output
    assert by_email("root@example.org").check_password("typed at the prompt")


def test_rule_violations_exit_non_zero_in_english_and_write_nothing(runner, factory):
    factory.user("manager", email="taken@example.org")
    base = ["users", "create", "--name", "X", "--password", "a long password"]
    cases = [
        (["--role", "manager", "--email", "a@example.org"], "A manager needs at least one"),
        (
            ["--role", "manager", "--email", "a@example.org", "--institution", "9999"],
            "Unknown institution: 9999",
        ),
        (["--role", "coordinator", "--email", "a@example.org"], "national scope or at least one"),
        (
            ["--role", "coordinator", "--email", "a@example.org", "--governorate", "XX"],
            "Unknown governorate: XX",
        ),
        (
            [
                "--role",
                "coordinator",
                "--email",
                "a@example.org",
                "--national",
                "--governorate",
                "EG-C",
            ],
            "not both",
        ),
        (["--role", "admin", "--email", "TAKEN@example.org"], "already exists"),
        (["--role", "admin", "--email", "not-an-email"], "not a valid email"),
        (
            ["--role", "admin", "--email", "a@example.org", "--phone", "123"],
            "not a valid phone number",
        ),
    ]
    for extra, message in cases:
        result = runner.invoke(args=base + extra)
        assert result.exit_code == 1, extra
        assert message in result.output, (extra, result.output)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "admin",
            "--name",
            "X",
            "--email",
            "a@example.org",
            "--password",
            "short",
        ]
    )
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = runner.invoke(args=[*base, "--role", "volunteer", "--email", "a@example.org"])
    assert result.exit_code == 2  # click refuses the role itself
    assert count(User) == 1 and count(AuditEvent) == 0


def test_list_users(runner, factory):
    factory.volunteer(full_name="Sara", email="sara@example.org")
    coordinator = factory.user("coordinator", full_name="Hoda", email="hoda@example.org")
    coordinator.governorates.append(factory.governorate("EG-GZ"))
    home = factory.institution()
    factory.user("manager", full_name="Karim", managed_institutions=[home], active=False)
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].split("\t")[1:4] == ["manager", "deactivated", "Karim"]
    assert lines[0].endswith(f"institutions:{home.id}")
    assert lines[1].endswith("governorates:EG-GZ") and "hoda@example.org" in lines[1]
    assert "\tvolunteer\tactive\tSara\tsara@example.org\t" in lines[2]
    result = runner.invoke(args=["users", "list", "--role", "coordinator"])
    assert result.output.count("\n") == 1 and "Hoda" in result.output
    result = runner.invoke(args=["users", "list", "--search", "SARA@"])
    assert result.output.count("\n") == 1 and "Sara" in result.output
