"""Forms of monitoring: the visit report (phone first) and a report's next workflow step."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectField
from wtforms.validators import Length

from web.forms.fields import CleanTextAreaField, options
from web.forms.manager import TOO_LONG
from web.labels import REPORT_STATUS_LABELS, SEVERITY_LABELS
from web.models import REPORT_STATUSES, SEVERITIES
from web.services.monitoring import NOTE_MAX, NOTES_MAX


class ReportForm(FlaskForm):
    """Notes, severity and photos; the checklist's answers are read per item by the view."""

    severity = RadioField(
        _l("How serious is what you saw?"),
        choices=options((s, SEVERITY_LABELS[s]) for s in SEVERITIES),
        validate_choice=False,
        default="none",
    )
    notes = CleanTextAreaField(
        _l("What did you see? (facts, places, times; no names of children)"),
        [Length(max=NOTES_MAX, message=TOO_LONG)],
        render_kw={"rows": 6},
    )
    photos = MultipleFileField(
        _l("Photos (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )


class MoveForm(FlaskForm):
    """The next step of a report, with a note."""

    to_status = SelectField(
        _l("Next step"),
        choices=options((s, REPORT_STATUS_LABELS[s]) for s in REPORT_STATUSES),
        validate_choice=False,
    )
    note = CleanTextAreaField(
        _l("Note (to whom it was referred, what was done)"),
        [Length(max=NOTE_MAX, message=TOO_LONG)],
        render_kw={"rows": 3},
    )
