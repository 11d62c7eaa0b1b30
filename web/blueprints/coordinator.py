"""Coordinator pages: coverage of places by governorate, kind and day, and shifts at risk."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_date, format_percent
from flask_login import current_user

from web.authz import role_required
from web.blueprints.opportunities import url_if
from web.labels import KIND_LABELS
from web.services import coverage as service
from web.services.browse import parse_id

bp = Blueprint("coordinator", __name__, url_prefix="/coordinate")


def _format_day(day: date) -> str:
    return format_date(day, "full")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "url_if": url_if,
        "format_day": _format_day,
        "format_percent": format_percent,
        "kind_labels": KIND_LABELS,
    }


def _zone() -> str:
    return current_app.config.get("DEFAULT_TIMEZONE", "Africa/Cairo")


@bp.get("")
@role_required("coordinator", "admin")
def coverage() -> tuple[str, int]:
    """Places filled against places needed over a date range, in the coordinator's scope."""
    scope = current_user.governorate_ids()
    query = service.parse_query(request.args, scope, service.local_today(_zone()))
    report = service.coverage(query, scope, _zone())
    return render_template(
        "coordinator/coverage.html",
        query=query,
        report=report,
        governorates=service.scope_governorates(scope),
        national=scope is None,
        zone=_zone(),
    ), (400 if query.errors else 200)


@bp.get("/at-risk")
@role_required("coordinator", "admin")
def at_risk() -> str:
    """Under-filled shifts starting within SHIFTS_AT_RISK_HOURS, soonest first."""
    hours = int(current_app.config.get("SHIFTS_AT_RISK_HOURS", 72))
    page = parse_id(request.args.get("page")) or 1
    result = service.at_risk(current_user.governorate_ids(), hours, page)
    return render_template("coordinator/at_risk.html", result=result, hours=hours)
