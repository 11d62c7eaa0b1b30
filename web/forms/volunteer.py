"""Forms of the volunteer's pages: profile, weekly availability, exceptions and shift filters."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from web.forms.fields import (
    CleanStringField,
    LocalDateField,
    LocalFloatField,
    LocalIntegerField,
    LocalTimeField,
    options,
)
from web.labels import LANGUAGE_LABELS
from web.models import LANGUAGES

MAX_SKILLS = 20
MAX_PREFERRED = 10
MAX_FILTER_DAYS = 92
# Text inputs (not type=number) so a browser never rejects Arabic-Indic digits before we see them.
DECIMAL_INPUT = {"type": "text", "inputmode": "decimal", "dir": "ltr"}
NUMBER_INPUT = {"type": "text", "inputmode": "numeric", "dir": "ltr"}
LTR = {"dir": "ltr"}

GENDER_CHOICES = [
    ("", _l("Prefer not to say")),
    ("female", _l("Female")),
    ("male", _l("Male")),
]


CHOOSE_FROM_LIST = _l("Choose from the list.")


class ChoiceField(SelectField):
    """A select whose bad values get our message, in the user's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(CHOOSE_FROM_LIST)) from exc

    def pre_validate(self, form: Any) -> None:
        allowed = {choice.value for choice in self.iter_choices()}
        if self.data not in allowed:
            raise ValidationError(CHOOSE_FROM_LIST)


