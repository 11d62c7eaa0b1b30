"""Reading and writing spreadsheets: CSV (encoding and delimiter sniffed) and Excel .xlsx."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = ",;\t|\u060c"  # the last one is the Arabic comma
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TableError(ValueError):
    """The file cannot be read as a table; ``message`` says why in the user's language."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1256 (Arabic Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise TableError(_l("The file's text encoding could not be read.")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1256")
    except UnicodeDecodeError:
        raise TableError(
            _l("The file's text encoding could not be read. Save it as CSV UTF-8 and try again.")
        ) from None


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv(data: bytes, max_rows: int) -> list[list[str]]:
    """Rows of a CSV file; at most ``max_rows`` + 1 are read (the caller reports the excess)."""
    text = _decode(data).replace("\x00", "")
    if not text.strip():
        raise TableError(_l("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > max_rows + 1:
                break
    except csv.Error:
        raise TableError(_l("The file is not a valid CSV file.")) from None
    return rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes, max_rows: int) -> list[list[str]]:
    """Rows of the first sheet of an .xlsx workbook (read-only mode, values not formulas)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise TableError(_l("The file is not a valid Excel (.xlsx) workbook.")) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise TableError(_l("The file is empty."))
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > max_rows + 1:
                break
    finally:
        workbook.close()
    # Read-only sheets may report trailing empty cells: drop them.
    return [_strip_trailing(row) for row in rows]


def _strip_trailing(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def read_table(data: bytes, filename: str, max_rows: int) -> list[list[str]]:
    """Rows of an uploaded CSV or .xlsx file, recognised by its first bytes."""
    if not data:
        raise TableError(_l("The file is empty."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError(
            _l("Old Excel files (.xls) are not supported. Save the file as .xlsx or CSV.")
        )
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(data, max_rows)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise TableError(_l("The file is not a valid Excel (.xlsx) workbook."))
    return read_csv(data, max_rows)


# --- writing --------------------------------------------------------------------------------


def unescape_formula(value: str) -> str:
    """Undo the quote ``web.csv_export.safe_cell`` puts before a formula-like cell.

    So an exported file imports back to the same values (its rule: ``= + - @`` tab or CR first,
    spaces before them allowed).
    """
    if value.startswith("'") and value[1:].lstrip(" ").startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads Arabic right), formula cells escaped.

    The dashboards' shared helper (``web/csv_export.py``) does the writing, so every CSV download
    of the app follows one rule.
    """
    from web.csv_export import csv_text

    return csv_text(header, rows).encode("utf-8")


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """An .xlsx workbook of one sheet; text cells are stored as text, never as formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet")

    def cells(values: Sequence[Any]) -> list[Any]:
        out = []
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append(value)
                continue
            cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
            cell.data_type = "s"  # "=1+1" stays the text "=1+1"
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
