"""Form fields shared by every area: clean text, and numbers typed with any digits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    Field,
    FloatField,
    IntegerField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import Form
from wtforms.validators import ValidationError

from web.text import ascii_digits, clean_text


class CleanStringField(StringField):
    """A one-line text field whose value is cleaned of invisible and control characters."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.data = clean_text(self.data).replace("\n", " ").replace("\t", " ")


class CleanTextAreaField(TextAreaField):
    """A multi-line text field cleaned like ``CleanStringField`` (line breaks kept)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.data = clean_text(self.data)


class DigitsMixin:
    """Turns Arabic-Indic and Persian digits into ASCII before the number is parsed."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [ascii_digits(str(v)).strip() for v in valuelist]
        super().process_formdata(valuelist)  # type: ignore[misc]


class LocalIntegerField(DigitsMixin, IntegerField):
    """An integer field that accepts ٠-٩ and ۰-۹ as well as 0-9."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages = {"invalid": _l("Enter a whole number.")}

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a whole number."))) from exc


class LocalFloatField(DigitsMixin, FloatField):
    """A decimal field that accepts Arabic-Indic digits and the Arabic decimal separator."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a number."))) from exc


class LocalDateField(DigitsMixin, DateField):
    """A date field (YYYY-MM-DD) that accepts Arabic-Indic digits."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a date as YYYY-MM-DD."))) from exc


class LocalTimeField(DigitsMixin, TimeField):
    """A time field (HH:MM) that accepts Arabic-Indic digits."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(_l("Enter a time as HH:MM."))) from exc


def parse_int_arg(value: str | None) -> int | None:
    """Parse a query-string integer (any digits); ``None`` when absent or not a number."""
    if value is None:
        return None
    text = ascii_digits(value).strip()
    return int(text) if text.isdigit() else None


def reject_past(moment: datetime | date | time | None, now: datetime) -> None:
    """Raise a form error when a moment lies in the past."""
    if isinstance(moment, datetime) and moment < now:
        raise ValidationError(_l("This time is in the past."))


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def int_or_none(value: Any) -> int | None:
    """Coerce a select's value to an int (any digits); empty or malformed values become ``None``."""
    text = ascii_digits(str(value)).strip() if value is not None else ""
    return int(text) if text.isdigit() else None


def one_of_choices(message: Any) -> Callable[[Form, Field], None]:
    """Refuse a submitted value (or values) the select did not offer, with our own message.

    Submitted values are compared with their digits in ASCII (the coercions accept any digits);
    without submitted values the field's data (its default or the object's value) is checked.
    """

    def validator(form: Form, field: Field) -> None:
        offered = {str(choice.value) for choice in field.iter_choices()}
        if field.raw_data:
            values = [ascii_digits(str(v)).strip() for v in field.raw_data]
        else:
            values = field.data if isinstance(field.data, list) else [field.data]
        if any(str(v) not in offered for v in values if v not in (None, "")):
            raise ValidationError(str(message))

    return validator
