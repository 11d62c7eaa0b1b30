"""Imports of volunteers, institutions and shifts from CSV/Excel: preview, then all rows or none."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from web.authz import can_manage_institution
from web.extensions import db
from web.models import IMPORT_KINDS, DataImport, Institution, Opportunity, Shift, User, utcnow
from web.services import accounts, audit, columns, eligibility, opportunities, shifts
from web.services.columns import CellError, Lookups
from web.services.tabular import TableError, read_table, unescape_formula
from web.text import clean_text

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 1000
DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_TTL_HOURS = 24
CELL_MAX = 1000


class ImportFileError(ValueError):
    """The file or the import cannot be used at all; ``message`` is for the user."""

    def __init__(self, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- reading a file into rows ------------------------------------------------------------------


@dataclass
class ParsedFile:
    """The rows of a file by column key, and the headers that were not recognised."""

    rows: list[dict[str, Any]]
    ignored_headers: list[str]


def parse_file(kind: str, data: bytes, filename: str) -> ParsedFile:
    """Read the table, map its headers to columns, and keep the non-empty rows with line numbers."""
    if kind not in IMPORT_KINDS:
        raise ImportFileError(_l("Choose what the file holds."))
    limit_bytes = max_bytes()
    if len(data) > limit_bytes:
        raise ImportFileError(
            _l(
                "The file is too big (%(size)s KB). The largest file accepted is %(max)s KB; "
                "split it into several files.",
                size=(len(data) + 1023) // 1024,
                max=limit_bytes // 1024,
            ),
            413,
        )
    limit_rows = max_rows()
    try:
        table = read_table(data, filename, limit_rows)
    except TableError as exc:
        raise ImportFileError(exc.message) from None
    # The header is the first row with something in it.
    start = next((i for i, row in enumerate(table) if any(c.strip() for c in row)), None)
    if start is None:
        raise ImportFileError(_l("The file is empty."))
    known = columns.header_map(kind)
    keys: list[str | None] = []
    ignored: list[str] = []
    for header in table[start]:
        key = known.get(columns.norm(header))
        if key is not None and key in keys:
            raise ImportFileError(
                _l(
                    "The column “%(column)s” appears twice in the first row.",
                    column=columns.column(kind, key).label,
                )
            )
        keys.append(key)
        if key is None and header.strip():
            ignored.append(clean_text(header))
    missing = [c for c in columns.FORMATS[kind] if c.required and c.key not in keys]
    if missing:
        raise ImportFileError(
            _l(
                "The first row must name the columns. Missing: %(columns)s. "
                "Download the template to see the expected columns.",
                columns=", ".join(str(c.label) for c in missing),
            )
        )
    rows = []
    for offset, row in enumerate(table[start + 1 :], start=start + 2):
        values: dict[str, str] = {}
        for key, cell in zip(keys, row, strict=False):
            if key is not None:
                values[key] = unescape_formula(clean_text(cell))
        if any(values.values()):
            rows.append({"line": offset, "values": values})
    if not rows:
        raise ImportFileError(_l("The file has a header row but no rows to import."))
    if len(rows) > limit_rows:
        raise ImportFileError(
            _l(
                "The file has more than %(max)s rows. Split it into files of at most %(max)s rows.",
                max=limit_rows,
            ),
            413,
        )
    return ParsedFile(rows, ignored)


# --- checking rows and creating what they describe --------------------------------------------


@dataclass
class RowResult:
    """One row: its line in the file, its values, what is wrong with it, what it would create."""

    line: int
    values: dict[str, str]
    errors: list[tuple[str | None, str]] = field(default_factory=list)
    creates: list[str] = field(default_factory=list)

    def error(self, key: str | None, message: Any) -> None:
        self.errors.append((key, str(message)))


@dataclass
class Outcome:
    """Every row's result; ``ok`` when no row has an error."""

    kind: str
    rows: list[RowResult]

    @property
    def ok(self) -> bool:
        return not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)


class _Row:
    """Helpers to read typed values from a row, recording errors against the column."""

    def __init__(self, result: RowResult) -> None:
        self.result = result

    def text(self, key: str, limit: int = CELL_MAX) -> str:
        value = self.result.values.get(key, "")
        if len(value) > limit:
            self.result.error(key, _l("Keep this under %(max)s characters.", max=limit))
            return ""
        return value

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            self.result.error(key, _l("This cell is empty."))
        return value

    def parse(self, key: str, parser: Callable[[str], Any], default: Any = None) -> Any:
        value = self.text(key)
        if not value:
            return default
        try:
            return parser(value)
        except CellError as exc:
            self.result.error(key, exc.message)
            return default


