"""Uploaded files: stored outside the web root, typed by their bytes, limited in size, served
only through views that authorise first, and removed with the transaction that drops them.

Other areas use it like this::

    upload = uploads.save_upload(request.files["document"], "credential_document", owner=user)
    thing.document = upload            # same transaction; commit -> the file stays
    ...
    return uploads.send_upload(upload)  # only after the view checked who may see it
    uploads.delete_upload(upload)       # the file goes once the transaction commits

A file is written before the commit; if the transaction rolls back, the file is removed again
(``after_rollback``), and a deleted upload's file is removed only after the commit succeeded
(``after_commit``), so the database and the folder never disagree for long.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, current_app, send_file
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import event
from sqlalchemy.orm import Session

from web.extensions import db
from web.models import UploadedFile, User

CHUNK = 64 * 1024
MB = 1024 * 1024

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", WEBP: ".webp"}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", WEBP: "WebP"}


@dataclass(frozen=True)
class UploadKind:
    """What one kind of upload accepts: content types (sniffed) and a default size limit."""

    types: tuple[str, ...]
    max_bytes: int


# Config UPLOAD_LIMITS ({kind: bytes}) overrides the sizes; other areas add their kinds here
# (or call register_kind at import time).
KINDS: dict[str, UploadKind] = {
    "credential_document": UploadKind((PDF, JPEG, PNG, WEBP), 2 * MB),
    "report_photo": UploadKind((JPEG, PNG, WEBP), 2 * MB),
}


def register_kind(name: str, types: Iterable[str], max_bytes: int) -> None:
    """Declare a kind of upload (an area's own, e.g. ``report_photo``)."""
    unknown = set(types) - set(EXTENSIONS)
    if unknown:
        raise ValueError(f"unsupported content types {sorted(unknown)}")
    KINDS[name] = UploadKind(tuple(types), int(max_bytes))


class UploadError(ValueError):
    """The file is refused; ``message`` is for the user, in their language."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def sniff(head: bytes) -> str | None:
    """The content type the first bytes show (PDF, JPEG, PNG, WebP), whatever the name says."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def upload_folder(app: Flask | None = None) -> Path:
    """Where files live: config UPLOAD_FOLDER, by default ``<instance>/uploads`` (never static)."""
    app = app or current_app
    folder = Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads").resolve()
    if app.static_folder:
        static = Path(app.static_folder).resolve()
        if folder == static or static in folder.parents:
            raise RuntimeError("UPLOAD_FOLDER must not be inside the static folder")
    return folder


def kind_of(name: str) -> UploadKind:
    if name not in KINDS:
        raise ValueError(f"unknown upload kind {name!r}")
    return KINDS[name]


def max_bytes(kind: str) -> int:
    """The size limit of a kind (config UPLOAD_LIMITS overrides the default)."""
    limits = current_app.config.get("UPLOAD_LIMITS") or {}
    return int(limits.get(kind, kind_of(kind).max_bytes))


def format_size(size: int) -> str:
    """A size limit for people: whole megabytes or kilobytes."""
    if size >= MB and size % MB == 0:
        return ngettext("%(num)d MB", "%(num)d MB", size // MB)
    return ngettext("%(num)d KB", "%(num)d KB", max(1, size // 1024))


def accepted_types_text(kind: str) -> str:
    return ", ".join(TYPE_NAMES[t] for t in kind_of(kind).types)


def path_of(upload: UploadedFile) -> Path:
    return upload_folder() / upload.storage_name


def _session_list(session: Session, key: str) -> list[Path]:
    return session.info.setdefault(key, [])


def save_upload(
    stream: Any,
    kind: str,
    *,
    owner: User | None = None,
    original_name: str | None = None,
) -> UploadedFile:
    """Check and store one file; returns its row, added to the session (the caller commits).

    ``stream`` is a werkzeug ``FileStorage`` or any binary file object. Raises ``UploadError``
    (nothing stored) when it is missing, empty, too large or of a type the kind refuses.
    """
    spec = kind_of(kind)
    limit = max_bytes(kind)
    if stream is None:
        raise UploadError("missing", _l("Choose a file to upload."))
    filename = original_name if original_name is not None else getattr(stream, "filename", "")
    source: IO[bytes] = getattr(stream, "stream", stream)
    head = source.read(CHUNK)
    if not head:
        raise UploadError("empty", _l("Choose a file to upload: this one is empty."))
    content_type = sniff(head)
    if content_type is None or content_type not in spec.types:
        raise UploadError(
            "type",
            _l(
                "This type of file is not accepted. Upload one of: %(types)s.",
                types=accepted_types_text(kind),
            ),
        )
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    storage_name = secrets.token_hex(16) + EXTENSIONS[content_type]
    final = folder / storage_name
    partial = folder / (storage_name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(partial, "xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise UploadError(
                        "size",
                        _l(
                            "The file is too large: at most %(size)s.",
                            size=LazyString(format_size, limit),
                        ),
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = source.read(CHUNK)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    upload = UploadedFile(
        kind=kind,
        storage_name=storage_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        original_name=_clean_name(filename or ""),
        owner_id=owner.id if owner is not None else None,
    )
    db.session.add(upload)
    _session_list(db.session(), "uploads_written").append(final)
    return upload


def _clean_name(name: str) -> str:
    """The client's file name, for display only: no folders, no control characters, short."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200]


def delete_upload(upload: UploadedFile) -> None:
    """Delete the row now and the file once the transaction commits."""
    path = path_of(upload)
    db.session.delete(upload)
    _session_list(db.session(), "uploads_removed").append(path)


def send_upload(upload: UploadedFile, *, as_attachment: bool = False) -> Response:
    """The file as a response, typed by what was sniffed; call only after authorising."""
    path = path_of(upload)
    if not path.is_file():
        from werkzeug.exceptions import NotFound

        raise NotFound()
    name = upload.original_name or ("file" + EXTENSIONS.get(upload.content_type, ""))
    # Files are small (a few MB at most): read whole, so no file handle outlives the response.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=upload.content_type,
        etag=upload.sha256,
        last_modified=upload.created_at,
        as_attachment=as_attachment,
        download_name=name,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # A document is never a page: no scripts, no frames, even for a hand-crafted PDF.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop("uploads_written", None)
    for path in session.info.pop("uploads_removed", []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("uploads_removed", None)
    for path in session.info.pop("uploads_written", []):
        path.unlink(missing_ok=True)
