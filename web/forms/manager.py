"""Forms of the care-home manager: institution details, opportunities, shifts and series."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from web.forms.fields import (
    CleanStringField,
    CleanTextAreaField,
    LocalDateField,
    LocalIntegerField,
    LocalTimeField,
    int_or_none,
    one_of_choices,
    options,
)
from web.labels import GENDER_LABELS, KIND_LABELS, LANGUAGE_LABELS
from web.models import INSTITUTION_KINDS, LANGUAGES, Skill
from web.services.credentials import credential_types
from web.services.opportunities import (
    ADDRESS_MAX,
    COMMITMENT_MAX,
    LONG_TEXT_MAX,
    NAME_MAX,
    TITLE_MAX,
)
from web.services.shifts import DESCRIPTION_MAX, MAX_AGE, MAX_NEEDED
from web.text import ascii_digits

# WTForms' own Arabic catalogue lacks most plural forms: its "Field cannot be longer than"
# would show in English.
TOO_LONG = _l("This is too long.")

STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "closed": _l("Closed")}
_DATE_SPLIT = re.compile(r"[\s,،;؛]+")
NUMBER_INPUT = {"inputmode": "numeric", "type": "text", "dir": "ltr"}


def skill_choices(skills: Sequence[Skill]) -> list[SelectChoice]:
    return options((s.id, s.name) for s in skills)


class InstitutionForm(FlaskForm):
    """An institution's names, address and phone; kind and governorate for staff above."""

    name_ar = CleanStringField(
        _l("Name in Arabic"),
        [Length(max=NAME_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl"},
    )
    name_en = CleanStringField(
        _l("Name in English"),
        [Length(max=NAME_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr"},
    )
    address_ar = CleanStringField(
        _l("Address in Arabic"),
        [Length(max=ADDRESS_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl"},
    )
    address_en = CleanStringField(
        _l("Address in English"),
        [Length(max=ADDRESS_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr"},
    )
    phone = CleanStringField(
        _l("Phone"),
        [Length(max=40, message=TOO_LONG)],
        render_kw={"type": "tel", "inputmode": "tel", "dir": "ltr", "autocomplete": "tel"},
    )
    kind = SelectField(
        _l("Kind"),
        choices=options((k, KIND_LABELS[k]) for k in INSTITUTION_KINDS),
        validators=[InputRequired(), one_of_choices(_l("Choose a kind from the list."))],
        validate_choice=False,
    )
    governorate = SelectField(
        _l("Governorate"),
        coerce=int_or_none,
        validators=[
            InputRequired(),
            one_of_choices(_l("Choose a governorate from the list.")),
        ],
        validate_choice=False,
    )

    def validate_name_ar(self, field: Field) -> None:
        if not field.data and not self.name_en.data:
            raise ValidationError(str(_l("Give the name in Arabic or English (both are best).")))


class OpportunityForm(FlaskForm):
    """An opportunity's bilingual texts, skills and status."""

    title_ar = CleanStringField(
        _l("Title in Arabic"),
        [Length(max=TITLE_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl"},
    )
    title_en = CleanStringField(
        _l("Title in English"),
        [Length(max=TITLE_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr"},
    )
    description_ar = CleanTextAreaField(
        _l("What help is needed, for whom and why (Arabic)"),
        [Length(max=LONG_TEXT_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl", "rows": 5},
    )
    description_en = CleanTextAreaField(
        _l("What help is needed, for whom and why (English)"),
        [Length(max=LONG_TEXT_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr", "rows": 5},
    )
    requirements_ar = CleanTextAreaField(
        _l("Requirements (Arabic)"),
        [Length(max=LONG_TEXT_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl", "rows": 3},
    )
    requirements_en = CleanTextAreaField(
        _l("Requirements (English)"),
        [Length(max=LONG_TEXT_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr", "rows": 3},
    )
    commitment_ar = CleanStringField(
        _l("Expected commitment (Arabic)"),
        [Length(max=COMMITMENT_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl"},
    )
    commitment_en = CleanStringField(
        _l("Expected commitment (English)"),
        [Length(max=COMMITMENT_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr"},
    )
    skills = SelectMultipleField(
        _l("Skills that help"),
        coerce=int_or_none,
        validators=[one_of_choices(_l("Choose skills from the list."))],
        validate_choice=False,
    )
    status = SelectField(
        _l("Status"),
        validators=[InputRequired(), one_of_choices(_l("Choose a status from the list."))],
        validate_choice=False,
    )

    def __init__(self, *args: Any, skills: Sequence[Skill] = (), new: bool = True, **kw: Any):
        super().__init__(*args, **kw)
        self.skills.choices = skill_choices(skills)
        statuses = ("draft", "open") if new else ("draft", "open", "closed")
        self.status.choices = options((s, STATUS_LABELS[s]) for s in statuses)

    def validate_title_ar(self, field: Field) -> None:
        if not field.data and not self.title_en.data:
            raise ValidationError(str(_l("Give a title in Arabic or English (both are best).")))


class _ShiftFieldsForm(FlaskForm):
    """The fields a single shift and a weekly series share."""

    start_time = LocalTimeField(
        _l("Start time"), [InputRequired(_l("Enter a time as HH:MM."))], render_kw={"dir": "ltr"}
    )
    end_time = LocalTimeField(
        _l("End time"), [InputRequired(_l("Enter a time as HH:MM."))], render_kw={"dir": "ltr"}
    )
    needed = LocalIntegerField(
        _l("Places needed"),
        [
            InputRequired(_l("Enter a whole number.")),
            NumberRange(1, MAX_NEEDED, _l("Places needed must be between 1 and %(max)s.")),
        ],
        render_kw=NUMBER_INPUT,
    )
    gender = SelectField(
        _l("Who may take this shift"),
        choices=options(GENDER_LABELS.items()),
        default="any",
        validators=[one_of_choices(_l("Choose who may take this shift from the list."))],
        validate_choice=False,
    )
    min_age = LocalIntegerField(
        _l("Minimum age"),
        [Optional(), NumberRange(0, MAX_AGE, _l("Minimum age must be between 0 and %(max)s."))],
        default=0,
        render_kw=NUMBER_INPUT,
    )
    priority = LocalIntegerField(
        _l("Priority (1 usual, 5 most urgent)"),
        [Optional(), NumberRange(1, 5, _l("Priority must be between 1 and 5."))],
        default=1,
        render_kw=NUMBER_INPUT,
    )
    languages = SelectMultipleField(
        _l("Languages spoken on this shift (volunteers need one of them)"),
        choices=options((code, LANGUAGE_LABELS.get(code, code)) for code in LANGUAGES),
        validators=[one_of_choices(_l("Choose languages from the list."))],
        validate_choice=False,
    )
    description_ar = CleanTextAreaField(
        _l("Notes for volunteers (Arabic)"),
        [Length(max=DESCRIPTION_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl", "rows": 2},
    )
    description_en = CleanTextAreaField(
        _l("Notes for volunteers (English)"),
        [Length(max=DESCRIPTION_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr", "rows": 2},
    )

    required_credentials = SelectMultipleField(
        _l("Credentials volunteers must hold (verified by a coordinator, not expired)"),
        validators=[one_of_choices(_l("Choose credentials from the list."))],
        validate_choice=False,
    )

    reserved_skills: Sequence[Skill] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_credentials.choices = options((str(t.id), t.name) for t in credential_types())

    def credential_type_ids(self) -> tuple[int, ...]:
        """The chosen credential types (validated against the offered ids)."""
        return tuple(sorted({int(v) for v in self.required_credentials.data or () if v}))

    @classmethod
    def for_skills(cls, skills: Sequence[Skill]) -> type[_ShiftFieldsForm]:
        """A subclass with one ``reserved_<skill id>`` places field per skill."""
        attributes: dict[str, Any] = {"reserved_skills": tuple(skills)}
        for skill in skills:
            attributes[f"reserved_{skill.id}"] = LocalIntegerField(
                skill.name,
                [
                    Optional(),
                    NumberRange(0, MAX_NEEDED, _l("Enter a number from 0 to %(max)s.")),
                ],
                render_kw=NUMBER_INPUT,
            )
        return type(cls.__name__, (cls,), attributes)

    def reserved_fields(self) -> list[tuple[Skill, Field]]:
        return [(s, self[f"reserved_{s.id}"]) for s in self.reserved_skills]

    def reserved(self) -> dict[int, int]:
        """Places reserved per skill id, for the rows given a positive number."""
        return {s.id: f.data for s, f in self.reserved_fields() if f.data}


class ShiftForm(_ShiftFieldsForm):
    """One shift: its local date and times and what it asks for."""

    day = LocalDateField(
        _l("Date"), [InputRequired(_l("Enter a date as YYYY-MM-DD."))], render_kw={"dir": "ltr"}
    )


class SeriesForm(_ShiftFieldsForm):
    """A weekly series: the first date, the number of weeks and dates to skip."""

    first_day = LocalDateField(
        _l("First date (the series repeats on this weekday)"),
        [InputRequired(_l("Enter a date as YYYY-MM-DD."))],
        render_kw={"dir": "ltr"},
    )
    weeks = LocalIntegerField(
        _l("Number of weeks"),
        [InputRequired(_l("Enter a whole number."))],
        render_kw=NUMBER_INPUT,
    )
    excluded_days = CleanTextAreaField(
        _l("Dates to skip (YYYY-MM-DD, one per line or separated by commas)"),
        [Length(max=2000, message=TOO_LONG)],
        render_kw={"dir": "ltr", "rows": 3},
    )

    def excluded(self) -> list[date]:
        """The dates to skip, parsed (any digits); raise a form error for a malformed one."""
        text = ascii_digits(self.excluded_days.data or "")
        days = []
        for token in filter(None, _DATE_SPLIT.split(text)):
            try:
                days.append(date.fromisoformat(token))
            except ValueError:
                raise ValidationError(str(_l("Enter each date as YYYY-MM-DD."))) from None
        return days

    def validate_excluded_days(self, field: Field) -> None:
        self.excluded()


class CancelShiftForm(FlaskForm):
    """Confirm cancelling a shift: this one, or (in a series) this and every later one."""

    scope = RadioField(
        _l("What to cancel"),
        choices=options(
            [
                ("shift", _l("Only this shift")),
                ("rest", _l("This shift and every later one of its series")),
            ]
        ),
        default="shift",
        validators=[InputRequired(), one_of_choices(_l("Choose what to cancel."))],
        validate_choice=False,
    )
    reason = CleanStringField(_l("Reason (optional)"), [Length(max=300, message=TOO_LONG)])


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for confirmed POST actions."""