_ACCOUNT_FIELDS = {"full_name": "full_name", "phone": "phone", "email": "email"}
_SHIFT_FIELDS = {
    "needed": "needed",
    "start_time": "start",
    "end_time": "end",
    "day": "date",
    "gender": "gender",
    "min_age": "min_age",
    "priority": "priority",
    "languages": "languages",
    "description_ar": "description_ar",
    "description_en": "description_en",
}


def _rule_errors(result: RowResult, errors: list[tuple[str | None, str]], fields: dict) -> None:
    for name, message in errors:
        key = fields.get(name or "", "reserved" if (name or "").startswith("reserved") else None)
        result.error(key, message)


def _duplicates(
    results: list[RowResult], key: str, normalise: Callable[[str], str | None]
) -> dict[str, int]:
    """Mark rows repeating an earlier row's ``key``; return value -> first line."""
    first: dict[str, int] = {}
    for result in results:
        raw = result.values.get(key, "")
        if not raw:
            continue
        try:
            value = normalise(raw)
        except (accounts.PhoneError, accounts.AccountError, CellError):
            continue
        if value is None:
            continue
        if value in first:
            result.error(
                key,
                _l("Same as row %(line)s: each row must be a different one.", line=first[value]),
            )
        else:
            first[value] = result.line
    return first


def _volunteers(actor: User, results: list[RowResult], lookups: Lookups) -> None:
    scope = actor.governorate_ids()
    _duplicates(results, "phone", accounts.normalise_phone)
    _duplicates(results, "email", lambda v: v.strip().lower())
    for result in results:
        row = _Row(result)
        name = row.required("full_name")
        phone_text = row.required("phone")
        phone = None
        if phone_text:
            try:
                phone = accounts.check_phone(phone_text, required=True)
            except accounts.AccountError as exc:
                result.error("phone", exc.message)
        if (
            phone
            and not any(key == "phone" for key, _ in result.errors)
            and db.session.execute(sa.select(User.id).where(User.phone == phone)).first()
        ):
            result.error("phone", _l("An account with this phone number already exists."))
        email = row.text("email")
        governorate = row.parse("governorate", lookups.governorate)
        if scope is not None and not result.values.get("governorate"):
            result.error("governorate", _l("Give the governorate: you import into your area."))
        if governorate is not None and scope is not None and governorate.id not in scope:
            result.error("governorate", _l("This governorate is outside your area."))
        gender = row.parse("gender", columns.volunteer_gender)
        born = row.parse("date_of_birth", columns.parse_date)
        if born is not None and not (
            datetime.now().year - 100 <= born.year <= datetime.now().year - 14
        ):
            result.error("date_of_birth", _l("This date of birth is not plausible."))
        skills = row.parse(
            "skills", lambda v: [lookups.skill(x) for x in columns.split_list(v)], []
        )
        languages = row.parse(
            "languages", lambda v: [columns.language_code(x) for x in columns.split_list(v)], []
        )
        radius = row.parse("travel_radius_km", columns.number, 15.0)
        if radius is not None and not 1 <= radius <= 200:
            result.error("travel_radius_km", _l("Enter a distance from 1 to 200 km."))
        locale = row.parse("locale", columns.account_locale)
        if result.errors or not name or not phone:
            continue
        try:
            user = accounts.import_volunteer(
                actor,
                full_name=name,
                phone=phone,
                email=email or None,
                locale=locale,
                governorate_id=governorate.id if governorate else None,
            )
            eligibility.update_profile(
                actor,
                user,
                eligibility.ProfileInput(
                    gender=gender,
                    date_of_birth=born,
                    governorate_id=governorate.id if governorate else None,
                    home_lat=governorate.lat if governorate else None,
                    home_lon=governorate.lon if governorate else None,
                    travel_radius_km=float(radius),
                    skill_ids=tuple(sorted({s.id for s in skills})),
                    languages=tuple(dict.fromkeys(languages or ["ar"])),
                    max_shifts_per_week=None,
                    max_hours_per_week=None,
                    preferred_institution_ids=(),
                    sms_consent=False,
                ),
                commit=False,
            )
        except accounts.AccountError as exc:
            result.error(_ACCOUNT_FIELDS.get(exc.field or ""), exc.message)
            continue
        except eligibility.ProfileError as exc:
            result.error(
                exc.code if exc.code in ("governorate", "skills") else None,
                _l("Choose from the list."),
            )
            continue
        result.creates.append(
            str(_l("Volunteer %(name)s, %(phone)s", name=user.full_name, phone=user.phone))
        )


