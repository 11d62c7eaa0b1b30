"""The uploads service: bytes decide the type, sizes are limited, files stay out of the web root."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from web.extensions import db
from web.models import UploadedFile
from web.services import uploads

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def storage(data: bytes, name: str = "doc.pdf", mimetype: str = "application/pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=mimetype)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")],
)
def test_type_comes_from_the_bytes(data, expected):
    assert uploads.sniff(data) == expected


def test_unknown_bytes_have_no_type():
    assert uploads.sniff(b"<html><script>alert(1)</script>") is None
    assert uploads.sniff(b"GIF89a") is None
    assert uploads.sniff(b"RIFF\x00\x00\x00\x00WAVE") is None


def test_a_saved_file_lives_in_the_upload_folder_under_a_random_name(app, factory):
    owner = factory.volunteer()
    upload = uploads.save_upload(
        storage(PDF, "../../etc/passwd.pdf"), "credential_document", owner=owner
    )
    db.session.commit()
    path = uploads.path_of(upload)
    assert path.read_bytes() == PDF
    assert path.parent == Path(app.config["UPLOAD_FOLDER"]).resolve()
    assert "passwd" not in upload.storage_name and upload.storage_name.endswith(".pdf")
    assert upload.original_name == "passwd.pdf"
    assert upload.content_type == "application/pdf" and upload.size == len(PDF)
    assert upload.owner_id == owner.id
    static = Path(app.static_folder).resolve()
    assert static not in path.parents
    other = uploads.save_upload(storage(PDF), "credential_document")
    db.session.commit()
    assert other.storage_name != upload.storage_name


def test_the_clients_claimed_type_is_ignored(app):
    fake = storage(b"<html><script>alert(1)</script></html>", "cv.pdf", "application/pdf")
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(fake, "credential_document")
    assert caught.value.code == "type"
    with force_locale("en"):
        assert "PDF, JPEG, PNG, WebP" in str(caught.value)
    png_named_pdf = uploads.save_upload(storage(PNG, "scan.pdf"), "credential_document")
    assert png_named_pdf.content_type == "image/png"
    assert png_named_pdf.storage_name.endswith(".png")


def test_a_kind_accepts_only_its_types(app):
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(storage(PDF), "report_photo")
    assert caught.value.code == "type"


def test_too_large_and_empty_files_are_refused_and_nothing_is_left(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_LIMITS", {"credential_document": 1024})
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = set(folder.iterdir()) if folder.exists() else set()
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(storage(PDF + b"x" * 2000), "credential_document")
    assert caught.value.code == "size"
    with force_locale("en"):
        assert "at most 1 KB" in str(caught.value)
    with force_locale("ar"):
        assert "1 كيلوبايت" in str(caught.value)
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(storage(b""), "credential_document")
    assert caught.value.code == "empty"
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(None, "credential_document")
    assert caught.value.code == "missing"
    after = set(folder.iterdir()) if folder.exists() else set()
    assert after == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadedFile)) == 0


def test_error_messages_are_translated(app):
    with pytest.raises(uploads.UploadError) as caught:
        uploads.save_upload(storage(b"hello"), "credential_document")
    with force_locale("ar"):
        text = str(caught.value)
    assert "PDF" in text
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_a_rolled_back_upload_leaves_no_file(app):
    upload = uploads.save_upload(storage(PDF), "credential_document")
    db.session.flush()
    path = uploads.path_of(upload)
    assert path.exists()
    db.session.rollback()
    assert not path.exists()


def test_delete_removes_the_file_after_the_commit_only(app):
    upload = uploads.save_upload(storage(JPEG, "photo.jpg"), "report_photo")
    db.session.commit()
    path = uploads.path_of(upload)
    uploads.delete_upload(upload)
    db.session.flush()
    assert path.exists()
    db.session.rollback()
    assert path.exists()  # the delete was rolled back: the file must stay
    upload = db.session.get(UploadedFile, upload.id)
    uploads.delete_upload(upload)
    db.session.commit()
    assert not path.exists()
    assert db.session.get(UploadedFile, upload.id) is None


def test_send_upload_answers_with_the_sniffed_type_and_safe_headers(app):
    upload = uploads.save_upload(storage(PDF, "شهادة.pdf", "text/html"), "credential_document")
    db.session.commit()
    with app.test_request_context():
        response = uploads.send_upload(upload)
        response.direct_passthrough = False
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "no-store" in response.headers["Cache-Control"]
        assert response.get_data() == PDF
        response.close()


def test_upload_folder_inside_static_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(Path(app.static_folder) / "uploads"))
    with pytest.raises(RuntimeError):
        uploads.upload_folder()


def test_register_kind_refuses_unknown_types():
    with pytest.raises(ValueError):
        uploads.register_kind("svg_logo", ["image/svg+xml"], 1000)
