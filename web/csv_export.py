"""CSV downloads: rows to a UTF-8 (BOM) text/csv response, safe from formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Response

BOM = "\ufeff"
# A cell a spreadsheet would read as a formula: = + - @ first, or a tab / carriage return first
# (OWASP "CSV injection"); leading spaces do not protect, Excel skips them.
_FORMULA_START = re.compile(r"^\s*[=+\-@\t\r]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value: object) -> str:
    """One cell as text; text a spreadsheet would run as a formula is prefixed with a quote.

    Numbers stay numbers (``-3`` and ``2.5`` are not formulas); ``None`` is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if _FORMULA_START.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """The CSV document (BOM first, CRLF line ends) of a header row and data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return BOM + buffer.getvalue()


def safe_filename(name: str) -> str:
    """An ASCII file name for Content-Disposition (anything else becomes ``-``), ending in .csv."""
    stem = _FILENAME_UNSAFE.sub("-", name.removesuffix(".csv")).strip("-.") or "export"
    return stem[:100] + ".csv"


def csv_response(
    filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]
) -> Response:
    """A download of ``rows`` as ``filename`` (text/csv; charset=utf-8, with a BOM for Excel)."""
    body = csv_text(header, rows).encode("utf-8")
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
