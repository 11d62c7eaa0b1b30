"""The column formats of the import/export files: names in Arabic and English, and cell values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.labels import GENDER_LABELS, KIND_LABELS, LANGUAGE_LABELS
from web.models import INSTITUTION_KINDS, LANGUAGES, Governorate, Skill
from web.text import ascii_digits, clean_text


@dataclass(frozen=True)
class Column:
    """One column: its key, its label, the headers it is recognised by, and whether it is needed."""

    key: str
    label: Any  # lazy: the name shown in errors and written as the English/Arabic header
    header_en: str
    header_ar: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def headers(self) -> tuple[str, ...]:
        return (self.header_en, self.header_ar, self.key, *self.aliases)


C = Column
FORMATS: dict[str, tuple[Column, ...]] = {
    "volunteers": (
        C("full_name", _l("Full name"), "Full name", "الاسم الكامل",
          ("name", "الاسم", "الاسم بالكامل", "اسم المتطوع"), required=True),
        C("phone", _l("Mobile phone"), "Mobile phone", "رقم الموبايل",
          ("phone", "mobile", "phone number", "الهاتف", "رقم الهاتف", "الموبايل", "المحمول",
           "الجوال", "رقم الجوال", "رقم المحمول"), required=True),
        C("email", _l("Email"), "Email", "البريد الإلكتروني",
          ("e-mail", "email address", "البريد", "الايميل")),
        C("governorate", _l("Governorate"), "Governorate", "المحافظة"),
        C("gender", _l("Gender"), "Gender", "النوع", ("sex", "الجنس")),
        C("date_of_birth", _l("Date of birth"), "Date of birth", "تاريخ الميلاد",
          ("birth date", "dob", "birthday")),
        C("skills", _l("Skills"), "Skills", "المهارات"),
        C("languages", _l("Languages"), "Languages", "اللغات"),
        C("travel_radius_km", _l("Travel radius (km)"), "Travel radius (km)",
          "مسافة التنقل (كم)", ("radius", "travel radius", "radius km", "مسافة التنقل")),
        C("locale", _l("Language of the account"), "Language of the account", "لغة الحساب",
          ("locale", "preferred language", "اللغة المفضلة")),
    ),
    "institutions": (
        C("name_ar", _l("Name in Arabic"), "Name in Arabic", "الاسم بالعربية",
          ("arabic name", "name ar", "الاسم العربي", "اسم المؤسسة")),
        C("name_en", _l("Name in English"), "Name in English", "الاسم بالإنجليزية",
          ("english name", "name en", "الاسم الإنجليزي")),
        C("kind", _l("Kind"), "Kind", "نوع المؤسسة", ("type", "النوع"), required=True),
        C("governorate", _l("Governorate"), "Governorate", "المحافظة", required=True),
        C("address_ar", _l("Address in Arabic"), "Address in Arabic", "العنوان بالعربية",
          ("address", "العنوان")),
        C("address_en", _l("Address in English"), "Address in English", "العنوان بالإنجليزية"),
        C("lat", _l("Latitude"), "Latitude", "خط العرض", ("lat",)),
        C("lon", _l("Longitude"), "Longitude", "خط الطول", ("lon", "lng", "long")),
        C("timezone", _l("Time zone"), "Time zone", "المنطقة الزمنية", ("timezone", "tz")),
        C("phone", _l("Phone"), "Phone", "الهاتف", ("phone number", "رقم الهاتف")),
    ),
    "shifts": (
        C("institution", _l("Institution"), "Institution", "المؤسسة",
          ("institution name", "اسم المؤسسة", "الدار"), required=True),
        C("governorate", _l("Governorate"), "Governorate", "المحافظة"),
        C("opportunity_ar", _l("Opportunity in Arabic"), "Opportunity in Arabic",
          "الفرصة بالعربية", ("opportunity", "الفرصة")),
        C("opportunity_en", _l("Opportunity in English"), "Opportunity in English",
          "الفرصة بالإنجليزية"),
        C("date", _l("Date"), "Date", "التاريخ", ("day", "اليوم"), required=True),
        C("start", _l("Start time"), "Start time", "وقت البداية",
          ("start", "from", "من", "البداية"), required=True),
        C("end", _l("End time"), "End time", "وقت النهاية",
          ("end", "to", "إلى", "الى", "النهاية"), required=True),
        C("needed", _l("Places"), "Places", "عدد الأماكن",
          ("needed", "places needed", "العدد المطلوب", "العدد"), required=True),
        C("reserved", _l("Places for skills"), "Places for skills", "أماكن للمهارات",
          ("reserved places", "skill places")),
        C("gender", _l("Who may take it"), "Who may take it", "من يمكنه الحضور",
          ("gender", "الجنس", "النوع")),
        C("min_age", _l("Minimum age"), "Minimum age", "الحد الأدنى للسن",
          ("min age", "السن الأدنى")),
        C("priority", _l("Priority"), "Priority", "الأولوية"),
        C("languages", _l("Languages"), "Languages", "اللغات"),
        C("description_ar", _l("Notes in Arabic"), "Notes in Arabic", "ملاحظات بالعربية",
          ("description ar", "الوصف بالعربية")),
        C("description_en", _l("Notes in English"), "Notes in English", "ملاحظات بالإنجليزية",
          ("description en", "الوصف بالإنجليزية")),
    ),
}  # fmt: skip


class CellError(ValueError):
    """A cell's value is wrong; ``message`` (lazy) says what is expected."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_SEPARATORS = re.compile(r"[\s_\-./()\[\]:]+")


