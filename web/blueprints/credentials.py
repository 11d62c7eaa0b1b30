"""Accreditation pages: a volunteer's credentials, their documents and the coordinators' queue."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from web.authz import role_required
from web.extensions import db
from web.forms.credentials import CredentialForm, RejectForm
from web.models import User, VolunteerCredential
from web.security import large_upload
from web.services import credentials as service
from web.services import uploads

bp = Blueprint("credentials", __name__)

REVIEWERS = ("coordinator", "admin")


def format_day(day: date) -> str:
    return format_date(day, "medium")


def _credential_or_404(credential_id: int) -> VolunteerCredential:
    credential = db.session.get(VolunteerCredential, credential_id)
    if credential is None:
        abort(404)
    return credential


# ---- the volunteer's credentials -------------------------------------------------------------


def _render_mine(form: CredentialForm, status: int = 200) -> tuple[str, int]:
    user: User = current_user  # type: ignore[assignment]
    today = service.local_today(user.profile)
    items = service.volunteer_credentials(user)
    return (
        render_template(
            "credentials/mine.html",
            form=form,
            items=items,
            statuses={c.id: service.status_of(c, today) for c in items},
            status_label=service.status_label,
            format_day=format_day,
            document_limit=uploads.format_size(uploads.max_bytes(service.DOCUMENT_KIND)),
        ),
        status,
    )


@bp.route("/credentials", methods=["GET", "POST"])
@large_upload  # the body may exceed MAX_CONTENT_LENGTH; the uploads service sets the kind's limit
@role_required("volunteer")
def mine() -> Any:
    """The volunteer's credentials with their status, and the form to add one."""
    user: User = current_user  # type: ignore[assignment]
    form = CredentialForm(types=service.credential_types())
    if request.method == "GET":
        return _render_mine(form)
    if not form.validate_on_submit():
        return _render_mine(form, 400)
    data = service.CredentialInput(
        credential_type_id=form.credential_type.data,
        issued_on=form.issued_on.data,
        expires_on=form.expires_on.data,
    )
    try:
        service.add_credential(user, data, request.files.get(form.document.name))
    except service.CredentialError as exc:
        db.session.rollback()
        target = getattr(form, exc.field or "", None)
        if target is not None:
            target.errors = [*target.errors, str(exc.message)]
        else:
            form.form_errors.append(str(exc.message))
        return _render_mine(form, exc.status)
    flash(_("Your credential was added. A coordinator will verify it."), "success")
    return redirect(url_for("credentials.mine"), code=303)


@bp.post("/credentials/<int:credential_id>/remove")
@role_required("volunteer")
def remove(credential_id: int) -> Any:
    credential = _credential_or_404(credential_id)
    if credential.volunteer_id != current_user.id:
        abort(404)
    service.remove_credential(current_user, credential)  # type: ignore[arg-type]
    flash(_("The credential was removed."), "success")
    return redirect(url_for("credentials.mine"), code=303)


@bp.get("/credentials/<int:credential_id>/document")
@login_required
def document(credential_id: int) -> Any:
    """The document, to its owner and to coordinators in scope only (404 for anyone else)."""
    credential = _credential_or_404(credential_id)
    if not service.can_view(current_user, credential) or credential.document is None:  # type: ignore[arg-type]
        abort(404)
    return uploads.send_upload(credential.document)


# ---- the coordinators' queue -----------------------------------------------------------------


def _render_queue(forms: dict[int, RejectForm] | None = None, status: int = 200) -> tuple[str, int]:
    user: User = current_user  # type: ignore[assignment]
    items = service.review_queue(user)
    forms = forms or {}
    return (
        render_template(
            "credentials/queue.html",
            items=items,
            format_day=format_day,
            forms={
                c.id: forms.get(c.id) or RejectForm(formdata=None, prefix=f"c{c.id}") for c in items
            },
        ),
        status,
    )


@bp.get("/coordinator/credentials")
@role_required(*REVIEWERS)
def queue() -> Any:
    """Credentials waiting for verification, in the coordinator's governorates."""
    return _render_queue()


def _reviewable(credential_id: int) -> VolunteerCredential:
    credential = _credential_or_404(credential_id)
    if not service.in_scope(current_user, credential.volunteer):  # type: ignore[arg-type]
        abort(404)
    return credential


@bp.post("/coordinator/credentials/<int:credential_id>/verify")
@role_required(*REVIEWERS)
def verify(credential_id: int) -> Any:
    credential = _reviewable(credential_id)
    try:
        service.verify(current_user, credential)  # type: ignore[arg-type]
    except service.CredentialError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("credentials.queue"), code=303)
    flash(_("The credential was verified."), "success")
    return redirect(url_for("credentials.queue"), code=303)


@bp.post("/coordinator/credentials/<int:credential_id>/reject")
@role_required(*REVIEWERS)
def reject(credential_id: int) -> Any:
    credential = _reviewable(credential_id)
    form = RejectForm(prefix=f"c{credential_id}")
    if not form.validate_on_submit():
        return _render_queue({credential_id: form}, 400)
    try:
        service.reject(current_user, credential, form.reason.data or "")  # type: ignore[arg-type]
    except service.CredentialError as exc:
        db.session.rollback()
        if exc.field == "reason":
            form.reason.errors = [str(exc.message)]
            return _render_queue({credential_id: form}, exc.status)
        flash(str(exc.message), "error")
        return redirect(url_for("credentials.queue"), code=303)
    flash(_("The credential was rejected; the volunteer sees your reason."), "success")
    return redirect(url_for("credentials.queue"), code=303)
