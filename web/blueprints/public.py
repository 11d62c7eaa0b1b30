"""Pages anyone may see without an account: home and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from web.extensions import db
from web.i18n import SUPPORTED

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
    target = request.form.get("next") or url_for("public.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        target = url_for("public.index")
    return redirect(target)
