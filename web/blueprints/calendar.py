"""The volunteer's calendar feed: the page to make or revoke the link, and the feed itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.authz import role_required
from web.services import calendar_feed

bp = Blueprint("calendar", __name__)


@bp.app_context_processor
def _calendar_helpers() -> dict[str, Any]:
    """``calendar_feed_of(user)`` for the profile page's calendar section."""
    return {"calendar_feed_of": calendar_feed.feed_of}


def _page(token: str | None = None, status: int = 200) -> tuple[str, int]:
    feed = calendar_feed.feed_of(current_user)  # type: ignore[arg-type]
    url = url_for("calendar.feed", feed_token=token, _external=True) if token else None
    return render_template("calendar/settings.html", feed=feed, url=url), status


@bp.get("/calendar")
@role_required("volunteer")
def settings() -> Any:
    """Whether a link exists (it is shown only once, when made), and buttons to renew or stop it."""
    return _page()


@bp.post("/calendar/link")
@role_required("volunteer")
def new_link() -> Any:
    """Make a new private link; the old one stops working. Shown once, on this response."""
    token = calendar_feed.issue_token(current_user)  # type: ignore[arg-type]
    response_body, status = _page(token)
    response = Response(response_body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/calendar/revoke")
@role_required("volunteer")
def revoke() -> Any:
    if calendar_feed.revoke(current_user):  # type: ignore[arg-type]
        flash(
            _("Your calendar link was stopped. Calendars using it will no longer update."),
            "success",
        )
    return redirect(url_for("volunteer.profile"), code=303)


@bp.get("/calendar/<feed_token>.ics")
def feed(feed_token: str) -> Any:
    """The feed; no login (calendar apps cannot log in), the token is the key: 404 when unknown."""
    user = calendar_feed.owner_of(feed_token)
    if user is None:
        abort(404)
    response = Response(calendar_feed.build_calendar(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="shifts.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
