"""The CSV helper: BOM for Excel, CRLF rows, quoting, and cells that would run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from web.csv_export import csv_response, csv_text, safe_cell, safe_filename


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+201001000001", "'+201001000001"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("دار الأمل", "دار الأمل"),
        ("a=b", "a=b"),
        ("-3", "-3"),
        ("2.5", "2.5"),
        (-3, "-3"),
        (2.5, "2.5"),
        (None, ""),
        (True, "1"),
        (date(2026, 3, 2), "2026-03-02"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_text_has_a_bom_crlf_rows_and_quotes():
    text = csv_text(["الاسم", "note"], [["دار, الأمل", 'say "hi"'], ["=2*3", 4]])
    assert text.startswith("\ufeff")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == [["الاسم", "note"], ["دار, الأمل", 'say "hi"'], ["'=2*3", "4"]]


def test_filename_is_ascii_and_ends_in_csv():
    assert safe_filename('cov"er\r\nage/../x') == "cov-er-age-..-x.csv"
    assert safe_filename("تقرير") == "export.csv"
    assert safe_filename("runs-2026.csv") == "runs-2026.csv"


def test_csv_response_is_a_utf8_download(app):
    with app.test_request_context():
        response = csv_response("coverage", ["a"], [["ب"]])
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="coverage.csv"'
    assert response.get_data() == "\ufeffa\r\nب\r\n".encode()