def _institution_key(name_ar: str, name_en: str, governorate_id: int) -> tuple:
    return (columns.norm(name_ar), columns.norm(name_en), governorate_id)


def _institutions(actor: User, results: list[RowResult], lookups: Lookups) -> None:
    scope = actor.governorate_ids()
    existing: dict[int, list[Institution]] = {}
    seen: dict[tuple, int] = {}
    for result in results:
        row = _Row(result)
        name_ar, name_en = row.text("name_ar"), row.text("name_en")
        if not name_ar and not name_en:
            result.error("name_ar", _l("Give the name in Arabic or English (both are best)."))
        kind = row.parse("kind", columns.institution_kind)
        if not result.values.get("kind"):
            result.error("kind", _l("This cell is empty."))
        governorate = row.parse("governorate", lookups.governorate)
        if not result.values.get("governorate"):
            result.error("governorate", _l("This cell is empty."))
        if governorate is not None and scope is not None and governorate.id not in scope:
            result.error("governorate", _l("This governorate is outside your area."))
        lat = row.parse("lat", columns.number)
        lon = row.parse("lon", columns.number)
        if governorate is not None and (name_ar or name_en):
            key = _institution_key(name_ar, name_en, governorate.id)
            if key in seen:
                result.error(
                    "name_ar",
                    _l("Same as row %(line)s: each row must be a different one.", line=seen[key]),
                )
            seen.setdefault(key, result.line)
            if governorate.id not in existing:
                existing[governorate.id] = list(
                    db.session.execute(
                        sa.select(Institution).where(Institution.governorate_id == governorate.id)
                    ).scalars()
                )
            names = {columns.norm(n) for n in (name_ar, name_en) if n}
            if any(
                names & {columns.norm(i.name_ar), columns.norm(i.name_en)}
                for i in existing[governorate.id]
            ):
                result.error(
                    "name_ar",
                    _l("An institution with this name already exists in this governorate."),
                )
        if result.errors:
            continue
        try:
            institution = opportunities.create_institution(
                actor,
                opportunities.NewInstitution(
                    name_ar=name_ar,
                    name_en=name_en,
                    kind=kind,
                    governorate_id=governorate.id,
                    lat=lat,
                    lon=lon,
                    address_ar=row.text("address_ar"),
                    address_en=row.text("address_en"),
                    phone=row.text("phone"),
                    timezone=row.text("timezone"),
                ),
                commit=False,
            )
        except shifts.RuleError as exc:
            _rule_errors(
                result,
                exc.errors,
                {
                    k: k
                    for k in (
                        "name_ar",
                        "name_en",
                        "address_ar",
                        "address_en",
                        "phone",
                        "kind",
                        "governorate",
                        "lat",
                        "lon",
                        "timezone",
                    )
                },
            )
            continue
        result.creates.append(
            str(
                _l(
                    "Institution %(name)s (%(governorate)s)",
                    name=institution.name,
                    governorate=governorate.name,
                )
            )
        )


def _find_institution(text: str, governorate_text: str, lookups: Lookups) -> Institution:
    wanted = columns.norm(text)
    statement = sa.select(Institution).where(Institution.active.is_(True))
    if governorate_text:
        statement = statement.where(
            Institution.governorate_id == lookups.governorate(governorate_text).id
        )
    found = [
        i
        for i in db.session.execute(statement.order_by(Institution.id)).scalars()
        if wanted in (columns.norm(i.name_ar), columns.norm(i.name_en))
    ]
    if not found:
        raise CellError(_l("No institution is called “%(value)s”.", value=text))
    if len(found) > 1:
        raise CellError(
            _l("Several institutions are called “%(value)s”: add the governorate.", value=text)
        )
    return found[0]


