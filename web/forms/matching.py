"""Forms of matching runs: starting a run, editing its proposal, and nightly schedules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from web.forms.fields import CleanStringField, LocalFloatField, LocalIntegerField, options
from web.forms.volunteer import ChoicesField

SCOPE_CHOICES = options(
    [
        ("national", _l("National")),
        ("governorates", _l("Governorates")),
        ("institutions", _l("Institutions")),
    ]
)

# WTForms' own Arabic catalogue lacks most plural forms: its "Field cannot be longer than"
# would show in English.
TOO_LONG = _l("This is too long.")


class ScopeForm(FlaskForm):
    """The scope fields a run and a schedule share."""

    scope_kind = SelectField(_l("Scope"), choices=SCOPE_CHOICES, validators=[DataRequired()])
    # our "Choose from the list." (WTForms' Arabic lacks "'%(value)s' is not a valid choice")
    governorates = ChoicesField(_l("Governorates"), coerce=int)
    institutions = ChoicesField(_l("Institutions"), coerce=int)

    def scope_ids(self) -> list[int]:
        if self.scope_kind.data == "governorates":
            return list(self.governorates.data or [])
        if self.scope_kind.data == "institutions":
            return list(self.institutions.data or [])
        return []


class StartRunForm(ScopeForm):
    """Scope, window and time limit of a new run."""

    window_days = LocalIntegerField(
        _l("Days ahead"), default=7, validators=[InputRequired(), NumberRange(min=1, max=31)]
    )
    time_limit = LocalFloatField(
        _l("Time limit (seconds)"),
        default=30,
        validators=[InputRequired(), NumberRange(min=1, max=600)],
    )


class EditRunForm(FlaskForm):
    """One change to a proposal: pin, unpin, remove, restore, add or swap."""

    action = SelectField(
        _l("Change"),
        choices=options(
            [
                ("pin", _l("Pin")),
                ("unpin", _l("Unpin")),
                ("remove", _l("Remove")),
                ("restore", _l("Restore")),
                ("add", _l("Add")),
                ("swap", _l("Swap")),
            ]
        ),
        validators=[DataRequired()],
    )
    shift_id = LocalIntegerField(_l("Shift"), validators=[InputRequired()])
    # pin, unpin, remove, restore: the pair's volunteer
    volunteer_id = LocalIntegerField(_l("Volunteer"), validators=[Optional()])
    # add: the candidate; swap: the candidate comes in, volunteer_out goes out
    candidate = LocalIntegerField(_l("Volunteer who could take the place"), [Optional()])
    volunteer_out = LocalIntegerField(_l("In place of"), validators=[Optional()])
    version = HiddenField()

    def people(self) -> tuple[int | None, int | None]:
        """(the volunteer the change is about, the one swapped in) for the chosen action."""
        if self.action.data == "add":
            return self.candidate.data, None
        if self.action.data == "swap":
            return self.volunteer_out.data, self.candidate.data
        return self.volunteer_id.data, None


class ScheduleForm(ScopeForm):
    """A nightly run: scope, local time, window, limit, and whether it publishes itself."""

    name = CleanStringField(
        _l("Name"), validators=[DataRequired(), Length(max=120, message=TOO_LONG)]
    )
    hour = LocalIntegerField(
        _l("Hour (Cairo time)"), default=2, validators=[InputRequired(), NumberRange(0, 23)]
    )
    minute = LocalIntegerField(
        _l("Minute"), default=0, validators=[InputRequired(), NumberRange(0, 59)]
    )
    window_days = LocalIntegerField(
        _l("Days ahead"), default=7, validators=[InputRequired(), NumberRange(1, 31)]
    )
    time_limit = LocalFloatField(
        _l("Time limit (seconds)"), default=60, validators=[InputRequired(), NumberRange(1, 600)]
    )
    auto_publish = BooleanField(_l("Publish automatically"))
    enabled = BooleanField(_l("Enabled"), default=True)
