"""Forms of attendance: hours corrections, certificate requests and certificate look-up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired, Length

from web.forms.fields import CleanStringField, LocalIntegerField, one_of_choices, options

LANGUAGE_CHOICES = (("ar", _l("Arabic")), ("en", _l("English")))


class CorrectionForm(FlaskForm):
    """Add or remove minutes for a volunteer on a shift, with the reason."""

    minutes = LocalIntegerField(
        _l("Minutes to add (negative to remove)"),
        validators=[InputRequired(message=_l("Enter a whole number."))],
    )
    note = CleanStringField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("Say why the hours are corrected.")),
            Length(max=500, message=_l("The reason is too long (500 characters at most).")),
        ],
    )


class CertificateForm(FlaskForm):
    """Ask for a certificate of one's hours in Arabic or English."""

    language = RadioField(
        _l("Language of the certificate"),
        choices=options(LANGUAGE_CHOICES),
        default="ar",
        validators=[InputRequired(), one_of_choices(_l("Choose Arabic or English."))],
        validate_choice=False,
    )


class LookupForm(FlaskForm):
    """Type a certificate's verification code (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    code = CleanStringField(
        _l("Verification code"),
        validators=[InputRequired(message=_l("Enter the code printed on the certificate."))],
    )
