"""Exports and templates: same columns as the import, round trip, formula-safe, scoped."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}


def rows_of(response) -> list[list[str]]:
    from web.services.tabular import read_table

    assert response.status_code == 200, response.status_code
    return read_table(
        response.get_data(), "x.xlsx" if "sheet" in response.mimetype else "x.csv", 10_000
    )


def export(client, kind: str, fmt: str = "csv", headers=EN):
    return client.get(f"/data/export?kind={kind}&format={fmt}", headers=headers)


def import_file(client, kind: str, data: bytes, filename: str, headers=EN) -> str:
    from web.extensions import db
    from web.models import DataImport

    response = client.post(
        "/data/import",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    preview = client.get(f"/data/imports/{import_id}", headers=headers).get_data(as_text=True)
    sha = db.session.get(DataImport, import_id).file_sha256
    done = client.post(f"/data/imports/{import_id}/confirm", data={"sha256": sha}, headers=headers)
    assert done.status_code == 302, preview
    return preview


def build(factory):
    manager = factory.user("manager")
    home = factory.institution(
        managers=(manager,), name_ar="دار الأمل", name_en="Dar Al Amal", phone="+20223456789"
    )
    factory.institution(name_ar="دار الجيزة", name_en="", governorate="EG-GZ", kind="elderly_home")
    opportunity = factory.opportunity(home, title_ar="كورال", title_en="Choir")
    start = (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=13, minute=0, second=0, microsecond=0
    )
    factory.shift(opportunity, start=start, needed=4, skills={"music": 1}, languages=["ar", "en"])
    factory.shift(
        opportunity, start=start + timedelta(days=1), needed=2, gender="female", min_age=18
    )
    factory.shift(opportunity, start=datetime.now(UTC) - timedelta(days=1))  # past: not exported
    factory.volunteer(
        full_name='=HYPERLINK("http://x")', skills=("tutoring", "music"), languages=("ar", "en")
    )
    factory.volunteer(full_name="منى", governorate="EG-GZ", gender="male", radius=7.5, email=None)


@pytest.mark.parametrize("fmt,headers", [("csv", EN), ("xlsx", AR), ("csv", AR), ("xlsx", EN)])
def test_round_trip_into_an_empty_database(app, client, factory, login_as, fmt, headers):
    from tests.conftest import clean_database

    build(factory)
    login_as(factory.user("admin"))
    files = {
        kind: export(client, kind, fmt, headers)
        for kind in ("institutions", "shifts", "volunteers")
    }
    before = {kind: rows_of(response) for kind, response in files.items()}
    assert len(before["shifts"]) == 3 and len(before["volunteers"]) == 3
    assert len(before["institutions"]) == 3

    clean_database(app)
    login_as(factory.user("admin"))
    for kind in ("institutions", "shifts", "volunteers"):
        import_file(client, kind, files[kind].get_data(), f"{kind}.{fmt}", headers)
    after = {kind: rows_of(export(client, kind, fmt, headers)) for kind in before}
    assert after == before


def test_csv_export_is_formula_safe_with_bom(app, client, factory, login_as):
    build(factory)
    login_as(factory.user("coordinator", national_scope=True))
    response = export(client, "volunteers")
    assert response.mimetype == "text/csv"
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Full name", "Mobile phone"]
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert all(r[1].startswith("'+20") for r in rows[1:])  # "+" starts a formula too


def test_xlsx_export_stores_text_not_formulas(app, client, factory, login_as):
    from openpyxl import load_workbook

    build(factory)
    login_as(factory.user("admin"))
    response = export(client, "volunteers", "xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s", "s"]
    assert cells[0].value == '=HYPERLINK("http://x")'


def test_export_is_scoped_to_the_coordinators_governorates(app, client, factory, login_as):
    build(factory)
    cairo = factory.user("coordinator")
    cairo.governorates = [factory.governorate("EG-C")]
    factory.db.session.commit()
    login_as(cairo)
    assert [r[0] for r in rows_of(export(client, "volunteers"))[1:]] == ['\'=HYPERLINK("http://x")']
    assert [r[1] for r in rows_of(export(client, "institutions"))[1:]] == ["Dar Al Amal"]
    login_as(factory.user("manager"))
    assert export(client, "volunteers").status_code == 403
    assert client.get("/data/").status_code == 403


@pytest.mark.parametrize("language", ["ar", "en"])
def test_templates_import_cleanly(app, client, factory, login_as, language):
    login_as(factory.user("admin"))
    headers = {"Accept-Language": language}
    for kind in ("institutions", "shifts", "volunteers"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/data/template?kind={kind}&format={fmt}&lang={language}")
            assert response.status_code == 200
        preview = import_file(client, kind, response.get_data(), f"t.{fmt}", headers)
        assert "has-error" not in preview
    from web.extensions import db
    from web.models import Shift, User

    assert db.session.execute(sa.select(sa.func.count()).select_from(Shift)).scalar_one() == 1
    assert (
        db.session.execute(
            sa.select(sa.func.count()).select_from(User).where(User.role == "volunteer")
        ).scalar_one()
        == 2
    )


def test_unknown_kind_or_format_is_404(app, client, factory, login_as):
    login_as(factory.user("admin"))
    assert client.get("/data/export?kind=passwords").status_code == 404
    assert client.get("/data/template?kind=shifts&format=pdf").status_code == 404
