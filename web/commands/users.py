"""`flask users`: create staff accounts and list accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from web.models import STAFF_ROLES, User
from web.services import accounts

users = AppGroup("users", help="Create and list accounts.")


@users.command("create")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True, help="Staff role.")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--email", required=True, help="Email address (the login).")
@click.option("--phone", default=None, help="Mobile number (optional), any format.")
@click.option("--password", default=None, help="Password; asked for (hidden) when omitted.")
@click.option(
    "--institution",
    "institutions",
    type=int,
    multiple=True,
    help="Institution id a manager runs (repeatable).",
)
@click.option(
    "--governorate",
    "governorates",
    multiple=True,
    help="Governorate code of a coordinator's scope, e.g. EG-C (repeatable).",
)
@click.option("--national", is_flag=True, help="A coordinator for the whole country.")
@click.option("--locale", type=click.Choice(["ar", "en"]), default=None, help="Language.")
def create(
    role: str,
    full_name: str,
    email: str,
    phone: str | None,
    password: str | None,
    institutions: tuple[int, ...],
    governorates: tuple[str, ...],
    national: bool,
    locale: str | None,
) -> None:
    """Create a manager, coordinator or admin account (same rules as the admin page)."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with force_locale("en"):
        try:
            user = accounts.create_staff(
                None,
                role=role,
                full_name=full_name,
                email=email,
                phone=phone,
                password=password,
                institution_ids=institutions,
                governorate_codes=governorates,
                national=national,
                locale=locale,
                via="cli",
            )
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc.message)) from None
        click.echo(f"Created {user.role} #{user.id} {user.full_name} <{user.email}>")


@users.command("list")
@click.option("--role", type=click.Choice(["volunteer", *STAFF_ROLES]), default=None)
@click.option("--search", default=None, help="Part of a name, email or phone number.")
def list_users(role: str | None, search: str | None) -> None:
    """List accounts, newest first (id, role, status, name, email, phone, scope)."""
    with force_locale("en"):
        page = 1
        while True:
            result = accounts.search_users(role=role, query=search, page=page, per_page=500)
            for user in result.items:
                click.echo(
                    "\t".join(
                        [
                            str(user.id),
                            user.role,
                            "active" if user.active else "deactivated",
                            user.full_name,
                            user.email or "-",
                            user.phone or "-",
                            _scope_text(user),
                        ]
                    )
                )
            if not result.has_next:
                break
            page += 1


def _scope_text(user: User) -> str:
    if user.role == "manager":
        ids = [str(i.id) for i in user.managed_institutions]
        return "institutions:" + ",".join(ids) if ids else "-"
    if user.role == "coordinator":
        if user.national_scope:
            return "national"
        codes = [g.code for g in user.governorates]
        return "governorates:" + ",".join(codes) if codes else "-"
    return "-"
