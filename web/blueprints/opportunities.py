"""Public opportunity pages: browse with filters, detail with upcoming shifts, interest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from web.authz import role_required
from web.labels import GENDER_LABELS
from web.services import browse as service

bp = Blueprint("opportunities", __name__, url_prefix="/opportunities")


def url_if(endpoint: str, **values: Any) -> str | None:
    """``url_for`` for an endpoint another area provides, or ``None`` while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "url_if": url_if,
        "kind_label": service.kind_label,
        "gender_labels": GENDER_LABELS,
    }


@bp.get("")
def browse() -> tuple[str, int]:
    """Open opportunities with upcoming shifts, filtered by governorate, kind and skill."""
    filters = service.parse_filters(request.args)
    result = service.browse(filters)
    governorates, kinds, skills = service.filter_choices()
    return render_template(
        "opportunities/browse.html",
        filters=filters,
        result=result,
        governorates=governorates,
        kinds=kinds,
        skills=skills,
    ), (400 if filters.errors else 200)


@bp.get("/<int:opportunity_id>")
def detail(opportunity_id: int) -> str:
    """The full opportunity and its upcoming shifts in the institution's local time."""
    opportunity = service.public_opportunity(opportunity_id)
    if opportunity is None:
        abort(404)
    shifts = service.upcoming_shifts(opportunity) if opportunity.status == "open" else []
    interested = (
        current_user.is_authenticated
        and current_user.role == "volunteer"
        and service.has_interest(current_user, opportunity)
    )
    return render_template(
        "opportunities/detail.html", opportunity=opportunity, shifts=shifts, interested=interested
    )


@bp.post("/<int:opportunity_id>/interest")
@role_required("volunteer")
def interest(opportunity_id: int) -> Response:
    """Remember that the volunteer is interested (once; a repeat changes nothing)."""
    opportunity = service.public_opportunity(opportunity_id)
    if opportunity is None or opportunity.status != "open":
        abort(404)
    if service.register_interest(current_user, opportunity):
        flash(_("Thank you: the institution will see that you are interested."), "success")
    else:
        flash(_("You had already shown interest in this opportunity."), "info")
    return redirect(url_for("opportunities.detail", opportunity_id=opportunity.id))
