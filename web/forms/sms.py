"""Messaging forms: the phone verification code, the channel choice and the outbox filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired, Length, Regexp

from web.forms.fields import CleanStringField, one_of_choices, options
from web.i18n import ascii_digits
from web.models.messaging import CHANNELS, MESSAGE_KINDS, OUTBOUND_STATUSES

KIND_LABELS = {
    "verification": _l("Verification code"),
    "offer": _l("Offer"),
    "replacement_offer": _l("Replacement offer"),
    "confirmation": _l("Confirmation"),
    "cancellation": _l("Cancellation"),
    "withdrawal": _l("Offer withdrawn"),
    "change": _l("Time changed"),
    "reminder": _l("Reminder"),
    "digest": _l("Weekly digest"),
    "credential_expiry": _l("Credential expiry reminder"),
    "enrolment": _l("Programme application"),
}
STATUS_LABELS = {
    "pending": _l("Waiting"),
    "submitting": _l("Handed to the provider"),
    "unconfirmed": _l("Unconfirmed: check and resend"),
    "skipped": _l("Not sent"),
    "accepted": _l("Accepted by the provider"),
    "scheduled": _l("Scheduled by the provider"),
    "queued": _l("Queued by the provider"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "read": _l("Read"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
}
CHANNEL_LABELS = {"sms": _l("SMS"), "whatsapp": _l("WhatsApp")}


class CodeForm(FlaskForm):
    """The code the volunteer received (Arabic-Indic digits accepted)."""

    code = CleanStringField(
        _l("Code"),
        [
            InputRequired(message=_l("Enter the code you received.")),
            Length(max=12, message=_l("This is too long.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits.")),
        ],
        filters=[lambda value: ascii_digits(value) if value else value],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "dir": "ltr"},
    )


class ChannelForm(FlaskForm):
    """Where the volunteer wants our messages: SMS or WhatsApp."""

    channel = RadioField(
        _l("Send me messages by"),
        choices=options((c, CHANNEL_LABELS[c]) for c in CHANNELS),
        validators=[
            InputRequired(message=_l("Choose SMS or WhatsApp.")),
            one_of_choices(_l("Choose SMS or WhatsApp.")),
        ],
        validate_choice=False,
    )


def _with_all(labels: dict[str, Any], keys: tuple[str, ...]) -> list[Any]:
    return options([("", _l("All")), *((k, labels[k]) for k in keys)])


class OutboxFilterForm(FlaskForm):
    """Filter the outbox by status, kind, channel and a phone search (a GET form)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        [one_of_choices(_l("Choose from the list."))],
        choices=_with_all(STATUS_LABELS, OUTBOUND_STATUSES),
        validate_choice=False,
    )
    kind = SelectField(
        _l("Kind"),
        [one_of_choices(_l("Choose from the list."))],
        choices=_with_all(KIND_LABELS, MESSAGE_KINDS),
        validate_choice=False,
    )
    channel = SelectField(
        _l("Channel"),
        [one_of_choices(_l("Choose from the list."))],
        choices=_with_all(CHANNEL_LABELS, CHANNELS),
        validate_choice=False,
    )
    q = CleanStringField(
        _l("Phone number"),
        [Length(max=40, message=_l("This is too long."))],
        render_kw={"type": "search", "dir": "ltr"},
    )