class ChoicesField(SelectMultipleField):
    """A multi-select whose bad values get our message (``coerce=int`` for database ids)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = []
            raise ValueError(str(CHOOSE_FROM_LIST)) from exc

    def pre_validate(self, form: Any) -> None:
        allowed = {choice.value for choice in self.iter_choices()}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(CHOOSE_FROM_LIST)


class ProfileForm(FlaskForm):
    """What the matcher needs to know about the volunteer."""

    gender = ChoiceField(_l("Gender"), choices=options(GENDER_CHOICES))
    date_of_birth = LocalDateField(_l("Date of birth"), validators=[Optional()], render_kw=LTR)
    governorate = ChoiceField(_l("Governorate"))
    home_lat = LocalFloatField(
        _l("Home latitude"),
        validators=[
            Optional(),
            NumberRange(-90, 90, message=_l("Latitude is between -90 and 90.")),
        ],
        render_kw=DECIMAL_INPUT,
    )
    home_lon = LocalFloatField(
        _l("Home longitude"),
        validators=[
            Optional(),
            NumberRange(-180, 180, message=_l("Longitude is between -180 and 180.")),
        ],
        render_kw=DECIMAL_INPUT,
    )
    travel_radius_km = LocalFloatField(
        _l("How far you can travel (km)"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            NumberRange(1, 200, message=_l("Enter a distance from 1 to 200 km.")),
        ],
        default=15,
        render_kw=DECIMAL_INPUT,
    )
    skills = ChoicesField(_l("Skills"), coerce=int)
    languages = ChoicesField(
        _l("Languages you speak"),
        choices=options((code, LANGUAGE_LABELS[code]) for code in LANGUAGES),
    )
    max_shifts_per_week = LocalIntegerField(
        _l("At most this many shifts a week"),
        validators=[Optional(), NumberRange(1, 21, message=_l("Enter a number from 1 to 21."))],
        render_kw=NUMBER_INPUT,
    )
    max_hours_per_week = LocalFloatField(
        _l("At most this many hours a week"),
        validators=[Optional(), NumberRange(1, 80, message=_l("Enter a number from 1 to 80."))],
        render_kw=DECIMAL_INPUT,
    )
    preferred_institutions = ChoicesField(_l("Preferred institutions"), coerce=int)
    sms_consent = BooleanField(_l("Send me text messages (SMS) about my shifts"))
    submit = SubmitField(_l("Save profile"))
    use_centre = SubmitField(_l("Use my governorate's centre as my home"))

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or date.today()
        # The views set these from the database.
        self.governorate.choices = []
        self.skills.choices = []
        self.preferred_institutions.choices = []

    def validate_date_of_birth(self, field: LocalDateField) -> None:
        if field.data is None:
            return
        if field.data > self.today:
            raise ValidationError(_l("The date of birth cannot be in the future."))
        if field.data < date(1900, 1, 1):
            raise ValidationError(_l("Enter a date of birth after 1900."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        lat, lon = self.home_lat, self.home_lon
        if not lat.errors and not lon.errors and (lat.data is None) != (lon.data is None):
            lon.errors = [*lon.errors, str(_l("Enter both latitude and longitude, or neither."))]
            valid = False
        return valid

    def validate_skills(self, field: ChoicesField) -> None:
        if len(field.data or []) > MAX_SKILLS:
            raise ValidationError(_l("Choose at most %(n)s skills.", n=MAX_SKILLS))

    def validate_preferred_institutions(self, field: ChoicesField) -> None:
        if len(field.data or []) > MAX_PREFERRED:
            raise ValidationError(_l("Choose at most %(n)s institutions.", n=MAX_PREFERRED))

    def validate_use_centre(self, field: SubmitField) -> None:
        if field.data and not self.governorate.data:
            raise ValidationError(_l("Choose your governorate first."))


class RuleForm(FlaskForm):
    """A weekly window: weekday and local start and end times."""

    weekday = ChoiceField(_l("Day of the week"), coerce=int)
    start_time = LocalTimeField(
        _l("From"),
        validators=[InputRequired(message=_l("This field is required."))],
        render_kw=LTR,
    )
    end_time = LocalTimeField(
        _l("Until"),
        validators=[InputRequired(message=_l("This field is required."))],
        render_kw=LTR,
    )
    add_rule = SubmitField(_l("Add"))

    def validate_end_time(self, field: LocalTimeField) -> None:
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end must be after the start."))


EXCEPTION_KINDS = [
    ("off", _l("Not available")),
    ("extra", _l("Extra time available")),
]


class ExceptionForm(FlaskForm):
    """A dated exception: a day (or part of it) off, or extra hours on a day."""

    day = LocalDateField(
        _l("Date"),
        validators=[InputRequired(message=_l("This field is required."))],
        render_kw=LTR,
    )
    kind = ChoiceField(_l("Change"), choices=options(EXCEPTION_KINDS))
    start_time = LocalTimeField(_l("From"), validators=[Optional()], render_kw=LTR)
    end_time = LocalTimeField(_l("Until"), validators=[Optional()], render_kw=LTR)
    note = CleanStringField(_l("Note"), validators=[Optional()])
    add_exception = SubmitField(_l("Add"))

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or date.today()

    def validate_day(self, field: LocalDateField) -> None:
        if field.data is None:
            return
        if field.data < self.today:
            raise ValidationError(_l("This day is in the past."))
        if field.data > self.today + timedelta(days=730):
            raise ValidationError(_l("Choose a day within the next two years."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.start_time.errors or self.end_time.errors:
            return False
        start, end = self.start_time.data, self.end_time.data
        message = None
        if (start is None) != (end is None):
            message = _l("Enter both times, or neither for the whole day.")
        elif self.kind.data == "extra" and start is None:
            message = _l("Enter the hours you are available.")
        elif start is not None and end is not None and end <= start:
            message = _l("The end must be after the start.")
        if message is not None:
            self.end_time.errors = [*self.end_time.errors, str(message)]
            return False
        return valid

    def validate_note(self, field: CleanStringField) -> None:
        if len(field.data or "") > 200:
            raise ValidationError(_l("Use at most %(n)s characters.", n=200))


class ShiftFilterForm(FlaskForm):
    """Filters of "shifts I can do" (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    governorate = ChoiceField(_l("Governorate"), default="")
    kind = ChoiceField(_l("Kind of institution"), default="")
    skill = ChoiceField(_l("Skill"), default="")
    date_from = LocalDateField(_l("From"), validators=[Optional()], render_kw=LTR)
    date_to = LocalDateField(_l("Until"), validators=[Optional()], render_kw=LTR)

    def validate_date_to(self, field: LocalDateField) -> None:
        start, end = self.date_from.data, field.data
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError(_l("The end must be after the start."))
        if (end - start).days >= MAX_FILTER_DAYS:
            raise ValidationError(_l("Choose at most %(n)s days.", n=MAX_FILTER_DAYS))