def _find_opportunity(institution: Institution, title_ar: str, title_en: str) -> Opportunity | None:
    wanted = {columns.norm(t) for t in (title_ar, title_en) if t}
    for opportunity in db.session.execute(
        sa.select(Opportunity)
        .where(Opportunity.institution_id == institution.id)
        .order_by(Opportunity.id)
    ).scalars():
        if wanted & {columns.norm(opportunity.title_ar), columns.norm(opportunity.title_en)} - {""}:
            return opportunity
    return None


def _shifts(actor: User, results: list[RowResult], lookups: Lookups, now: datetime) -> None:
    seen: dict[tuple, int] = {}
    for result in results:
        row = _Row(result)
        institution = None
        institution_text = row.required("institution")
        if institution_text:
            try:
                institution = _find_institution(
                    institution_text, result.values.get("governorate", ""), lookups
                )
            except CellError as exc:
                result.error("institution", exc.message)
        if institution is not None and not can_manage_institution(actor, institution):
            result.error("institution", _l("This institution is outside your area."))
            institution = None
        title_ar = row.text("opportunity_ar", opportunities.TITLE_MAX)
        title_en = row.text("opportunity_en", opportunities.TITLE_MAX)
        if not title_ar and not title_en:
            result.error("opportunity_ar", _l("Give the opportunity's title in Arabic or English."))
        day = row.parse("date", columns.parse_date) if row.required("date") else None
        start = row.parse("start", columns.parse_time) if row.required("start") else None
        end = row.parse("end", columns.parse_time) if row.required("end") else None
        needed = (
            row.parse("needed", lambda v: int(columns.number(v, whole=True)))
            if row.required("needed")
            else None
        )
        reserved = row.parse("reserved", lambda v: columns.reserved_places(v, lookups), {})
        gender = row.parse("gender", columns.shift_gender, "any")
        min_age = row.parse("min_age", lambda v: int(columns.number(v, whole=True)), 0)
        priority = row.parse("priority", lambda v: int(columns.number(v, whole=True)), 1)
        languages = row.parse(
            "languages", lambda v: [columns.language_code(x) for x in columns.split_list(v)], []
        )
        if institution is not None and day is not None and start is not None:
            key = (institution.id, columns.norm(title_ar or title_en), day, start, end)
            if key in seen:
                result.error(
                    "date",
                    _l("Same as row %(line)s: each row must be a different one.", line=seen[key]),
                )
            seen.setdefault(key, result.line)
        if result.errors:
            continue
        assert institution is not None and day and start and end and needed is not None
        opportunity = _find_opportunity(institution, title_ar, title_en)
        new_opportunity = opportunity is None
        try:
            if opportunity is None:
                opportunity = opportunities.create_opportunity(
                    actor,
                    institution,
                    opportunities.OpportunityText(title_ar=title_ar, title_en=title_en),
                    commit=False,
                )
            zone = shifts.institution_zone(institution)
            try:
                starts_at = shifts.local_to_utc(day, start, zone)
                ends_at = shifts.local_to_utc(day, end, zone)
            except shifts.LocalTimeError:
                starts_at = ends_at = None
            if (
                starts_at is not None
                and db.session.execute(
                    sa.select(Shift.id).where(
                        Shift.opportunity_id == opportunity.id,
                        Shift.starts_at == starts_at,
                        Shift.ends_at == ends_at,
                        Shift.status == "open",
                    )
                ).first()
            ):
                result.error("date", _l("This shift already exists."))
                continue
            shifts.create_shift(
                actor,
                opportunity,
                day,
                start,
                end,
                shifts.ShiftDetails(
                    needed=needed,
                    reserved=reserved,
                    gender=gender,
                    min_age=min_age,
                    priority=priority,
                    languages=tuple(languages),
                    description_ar=row.text("description_ar"),
                    description_en=row.text("description_en"),
                ),
                now,
                commit=False,
            )
        except shifts.RuleError as exc:
            _rule_errors(result, exc.errors, _SHIFT_FIELDS)
            continue
        if new_opportunity:
            result.creates.append(str(_l("New opportunity: %(title)s", title=opportunity.title)))
        result.creates.append(
            str(
                _l(
                    "Shift at %(institution)s on %(day)s, %(start)s–%(end)s, %(n)s places",
                    institution=institution.name,
                    day=day.isoformat(),
                    start=start.strftime("%H:%M"),
                    end=end.strftime("%H:%M"),
                    n=needed,
                )
            )
        )


