"""`flask demo`: upgrade the database, load the demo data once, print the logins and serve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from web import demo_data


def _local_settings(app: Flask) -> None:
    """The demo serves plain HTTP on this machine: cookies must not require HTTPS."""
    app.config.update(
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_SECURE=False,
        PREFERRED_URL_SCHEME="http",
    )


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--reset", is_flag=True, help="Wipe every row (not the reference data) and reload.")
@click.option("--no-serve", is_flag=True, help="Prepare the data and print the logins only.")
@click.option("--no-worker", is_flag=True, help="Serve without the matching/SMS worker process.")
@with_appcontext
def demo(host: str, port: int, reset: bool, no_serve: bool, no_worker: bool) -> None:
    """Run the service locally with demo data (SQLite in the instance folder by default)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    production = app.config.get("APP_ENV") == "production" and not url.startswith("sqlite")
    if reset and production:
        raise click.ClickException("--reset refuses to wipe a production database.")
    click.echo("Upgrading the database to the latest schema...")
    upgrade()
    if reset:
        click.echo("Wiping the existing data...")
        demo_data.wipe()
    elif not demo_data.is_loaded() and demo_data.has_accounts():
        raise click.ClickException(
            "This database already holds accounts but not the complete demo data. Point "
            "DATABASE_URL at an empty database, or run `flask --app web demo --reset` to wipe it."
        )
    summary = demo_data.load()
    if summary.created:
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data already present (use --reset to start again).")
    click.echo(
        f"{summary.institutions} institutions, {summary.opportunities} opportunities, "
        f"{summary.shifts} shifts, {summary.volunteers} volunteers, "
        f"{summary.assignments} sign-ups."
    )
    address = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"Open {address}")
    click.echo("Demo logins (log in with the email or the phone number):")
    for login in summary.logins:
        click.echo(
            f"  {login.role:<12} {login.email:<38} {login.phone:<15} "
            f"password: {login.password}   ({login.description})"
        )
    click.echo(
        f"  Every volunteer<N>@{demo_data.DOMAIN} (N = 1..{demo_data.VOLUNTEERS}) and "
        f"manager<N>@{demo_data.DOMAIN} shares its role's password."
    )
    if no_serve:
        return
    _local_settings(app)
    from werkzeug.serving import run_simple

    worker = None if no_worker else start_worker_process(app)
    click.echo("")
    if worker is not None:
        click.echo(f"Started the worker (matching runs, nightly schedule), pid {worker.pid}.")
    click.echo("Serving with the Werkzeug development server; press Ctrl+C to stop.")
    # A plain `kill` (SIGTERM) must stop the worker too, as Ctrl+C does: without a handler
    # Python dies at once and the worker process is left running on the database.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # Not app.run(): under the flask CLI it returns at once (FLASK_RUN_FROM_CLI). Threaded,
        # so each request runs in its own thread, outside this command's application context.
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def start_worker_process(app: Flask) -> subprocess.Popen[bytes]:
    """Run `flask worker` beside the demo server, on the same database, as the Procfile does."""
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        APP_ENV=app.config.get("APP_ENV", "demo"),
    )
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "worker"], env=env)
