"""The issue's demo: on the demo data, the Cairo coordinator imports a CSV with one bad row."""

from __future__ import annotations

import io

import sqlalchemy as sa

from web import demo_data
from web.config import ROOT
from web.models import DataImport, User

EN = {"Accept-Language": "en"}


def _upload(client, data: bytes) -> int:
    response = client.post(
        "/data/import",
        data={"kind": "volunteers", "file": (io.BytesIO(data), "volunteers.csv")},
        content_type="multipart/form-data",
        headers=EN,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _confirm(client, db, import_id: int):
    sha = db.session.get(DataImport, import_id).file_sha256
    return client.post(f"/data/imports/{import_id}/confirm", data={"sha256": sha}, headers=EN)


def test_cairo_coordinator_imports_the_sample_on_the_demo_data(app, client, login_as):
    from web.extensions import db

    demo_data.load()
    cairo = db.session.scalar(
        sa.select(User).where(User.email == f"cairo.coordinator@{demo_data.DOMAIN}")
    )
    cairo.locale = "en"  # the demo's staff read Arabic; the assertions below are in English
    db.session.commit()
    login_as(cairo)
    count = sa.select(sa.func.count()).select_from(User).where(User.role == "volunteer")
    before = db.session.scalar(count)

    bad = _upload(client, (ROOT / "docs/samples/volunteers-one-bad-row.csv").read_bytes())
    page = client.get(f"/data/imports/{bad}", headers=EN).get_data(as_text=True)
    assert "1 row has errors." in page and "Row 4, Mobile phone:" in page
    assert _confirm(client, db, bad).status_code == 409
    assert db.session.scalar(count) == before

    fixed = _upload(client, (ROOT / "docs/samples/volunteers-fixed.csv").read_bytes())
    assert _confirm(client, db, fixed).status_code == 302
    assert db.session.scalar(count) == before + 3

    # The Cairo volunteers exported and uploaded again: every row is a duplicate.
    exported = client.get("/data/export?kind=volunteers&format=csv", headers=EN).get_data()
    again = _upload(client, exported)
    page = client.get(f"/data/imports/{again}", headers=EN).get_data(as_text=True)
    rows = exported.decode("utf-8-sig").strip().count("\n")
    assert rows >= 3
    assert page.count("An account with this phone number already exists.") == rows
