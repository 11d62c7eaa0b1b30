"""Privacy forms: erasing one's own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired, InputRequired


class EraseAccountForm(FlaskForm):
    """Erase the account: the password, and a box saying the user understands."""

    password = PasswordField(
        _l("Your password"),
        [InputRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password", "required": True},
    )
    understood = BooleanField(
        _l("I understand that my account and personal data will be erased and cannot be restored."),
        [DataRequired(message=_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Erase my account"))
