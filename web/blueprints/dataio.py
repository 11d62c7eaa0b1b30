"""Import and export pages: upload a CSV/Excel file, preview it, confirm it; download files."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from web.authz import role_required
from web.extensions import db
from web.forms.auth import PostForm
from web.forms.dataio import KIND_LABELS, ConfirmForm, ImportForm
from web.i18n import current_language, list_separator
from web.models import IMPORT_KINDS, DataImport, utcnow
from web.security import large_upload
from web.services import columns, exports, imports
from web.services.tabular import XLSX_MIME

bp = Blueprint("dataio", __name__, url_prefix="/data")

STAFF = ("coordinator", "admin")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"kind_label": lambda kind: str(KIND_LABELS.get(kind, kind))}


def _pending_list() -> list[DataImport]:
    return list(
        db.session.execute(
            sa.select(DataImport)
            .where(DataImport.owner_id == current_user.id, DataImport.expires_at > utcnow())
            .order_by(DataImport.id.desc())
        ).scalars()
    )


def _index(form: ImportForm, error: str | None = None, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "dataio/index.html",
            form=form,
            error=error,
            pending=_pending_list(),
            kinds=IMPORT_KINDS,
            formats=exports.FORMATS,
            formats_doc={k: columns.FORMATS[k] for k in IMPORT_KINDS},
            max_rows=imports.max_rows(),
            max_kb=imports.max_bytes() // 1024,
        ),
        status,
    )


@bp.get("/")
@role_required(*STAFF)
def index() -> tuple[str, int]:
    """Upload form, templates, exports and the user's pending imports."""
    return _index(ImportForm(formdata=None))


@bp.post("/import")
@large_upload
@role_required(*STAFF)
def upload() -> Response | tuple[str, int]:
    """Read the uploaded file and keep it as a pending import; then show its preview."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _index(form, status=400)
    storage = form.file.data
    data = storage.read(imports.max_bytes() + 1)
    ignored: list[str] = []
    try:
        pending = imports.upload(
            current_user, form.kind.data, data, storage.filename or "", ignored
        )
    except imports.ImportFileError as exc:
        db.session.rollback()
        return _index(form, error=str(exc.message), status=exc.status)
    if ignored:
        flash(
            _(
                "These columns were not recognised and are ignored: %(columns)s",
                columns=list_separator().join(ignored),
            ),
            "warning",
        )
    return redirect(url_for("dataio.preview", import_id=pending.id))


def _pending_or_404(import_id: int) -> DataImport:
    pending = imports.get_pending(current_user, import_id)
    if pending is None:
        abort(404)
    return pending


def _render_preview(
    pending: DataImport, outcome: imports.Outcome, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    kind = pending.kind
    return (
        render_template(
            "dataio/preview.html",
            pending=pending,
            outcome=outcome,
            columns=columns.FORMATS[kind],
            confirm_form=ConfirmForm(formdata=None, sha256=pending.file_sha256),
            discard_form=PostForm(formdata=None),
            error=error,
        ),
        status,
    )


@bp.get("/imports/<int:import_id>")
@role_required(*STAFF)
def preview(import_id: int) -> tuple[str, int]:
    """Every row of a pending import, its errors and what it would create."""
    pending = _pending_or_404(import_id)
    outcome = imports.preview(current_user, pending)
    pending = _pending_or_404(import_id)
    return _render_preview(pending, outcome)


@bp.post("/imports/<int:import_id>/confirm")
@role_required(*STAFF)
def confirm(import_id: int) -> Response | tuple[str, int]:
    """Create every row, or none: refused while any row has an error (checked again now)."""
    pending = _pending_or_404(import_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = imports.confirm(current_user, pending, form.sha256.data or "")
    except imports.ImportFileError as exc:
        still = imports.get_pending(current_user, import_id)
        if still is None:
            flash(str(exc.message), "error")
            return redirect(url_for("dataio.index"))
        pending = still
        return _render_preview(
            pending, imports.preview(current_user, pending), exc.status, str(exc.message)
        )
    if not outcome.ok:
        pending = _pending_or_404(import_id)
        return _render_preview(
            pending,
            outcome,
            409,
            _("Nothing was imported: fix the rows with errors and upload the file again."),
        )
    flash(
        _("%(n)s rows imported.", n=len(outcome.rows)),
        "success",
    )
    return redirect(url_for("dataio.index"))


@bp.post("/imports/<int:import_id>/discard")
@role_required(*STAFF)
def discard(import_id: int) -> Response:
    """Forget a pending import."""
    pending = _pending_or_404(import_id)
    if not PostForm().validate_on_submit():
        abort(400)
    imports.discard(current_user, pending)
    flash(_("The import was discarded; nothing was written."), "success")
    return redirect(url_for("dataio.index"))


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        abort(404)
    return value


def _download(data: bytes, fmt: str, name: str) -> Response:
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIME
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export")
@role_required(*STAFF)
def export() -> Response:
    """Volunteers, institutions or upcoming shifts of the user's area as CSV or Excel."""
    kind = _choice("kind", IMPORT_KINDS, "volunteers")
    fmt = _choice("format", exports.FORMATS, "csv")
    language = current_language()
    data = exports.export_file(current_user, kind, fmt, language)
    imports.audit.record(
        current_user, "export.downloaded", "data_export", None, kind=kind, format=fmt
    )
    db.session.commit()
    return _download(data, fmt, f"{kind}-{date.today().isoformat()}")


@bp.get("/template")
@role_required(*STAFF)
def template() -> Response:
    """An empty file of a kind with its columns and example rows, in Arabic or English."""
    kind = _choice("kind", IMPORT_KINDS, "volunteers")
    fmt = _choice("format", exports.FORMATS, "csv")
    language = _choice("lang", ("ar", "en"), current_language())
    return _download(exports.template_file(kind, fmt, language), fmt, f"{kind}-template-{language}")
