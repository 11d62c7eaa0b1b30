"""`flask matching run` and `flask worker`: matching from the shell, and the worker process."""

from __future__ import annotations

import sys
import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from web.extensions import db
from web.models import Governorate, MatchingRun


def parse_scope(text: str) -> tuple[str, list[int]]:
    """``national``, ``governorates:EG-C,EG-GZ`` (codes or ids) or ``institutions:1,2``."""
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    items = [item.strip() for item in rest.split(",") if item.strip()]
    if kind == "national" and not items:
        return "national", []
    if kind in ("governorates", "governorate", "gov") and items:
        ids = []
        for item in items:
            if item.isdigit():
                ids.append(int(item))
                continue
            gid = db.session.scalar(
                sa.select(Governorate.id).where(Governorate.code == item.upper())
            )
            if gid is None:
                raise click.BadParameter(f"unknown governorate {item!r}", param_hint="--scope")
            ids.append(gid)
        return "governorates", ids
    if (
        kind in ("institutions", "institution", "inst")
        and items
        and all(i.isdigit() for i in items)
    ):
        return "institutions", [int(i) for i in items]
    raise click.BadParameter(
        "use national, governorates:CODE[,CODE] or institutions:ID[,ID]", param_hint="--scope"
    )


@click.group()
def matching() -> None:
    """Matching runs."""


@matching.command("run")
@click.option("--scope", "scope_text", default="national", show_default=True)
@click.option("--window-days", type=click.IntRange(1, 31), default=7, show_default=True)
@click.option("--time-limit", type=click.FloatRange(1, 600), default=30.0, show_default=True)
@click.option("--publish", is_flag=True, help="Publish the proposal at once.")
@with_appcontext
def run_command(scope_text: str, window_days: int, time_limit: float, publish: bool) -> None:
    """Run matching now in this process and print the same summary as the run's page."""
    from web.services.runs import (
        RunError,
        claim_run,
        default_window,
        execute_run,
        publish_run,
        start_run,
        summary_lines,
    )

    scope_kind, scope_ids = parse_scope(scope_text)
    start, end = default_window(window_days)
    try:
        run = start_run(None, scope_kind, scope_ids, start, end, time_limit_s=time_limit)
    except RunError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    claimed = claim_run(run.id, "cli")
    if claimed is not None:
        run = execute_run(claimed)
    else:  # a worker took it first: wait for it
        while run.status in ("queued", "running"):
            time.sleep(1)
            db.session.expire_all()
            run = db.session.get(MatchingRun, run.id)
    if publish and run.status == "proposed":
        try:
            publish_run(run.id, None)
        except RunError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)
        run = db.session.get(MatchingRun, run.id)
    for line in summary_lines(run):
        click.echo(line)
    if run.status == "failed":
        sys.exit(1)


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Start the worker: solves queued runs and fires the nightly schedules (one per deployment)."""
    from web.worker import start_worker

    start_worker(current_app._get_current_object())  # type: ignore[attr-defined]
