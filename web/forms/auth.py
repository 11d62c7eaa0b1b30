"""Account forms: volunteer sign-up, log-in, language preference and password change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, PasswordField, SelectField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from web.forms.fields import CleanStringField, int_or_none, one_of_choices, options
from web.services import accounts

LANGUAGE_CHOICES = [("ar", "العربية"), ("en", "English")]
LOGIN_MAX = 300
ROLE_LABELS = {
    "volunteer": _l("Volunteer"),
    "manager": _l("Institution manager"),
    "coordinator": _l("Coordinator"),
    "admin": _l("Administrator"),
}


def account_rule(check: Callable[[Any], Any]) -> Callable[[FlaskForm, Field], None]:
    """Turn one of the account service's checks into a WTForms validator (the rule lives once)."""

    def validator(form: FlaskForm, field: Field) -> None:
        try:
            check(field.data)
        except accounts.AccountError as exc:
            raise ValidationError(str(exc.message)) from None

    return validator


def full_name_field() -> CleanStringField:
    """The full-name field, checked by the account service's name rule."""
    return CleanStringField(
        _l("Full name"),
        [account_rule(accounts.check_full_name)],
        render_kw={"autocomplete": "name", "maxlength": accounts.NAME_MAX, "required": True},
    )


def new_password_field(label: Any) -> PasswordField:
    """A new-password field, checked by the account service's password rule."""
    return PasswordField(
        label,
        [account_rule(accounts.check_password)],
        render_kw={
            "autocomplete": "new-password",
            "minlength": accounts.PASSWORD_MIN,
            "maxlength": accounts.PASSWORD_MAX,
            "required": True,
        },
    )


class RegisterForm(FlaskForm):
    """A volunteer signs up: name, mobile, optional email, password, language, governorate."""

    full_name = full_name_field()
    phone = CleanStringField(
        _l("Mobile phone number"),
        [account_rule(lambda value: accounts.check_phone(value, required=True))],
        render_kw={
            "type": "tel",
            "inputmode": "tel",
            "autocomplete": "tel",
            "dir": "ltr",
            "required": True,
        },
    )
    email = CleanStringField(
        _l("Email (optional)"),
        [account_rule(lambda value: accounts.check_email(value, required=False))],
        render_kw={
            "type": "email",
            "autocomplete": "email",
            "dir": "ltr",
            "maxlength": accounts.EMAIL_MAX,
        },
    )
    password = new_password_field(_l("Password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        [EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )
    locale = SelectField(
        _l("Preferred language"),
        [
            InputRequired(message=_l("Choose Arabic or English.")),
            one_of_choices(_l("Choose Arabic or English.")),
        ],
        choices=options(LANGUAGE_CHOICES),
        validate_choice=False,
    )
    governorate = SelectField(
        _l("Governorate where you live"),
        [
            InputRequired(message=_l("Choose your governorate.")),
            one_of_choices(_l("Choose a governorate from the list.")),
        ],
        coerce=int_or_none,
        validate_choice=False,
    )
    sms_consent = BooleanField(_l("Send me text messages (SMS) about shifts I sign up for"))
    submit = SubmitField(_l("Create my account"))


class LoginForm(FlaskForm):
    """Log in with a phone number (typed any way) or an email, and a password."""

    identifier = CleanStringField(
        _l("Phone number or email"),
        [
            InputRequired(message=_l("Enter your phone number or email.")),
            Length(max=LOGIN_MAX, message=_l("This is too long.")),
        ],
        render_kw={"autocomplete": "username", "required": True},
    )
    password = PasswordField(
        _l("Password"),
        [
            InputRequired(message=_l("Enter your password.")),
            Length(max=accounts.PASSWORD_MAX, message=_l("This is too long.")),
        ],
        render_kw={"autocomplete": "current-password", "required": True},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))
    submit = SubmitField(_l("Log in"))


class LanguageForm(FlaskForm):
    """The language the site speaks to this user (and their SMS, later)."""

    locale = SelectField(
        _l("Language"),
        [
            InputRequired(message=_l("Choose Arabic or English.")),
            one_of_choices(_l("Choose Arabic or English.")),
        ],
        choices=options(LANGUAGE_CHOICES),
        validate_choice=False,
    )
    submit = SubmitField(_l("Save language"))


class ChangePasswordForm(FlaskForm):
    """Change the password; the current one is asked again."""

    old_password = PasswordField(
        _l("Current password"),
        [InputRequired(message=_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password", "required": True},
    )
    new_password = new_password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        [EqualTo("new_password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )
    submit = SubmitField(_l("Change password"))


def identifier_field() -> CleanStringField:
    """The phone-or-email field of the log-in and password-reset forms."""
    return CleanStringField(
        _l("Phone number or email"),
        [
            InputRequired(message=_l("Enter your phone number or email.")),
            Length(max=LOGIN_MAX, message=_l("This is too long.")),
        ],
        render_kw={"autocomplete": "username", "required": True},
    )


def repeat_field(other: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the new password"),
        [EqualTo(other, message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password", "required": True},
    )


class ForgotPasswordForm(FlaskForm):
    """Ask for a reset code (phone) or link (email)."""

    identifier = identifier_field()
    submit = SubmitField(_l("Send me a code or link"))


class ResetCodeForm(FlaskForm):
    """Choose a new password with the code we sent by SMS."""

    identifier = identifier_field()
    code = CleanStringField(
        _l("Code from the SMS"),
        [
            InputRequired(message=_l("Enter the code from the SMS.")),
            Length(max=20, message=_l("This is too long.")),
        ],
        render_kw={
            "inputmode": "numeric",
            "autocomplete": "one-time-code",
            "dir": "ltr",
            "required": True,
        },
    )
    password = new_password_field(_l("New password"))
    confirm = repeat_field("password")
    submit = SubmitField(_l("Set the new password"))


class ResetLinkForm(FlaskForm):
    """Choose a new password after following the link we sent by email."""

    password = new_password_field(_l("New password"))
    confirm = repeat_field("password")
    submit = SubmitField(_l("Set the new password"))


class PostForm(FlaskForm):
    """A button-only form (log out, deactivate...): carries the CSRF token and nothing else."""