def norm(text: str | None) -> str:
    """Fold a header or a name for matching: case, spaces, punctuation, alef forms, tatweel."""
    text = clean_text(text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ALEF)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")  # Arabic diacritics
    return _SEPARATORS.sub(" ", text).strip()


def header_map(kind: str) -> dict[str, str]:
    """Folded header -> column key, for every name a column is known by."""
    out: dict[str, str] = {}
    for column in FORMATS[kind]:
        for header in column.headers():
            out.setdefault(norm(header), column.key)
    return out


def column(kind: str, key: str) -> Column:
    return next(c for c in FORMATS[kind] if c.key == key)


# --- cell values --------------------------------------------------------------------------------

LIST_SPLIT = re.compile(r"\s*[,;|\u060c\u061b\n]\s*")
TRUE_WORDS = {"1", "yes", "true", "y", "نعم"}


def split_list(text: str) -> list[str]:
    return [part for part in LIST_SPLIT.split(text.strip()) if part]


def number(text: str, *, whole: bool = False) -> float:
    cleaned = ascii_digits(text).replace(",", "").replace(" ", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise CellError(_l("Enter a whole number.") if whole else _l("Enter a number.")) from None
    if whole and not value.is_integer():
        raise CellError(_l("Enter a whole number."))
    return value


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M")


def parse_date(text: str) -> date:
    """ISO dates, or day/month/year as written in Egypt (never month first)."""
    cleaned = ascii_digits(text).strip().replace("\u200f", "")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise CellError(_l("Write the date as YYYY-MM-DD or DD/MM/YYYY, e.g. 2026-12-31."))


_PM = ("pm", "p.m.", "م", "مساء", "مساءً")
_AM = ("am", "a.m.", "ص", "صباحا", "صباحًا")


def parse_time(text: str) -> time:
    """``HH:MM`` (24 hours), or with AM/PM (ص/م)."""
    cleaned = ascii_digits(text).strip().casefold()
    shift = None
    for words, add in ((_PM, 12), (_AM, 0)):
        for word in words:
            if cleaned.endswith(word):
                cleaned = cleaned[: -len(word)].strip()
                shift = add
                break
        if shift is not None:
            break
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?", cleaned)
    if not match:
        raise CellError(_l("Write the time as HH:MM, e.g. 09:30 or 16:00."))
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if shift is not None:
        if not 1 <= hour <= 12:
            raise CellError(_l("Write the time as HH:MM, e.g. 09:30 or 16:00."))
        hour = hour % 12 + shift
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise CellError(_l("Write the time as HH:MM, e.g. 09:30 or 16:00."))
    return time(hour, minute)


class Lookups:
    """Governorates and skills by every name they are written with (loaded once per import)."""

    def __init__(self) -> None:
        self.governorates: dict[str, Governorate] = {}
        for g in db.session.execute(sa.select(Governorate)).scalars():
            for name in (g.code, g.name_ar, g.name_en, g.code.removeprefix("EG-")):
                self.governorates.setdefault(norm(name), g)
        self.skills: dict[str, Skill] = {}
        for s in db.session.execute(sa.select(Skill).where(Skill.active.is_(True))).scalars():
            for name in (s.code, s.name_ar, s.name_en):
                self.skills.setdefault(norm(name), s)

    def governorate(self, text: str) -> Governorate:
        found = self.governorates.get(norm(text))
        if found is None:
            raise CellError(_l("Unknown governorate “%(value)s”.", value=text))
        return found

    def skill(self, text: str) -> Skill:
        found = self.skills.get(norm(text))
        if found is None:
            raise CellError(_l("Unknown skill “%(value)s”.", value=text))
        return found


def _by_label(text: str, codes: tuple[str, ...], labels: dict[str, Any], extra: dict[str, str]):
    wanted = norm(text)
    for code in codes:
        if wanted == norm(code):
            return code
    for key, code in extra.items():
        if wanted == norm(key):
            return code
    from flask_babel import force_locale

    for language in ("ar", "en"):
        with force_locale(language):
            for code in codes:
                if code in labels and wanted == norm(str(labels[code])):
                    return code
    return None


_LANGUAGE_WORDS = {
    "arabic": "ar", "العربية": "ar", "عربي": "ar", "english": "en", "الإنجليزية": "en",
    "الانجليزية": "en", "انجليزي": "en", "french": "fr", "الفرنسية": "fr",
}  # fmt: skip
_GENDER_WORDS = {
    "f": "female", "woman": "female", "women": "female", "أنثى": "female", "انثي": "female",
    "انثى": "female", "ذكر": "male", "m": "male", "man": "male", "men": "male", "رجل": "male",
}  # fmt: skip
_SHIFT_GENDER_WORDS = {
    "all": "any", "both": "any", "الكل": "any", "الجميع": "any", "women": "female",
    "female": "female", "إناث": "female", "نساء": "female", "men": "male", "male": "male",
    "ذكور": "male", "رجال": "male",
}  # fmt: skip
_KIND_WORDS = {
    "دار أيتام": "orphanage", "دار ايتام": "orphanage", "دار مسنين": "elderly_home",
    "دار رعاية مسنين": "elderly_home", "مركز إعاقة": "disability_centre",
    "disability center": "disability_centre", "أخرى": "other",
}  # fmt: skip


def language_code(text: str) -> str:
    code = _by_label(text, LANGUAGES, LANGUAGE_LABELS, _LANGUAGE_WORDS)
    if code is None:
        raise CellError(_l("Unknown language “%(value)s”.", value=text))
    return code


def volunteer_gender(text: str) -> str:
    code = _by_label(text, ("female", "male"), {}, _GENDER_WORDS)
    if code is None:
        raise CellError(_l("Write female or male (أنثى or ذكر)."))
    return code


def shift_gender(text: str) -> str:
    code = _by_label(text, ("any", "female", "male"), GENDER_LABELS, _SHIFT_GENDER_WORDS)
    if code is None:
        raise CellError(_l("Write any, female or male (الكل، إناث، ذكور)."))
    return code


def institution_kind(text: str) -> str:
    code = _by_label(text, INSTITUTION_KINDS, KIND_LABELS, _KIND_WORDS)
    if code is None:
        raise CellError(_l("Unknown kind “%(value)s”.", value=text))
    return code


def account_locale(text: str) -> str:
    code = _by_label(text, ("ar", "en"), LANGUAGE_LABELS, _LANGUAGE_WORDS)
    if code is None:
        raise CellError(_l("Write ar or en."))
    return code


def reserved_places(text: str, lookups: Lookups) -> dict[int, int]:
    """``skill: places`` pairs, e.g. ``music: 1; physiotherapy: 2``."""
    out: dict[int, int] = {}
    for part in re.split(r"\s*[;|\u061b\n]\s*|\s*[,\u060c]\s*(?=[^\d\s])", text.strip()):
        if not part:
            continue
        name, sep, count = ascii_digits(part).rpartition(":")
        if not sep:
            name, sep, count = ascii_digits(part).rpartition("=")
        if not sep or not name.strip():
            raise CellError(_l("Write skill: places, e.g. music: 1; first_aid: 2."))
        places = number(count, whole=True)
        skill = lookups.skill(name.strip())
        out[skill.id] = out.get(skill.id, 0) + int(places)
    return out
