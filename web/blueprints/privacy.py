"""Privacy pages: download one's personal data, erase one's account, and the staff access log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from web.authz import role_required
from web.extensions import db
from web.forms.privacy import EraseAccountForm
from web.models import AuditEvent, User
from web.services import privacy

bp = Blueprint("privacy", __name__)

ACCESS_LOG_PAGE = 200
ACCESS_ACTIONS = ("personal_data.viewed", "personal_data.exported", "export.downloaded")
# What a member of staff looked at (``what`` of privacy.record_view), in the reader's language.
ACCESS_LABELS = {
    "contacts": _l("Contact details of volunteers"),
    "messages": _l("Messages sent and received"),
    "export": _l("Export of volunteers"),
    "document": _l("A volunteer's document"),
    "report": _l("A monitoring report"),
}


@bp.context_processor
def _template_helpers() -> dict[str, object]:
    from web.blueprints.auth import role_label

    def access_label(event: AuditEvent) -> str:
        if event.action == "personal_data.exported":
            return _("Downloaded their own data")
        if event.action == "export.downloaded":
            return str(ACCESS_LABELS["export"])
        what = (event.details or {}).get("what", "")
        return str(ACCESS_LABELS.get(what, what))

    return {"role_label": role_label, "access_label": access_label}


def _render(form: EraseAccountForm, status: int = 200) -> tuple[str, int]:
    return render_template("privacy/my_data.html", form=form), status


@bp.get("/account/data")
@login_required
def my_data() -> tuple[str, int]:
    """What we keep, the download button, and (for volunteers) the erase form."""
    return _render(EraseAccountForm(formdata=None))


@bp.post("/account/data/download")
@login_required
def download() -> Response:
    """A ZIP of everything we hold about the logged-in user."""
    archive = privacy.export_archive(current_user)
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = "attachment; filename=personal-data.zip"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/account/erase")
@login_required
def erase() -> Response | tuple[str, int]:
    """Erase the logged-in volunteer's account after the password and a confirmation."""
    form = EraseAccountForm()
    if form.validate_on_submit():
        try:
            privacy.erase_account(current_user, form.password.data)
        except privacy.PrivacyError as exc:
            form.password.errors = [str(exc.message)]
            return _render(form, exc.status)
        logout_user()
        flash(_("Your account and personal data have been erased."), "success")
        return redirect(url_for("public.index"))
    return _render(form, 400)


@bp.get("/admin/personal-data-access")
@role_required("admin")
def access_log() -> tuple[str, int]:
    """Who of the staff looked at people's personal data, newest first."""
    viewer_id = request.args.get("viewer", type=int)
    query = (
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action.in_(ACCESS_ACTIONS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(ACCESS_LOG_PAGE)
    )
    if viewer_id:
        query = query.where(AuditEvent.actor_id == viewer_id)
    events = db.session.execute(query).tuples().all()
    return render_template("privacy/access_log.html", events=events, viewer_id=viewer_id), 200
