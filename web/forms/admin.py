"""Admin forms: the user list filter, new staff accounts and a staff member's scope."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import EqualTo, Length

from web.forms.auth import (
    LANGUAGE_CHOICES,
    ROLE_LABELS,
    account_rule,
    full_name_field,
    new_password_field,
)
from web.forms.fields import CleanStringField, one_of_choices, options
from web.services import accounts


class UserFilterForm(FlaskForm):
    """Filter the user list by role and by a name, email or phone search (a GET form)."""

    class Meta:
        csrf = False

    role = SelectField(
        _l("Role"),
        [one_of_choices(_l("Choose a role from the list."))],
        choices=options([("", _l("All roles")), *ROLE_LABELS.items()]),
        validate_choice=False,
        default="",
    )
    q = CleanStringField(
        _l("Search name, email or phone"),
        [Length(max=100, message=_l("This is too long."))],
        render_kw={"type": "search"},
    )


class ScopeForm(FlaskForm):
    """A manager's institutions, or a coordinator's governorates or national scope."""

    institutions = SelectMultipleField(
        _l("Institutions (for a manager)"),
        [one_of_choices(_l("Choose institutions from the list."))],
        coerce=str,
        validate_choice=False,
    )
    governorates = SelectMultipleField(
        _l("Governorates (for a coordinator)"),
        [one_of_choices(_l("Choose governorates from the list."))],
        coerce=str,
        validate_choice=False,
    )
    national = BooleanField(_l("The whole country (for a coordinator)"))
    submit = SubmitField(_l("Save scope"))

    def institution_ids(self) -> list[int]:
        """The chosen institution ids (the values were checked against the offered ones)."""
        return [int(value) for value in self.institutions.data or [] if value.isdigit()]


class StaffForm(ScopeForm):
    """A new manager, coordinator or admin account."""

    role = SelectField(
        _l("Role"),
        [one_of_choices(_l("Choose a staff role."))],
        choices=options((role, ROLE_LABELS[role]) for role in ("manager", "coordinator", "admin")),
        validate_choice=False,
    )
    full_name = full_name_field()
    email = CleanStringField(
        _l("Email"),
        [account_rule(lambda value: accounts.check_email(value, required=True))],
        render_kw={"type": "email", "autocomplete": "off", "dir": "ltr", "required": True},
    )
    phone = CleanStringField(
        _l("Mobile phone number (optional)"),
        [account_rule(lambda value: accounts.check_phone(value, required=False))],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off", "dir": "ltr"},
    )
    password = new_password_field(_l("First password (tell it to them privately)"))
    confirm = PasswordField(
        _l("Repeat the password"),
        [EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )
    locale = SelectField(
        _l("Language"),
        [one_of_choices(_l("Choose Arabic or English."))],
        choices=options([("", _l("As their browser says")), *LANGUAGE_CHOICES]),
        validate_choice=False,
        default="",
    )
    submit = SubmitField(_l("Create account"))
