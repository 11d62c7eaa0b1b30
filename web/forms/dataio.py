"""Forms of the import and export pages: upload a file, confirm or discard a pending import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import InputRequired

from web.forms.fields import one_of_choices, options

KIND_LABELS = {
    "volunteers": _l("Volunteers"),
    "institutions": _l("Institutions"),
    "shifts": _l("Shifts"),
}


class ImportForm(FlaskForm):
    """Upload a CSV or Excel file of one kind."""

    kind = SelectField(
        _l("The file holds"),
        choices=options(KIND_LABELS.items()),
        validators=[
            InputRequired(message=_l("Choose what the file holds.")),
            one_of_choices(_l("Choose what the file holds.")),
        ],
        validate_choice=False,
    )
    file = FileField(
        _l("File (CSV or Excel .xlsx)"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )
    submit = SubmitField(_l("Upload and preview"))


class ConfirmForm(FlaskForm):
    """Confirm a previewed import; the file's hash ties the button to what was previewed."""

    sha256 = HiddenField()
    submit = SubmitField(_l("Import every row"))
