"""Pages anyone may see without an account: home and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from web.extensions import db
from web.i18n import SUPPORTED
from web.navigation import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return render_template("public/index.html")


@bp.post("/language")
def set_language() -> Response:
    """Store the chosen language on the user (or the session) and go back."""
    language = request.form.get("language", "")
    if language in SUPPORTED:
        session["locale"] = language
        if current_user.is_authenticated:
            current_user.locale = language
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("public.index"))
