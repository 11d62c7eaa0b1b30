"""Forms of programmes: the programme, its cohorts and sessions, applications and decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import InputRequired, Length

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
from web.forms.manager import NUMBER_INPUT, STATUS_LABELS, TOO_LONG, SeriesForm
from web.labels import ENROLMENT_STATUS_LABELS, PROGRAMME_KIND_LABELS
from web.models import PROGRAMME_KINDS, CredentialType, Governorate, Institution
from web.services.programmes import DESCRIPTION_MAX, MOTIVATION_MAX, NAME_MAX, NOTE_MAX

CHOOSE = _l("Choose from the list.")
DATE_NEEDED = _l("Enter a date as YYYY-MM-DD.")


def _ids(values: Sequence[Any] | None) -> tuple[int, ...]:
    return tuple(v for v in (int_or_none(x) for x in values or []) if v is not None)


class ProgrammeForm(FlaskForm):
    """A programme: kind, names, descriptions, governorate, institutions, credentials, status."""

    kind = SelectField(
        _l("Kind of programme"),
        [one_of_choices(CHOOSE)],
        choices=options((k, PROGRAMME_KIND_LABELS[k]) for k in PROGRAMME_KINDS),
        validate_choice=False,
    )
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
    description_ar = CleanTextAreaField(
        _l("Description in Arabic"),
        [Length(max=DESCRIPTION_MAX, message=TOO_LONG)],
        render_kw={"lang": "ar", "dir": "rtl", "rows": 3},
    )
    description_en = CleanTextAreaField(
        _l("Description in English"),
        [Length(max=DESCRIPTION_MAX, message=TOO_LONG)],
        render_kw={"lang": "en", "dir": "ltr", "rows": 3},
    )
    governorate = SelectField(_l("Governorate"), [one_of_choices(CHOOSE)], validate_choice=False)
    institutions = SelectMultipleField(
        _l("Institutions"), [one_of_choices(CHOOSE)], coerce=str, validate_choice=False
    )
    credential_types = SelectMultipleField(
        _l("Credentials every volunteer must hold"),
        [one_of_choices(CHOOSE)],
        coerce=str,
        validate_choice=False,
    )
    status = SelectField(
        _l("Status"),
        [one_of_choices(CHOOSE)],
        choices=options((s, STATUS_LABELS[s]) for s in ("open", "closed")),
        validate_choice=False,
    )

    def fill_choices(
        self,
        governorates: Sequence[Governorate],
        institutions: Sequence[Institution],
        types: Sequence[CredentialType],
    ) -> None:
        self.governorate.choices = options((str(g.id), g.name) for g in governorates)
        self.institutions.choices = options((str(i.id), i.name) for i in institutions)
        self.credential_types.choices = options((str(t.id), t.name) for t in types)

    def institution_ids(self) -> tuple[int, ...]:
        return _ids(self.institutions.data)

    def credential_type_ids(self) -> tuple[int, ...]:
        return _ids(self.credential_types.data)


class CohortForm(FlaskForm):
    """A cohort: names, first and last day, capacity and status."""

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
    starts_on = LocalDateField(
        _l("First day"),
        [InputRequired(_l("Enter a date as YYYY-MM-DD."))],
        render_kw={"dir": "ltr"},
    )
    ends_on = LocalDateField(
        _l("Last day"), [InputRequired(_l("Enter a date as YYYY-MM-DD."))], render_kw={"dir": "ltr"}
    )
    capacity = LocalIntegerField(
        _l("Capacity (volunteers accepted at most)"),
        [InputRequired(_l("Enter a whole number."))],
        render_kw=NUMBER_INPUT,
    )
    status = SelectField(
        _l("Status"),
        [one_of_choices(CHOOSE)],
        choices=options((s, STATUS_LABELS[s]) for s in ("open", "closed")),
        validate_choice=False,
    )


class SessionForm(FlaskForm):
    """Weekly sessions of a cohort at one of the programme's institutions."""

    institution = SelectField(_l("Institution"), [one_of_choices(CHOOSE)], validate_choice=False)
    first_day = SeriesForm.first_day
    weeks = SeriesForm.weeks
    excluded_days = SeriesForm.excluded_days
    start_time = LocalTimeField(
        _l("Start time"), [InputRequired(_l("Enter a time as HH:MM."))], render_kw={"dir": "ltr"}
    )
    end_time = LocalTimeField(
        _l("End time"), [InputRequired(_l("Enter a time as HH:MM."))], render_kw={"dir": "ltr"}
    )
    needed = LocalIntegerField(
        _l("Volunteers needed at each session"),
        [InputRequired(_l("Enter a whole number."))],
        render_kw=NUMBER_INPUT,
    )

    excluded = SeriesForm.excluded
    validate_excluded_days = SeriesForm.validate_excluded_days


class ApplyForm(FlaskForm):
    """A volunteer's application: a short motivation."""

    motivation = CleanTextAreaField(
        _l("Why do you want to take part? (a few sentences)"),
        [
            InputRequired(_l("Tell us in a few words why you want to take part.")),
            Length(max=MOTIVATION_MAX, message=TOO_LONG),
        ],
        render_kw={"rows": 4},
    )


class DecisionForm(FlaskForm):
    """A coordinator's decision on an application, with an optional note."""

    decision = SelectField(
        _l("Decision"),
        [one_of_choices(CHOOSE)],
        choices=options(
            (s, ENROLMENT_STATUS_LABELS[s]) for s in ("accepted", "waitlisted", "rejected")
        ),
        validate_choice=False,
    )
    note = CleanStringField(_l("Note (optional)"), [Length(max=NOTE_MAX, message=TOO_LONG)])


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""