def _run(actor: User, kind: str, rows: list[dict[str, Any]], now: datetime) -> Outcome:
    """Check every row and create what it describes in the open transaction (caller decides)."""
    results = [RowResult(int(r["line"]), dict(r["values"])) for r in rows]
    lookups = Lookups()
    if kind == "volunteers":
        _volunteers(actor, results, lookups)
    elif kind == "institutions":
        _institutions(actor, results, lookups)
    else:
        _shifts(actor, results, lookups, now)
    return Outcome(kind, results)


# --- pending imports: upload, preview, confirm ------------------------------------------------


def may_import(user: User) -> bool:
    return user.role in ("coordinator", "admin")


def upload(
    actor: User, kind: str, data: bytes, filename: str, ignored: list[str] | None = None
) -> DataImport:
    """Parse a file and keep its rows as a pending import of ``actor`` (nothing else written).

    ``ignored``, when given, receives the column names that were not recognised.
    """
    if not may_import(actor):
        raise ImportFileError(_l("Only coordinators and admins import files."), 403)
    parsed = parse_file(kind, data, filename)
    if ignored is not None:
        ignored.extend(parsed.ignored_headers)
    now = utcnow()
    hours = int(current_app.config.get("IMPORT_TTL_HOURS", DEFAULT_TTL_HOURS))
    pending = DataImport(
        kind=kind,
        owner_id=actor.id,
        filename=clean_text(filename)[:200],
        file_sha256=hashlib.sha256(data).hexdigest(),
        rows=parsed.rows,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(pending)
    db.session.flush()
    audit.record(
        actor,
        "import.uploaded",
        "data_import",
        pending.id,
        kind=kind,
        rows=len(parsed.rows),
        sha256=pending.file_sha256,
        ignored_columns=parsed.ignored_headers,
    )
    purge_expired(now)
    db.session.commit()
    return pending


def get_pending(actor: User, import_id: int, now: datetime | None = None) -> DataImport | None:
    """The actor's own pending import, or ``None`` (another's, expired or gone)."""
    pending = db.session.get(DataImport, import_id)
    if pending is None or pending.owner_id != actor.id:
        return None
    if pending.expires_at <= (now or utcnow()):
        return None
    return pending


def preview(actor: User, pending: DataImport, now: datetime | None = None) -> Outcome:
    """Check every row through the same services the confirmation uses, then undo everything."""
    now = now or utcnow()
    rows = list(pending.rows)
    kind = pending.kind
    try:
        return _run(actor, kind, rows, now)
    finally:
        db.session.rollback()


def confirm(actor: User, pending: DataImport, sha256: str, now: datetime | None = None) -> Outcome:
    """Create every row in one transaction, or nothing when any row has an error now."""
    now = now or utcnow()
    if sha256 != pending.file_sha256:
        raise ImportFileError(_l("This preview is out of date. Upload the file again."), 409)
    import_id, kind, digest = pending.id, pending.kind, pending.file_sha256
    rows = list(pending.rows)
    # Claim the pending import first: a second confirmation (a double click, another tab) waits
    # for this transaction and then finds nothing to confirm, so no row is created twice.
    claimed = db.session.execute(sa.delete(DataImport).where(DataImport.id == import_id))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise ImportFileError(_l("This import has already been confirmed or discarded."), 409)
    try:
        outcome = _run(actor, kind, rows, now)
    except IntegrityError:
        db.session.rollback()
        log.info("import %s lost a race with another change", import_id)
        raise ImportFileError(
            _l(
                "The data changed while importing. Nothing was imported; look at the preview again."
            ),
            409,
        ) from None
    if not outcome.ok:
        db.session.rollback()
        return outcome
    audit.record(
        actor,
        "import.confirmed",
        "data_import",
        import_id,
        kind=kind,
        rows=len(rows),
        sha256=digest,
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ImportFileError(
            _l(
                "The data changed while importing. Nothing was imported; look at the preview again."
            ),
            409,
        ) from None
    return outcome


def discard(actor: User, pending: DataImport) -> None:
    """Forget a pending import."""
    audit.record(actor, "import.discarded", "data_import", pending.id, kind=pending.kind)
    db.session.delete(pending)
    db.session.commit()


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired pending imports (called on each upload; no commit)."""
    result = db.session.execute(
        sa.delete(DataImport).where(DataImport.expires_at <= (now or utcnow()))
    )
    return int(result.rowcount or 0)
