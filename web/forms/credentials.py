"""Forms of accreditation: a volunteer's credential with its document, a coordinator's rejection."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField
from wtforms.validators import InputRequired, Length, Optional

from web.forms.fields import CleanStringField, LocalDateField, options
from web.forms.volunteer import ChoiceField
from web.models import CredentialType
from web.services.credentials import REASON_MAX

LTR = {"dir": "ltr"}


class CredentialForm(FlaskForm):
    """A credential the volunteer holds: its type, dates and a scan or photo of the document."""

    credential_type = ChoiceField(_l("Credential"), coerce=int)
    issued_on = LocalDateField(
        _l("Issue date"), [InputRequired(_l("Enter a date as YYYY-MM-DD."))], render_kw=LTR
    )
    expires_on = LocalDateField(_l("Expiry date"), [Optional()], render_kw=LTR)
    document = FileField(
        _l("Document (PDF, JPEG or PNG)"),
        render_kw={"accept": "application/pdf,image/jpeg,image/png,image/webp"},
    )
    submit = SubmitField(_l("Add the credential"))

    def __init__(self, *args: object, types: Sequence[CredentialType] = (), **kw: object):
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.credential_type.choices = options((t.id, t.name) for t in types)


class RejectForm(FlaskForm):
    """Why a coordinator refuses a credential (the volunteer reads it)."""

    reason = CleanStringField(
        _l("Reason for rejecting"),
        [
            InputRequired(_l("Say why, so the volunteer can fix it.")),
            Length(max=REASON_MAX, message=_l("Keep the reason under %(max)s characters.")),
        ],
    )
