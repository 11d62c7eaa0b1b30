"""Exports and templates of volunteers, institutions and shifts, in the import's column format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from web.extensions import db
from web.labels import GENDER_LABELS, KIND_LABELS, LANGUAGE_LABELS
from web.models import IMPORT_KINDS, Institution, Opportunity, Shift, User, VolunteerProfile, utcnow
from web.services import columns, shifts
from web.services.tabular import write_csv, write_xlsx

FORMATS = ("csv", "xlsx")


def header(kind: str, language: str) -> list[str]:
    """The column names of a kind in Arabic or English (what the templates and exports use)."""
    return [c.header_ar if language == "ar" else c.header_en for c in columns.FORMATS[kind]]


def _pick(language: str, text_ar: str, text_en: str) -> str:
    return (text_ar or text_en) if language == "ar" else (text_en or text_ar)


def _label(labels: dict[str, Any], code: str | None, language: str) -> str:
    if not code:
        return ""
    with force_locale(language):
        return str(labels.get(code, code))


def _number(value: float | None) -> float | int | str:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(value, 6)


# A volunteer's gender as the import reads it back (columns.volunteer_gender).
_VOLUNTEER_GENDERS = {"female": _l("Female"), "male": _l("Male")}


def volunteer_rows(actor: User, language: str) -> Iterator[list[Any]]:
    scope = actor.governorate_ids()
    statement = (
        sa.select(User)
        .join(VolunteerProfile, VolunteerProfile.user_id == User.id)
        .where(User.role == "volunteer")
        .options(selectinload(User.profile).selectinload(VolunteerProfile.skills))
        .order_by(User.id)
    )
    if scope is not None:
        statement = statement.where(VolunteerProfile.governorate_id.in_(scope or [-1]))
    for user in db.session.execute(statement).scalars():
        profile = user.profile
        assert profile is not None
        governorate = profile.governorate
        yield [
            user.full_name,
            user.phone or "",
            user.email or "",
            _pick(language, governorate.name_ar, governorate.name_en) if governorate else "",
            _label(_VOLUNTEER_GENDERS, profile.gender, language),
            profile.date_of_birth.isoformat() if profile.date_of_birth else "",
            ", ".join(_pick(language, s.name_ar, s.name_en) for s in profile.skills),
            ", ".join(_label(LANGUAGE_LABELS, code, language) for code in profile.languages or []),
            _number(profile.travel_radius_km),
            user.locale or "",
        ]


def institution_rows(actor: User, language: str) -> Iterator[list[Any]]:
    scope = actor.governorate_ids()
    statement = sa.select(Institution).where(Institution.active.is_(True)).order_by(Institution.id)
    if scope is not None:
        statement = statement.where(Institution.governorate_id.in_(scope or [-1]))
    for institution in db.session.execute(statement).scalars():
        governorate = institution.governorate
        yield [
            institution.name_ar,
            institution.name_en,
            _label(KIND_LABELS, institution.kind, language),
            _pick(language, governorate.name_ar, governorate.name_en),
            institution.address_ar,
            institution.address_en,
            _number(institution.lat),
            _number(institution.lon),
            institution.timezone,
            institution.phone or "",
        ]


def shift_rows(actor: User, language: str, now: datetime | None = None) -> Iterator[list[Any]]:
    """Open shifts that have not started yet (a past shift cannot be imported again)."""
    scope = actor.governorate_ids()
    statement = (
        sa.select(Shift)
        .join(Institution, Institution.id == Shift.institution_id)
        .where(Shift.status == "open", Shift.starts_at > (now or utcnow()))
        .options(selectinload(Shift.requirements), selectinload(Shift.opportunity))
        .order_by(Shift.starts_at, Shift.id)
    )
    if scope is not None:
        statement = statement.where(Institution.governorate_id.in_(scope or [-1]))
    for shift in db.session.execute(statement).scalars():
        institution = shift.institution
        opportunity: Opportunity = shift.opportunity
        start = shifts.utc_to_local(shift.starts_at, institution)
        end = shifts.utc_to_local(shift.ends_at, institution)
        reserved = "; ".join(
            f"{_pick(language, r.skill.name_ar, r.skill.name_en)}: {r.places}"
            for r in shift.requirements
        )
        yield [
            _pick(language, institution.name_ar, institution.name_en),
            _pick(language, institution.governorate.name_ar, institution.governorate.name_en),
            opportunity.title_ar,
            opportunity.title_en,
            start.date().isoformat(),
            start.strftime("%H:%M"),
            end.strftime("%H:%M"),
            shift.needed,
            reserved,
            _label(GENDER_LABELS, shift.gender, language),
            shift.min_age,
            shift.priority,
            ", ".join(_label(LANGUAGE_LABELS, code, language) for code in shift.languages or []),
            shift.description_ar,
            shift.description_en,
        ]


ROWS = {"volunteers": volunteer_rows, "institutions": institution_rows, "shifts": shift_rows}


def export_file(actor: User, kind: str, fmt: str, language: str) -> bytes:
    """The kind's rows in the actor's area as CSV or .xlsx, headers in ``language``."""
    assert kind in IMPORT_KINDS and fmt in FORMATS
    rows = ROWS[kind](actor, language)
    if fmt == "csv":
        return write_csv(header(kind, language), rows)
    return write_xlsx(header(kind, language), rows, kind)


def _examples(kind: str, language: str, today: date) -> list[list[Any]]:
    day = (today + timedelta(days=14)).isoformat()
    if language == "ar":
        examples = {
            "volunteers": [
                [
                    "منى أحمد",
                    "010 1234 5678",
                    "mona@example.org",
                    "القاهرة",
                    "أنثى",
                    "1998-03-21",
                    "تدريس ومساعدة في المذاكرة، موسيقى وكورال",
                    "العربية، الإنجليزية",
                    15,
                    "ar",
                ],
                [
                    "كريم حسن",
                    "٠١١٢٣٤٥٦٧٨٩",
                    "",
                    "الجيزة",
                    "ذكر",
                    "15/07/2001",
                    "",
                    "العربية",
                    10,
                    "",
                ],
            ],
            "institutions": [
                [
                    "دار الأمل للأيتام",
                    "Dar Al Amal Orphanage",
                    "دار أيتام",
                    "القاهرة",
                    "١٢ شارع النيل، المعادي",
                    "12 Nile Street, Maadi",
                    29.96,
                    31.25,
                    "Africa/Cairo",
                    "02 2345 6789",
                ],
            ],
            "shifts": [
                [
                    "دار الأمل للأيتام",
                    "القاهرة",
                    "تدريس أسبوعي",
                    "Weekly tutoring",
                    day,
                    "16:00",
                    "18:00",
                    3,
                    "تدريس ومساعدة في المذاكرة: 1",
                    "الكل",
                    18,
                    1,
                    "العربية",
                    "",
                    "",
                ],
            ],
        }
    else:
        examples = {
            "volunteers": [
                ["Mona Ahmed", "+20 10 1234 5678", "mona@example.org", "Cairo", "female",
                 "1998-03-21", "tutoring, music", "Arabic, English", 15, "en"],
                ["Karim Hassan", "01123456789", "", "Giza", "male", "15/07/2001", "", "ar", 10,
                 ""],
            ],
            "institutions": [
                ["دار الأمل للأيتام", "Dar Al Amal Orphanage", "Orphanage", "Cairo",
                 "١٢ شارع النيل، المعادي", "12 Nile Street, Maadi", 29.96, 31.25, "Africa/Cairo",
                 "02 2345 6789"],
            ],
            "shifts": [
                ["Dar Al Amal Orphanage", "Cairo", "تدريس أسبوعي", "Weekly tutoring", day,
                 "4:00 PM", "6:00 PM", 3, "tutoring: 1", "any", 18, 1, "Arabic", "", ""],
            ],
        }  # fmt: skip
    return examples[kind]


def template_file(kind: str, fmt: str, language: str, today: date | None = None) -> bytes:
    """An empty file of the kind with its headers in ``language`` and example rows."""
    assert kind in IMPORT_KINDS and fmt in FORMATS
    rows = _examples(kind, language, today or date.today())
    if fmt == "csv":
        return write_csv(header(kind, language), rows)
    return write_xlsx(header(kind, language), rows, kind)
