"""`flask sms`: send the outbox now, queue reminders and digests, and simulate a signed reply."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from twilio.request_validator import RequestValidator

from web.services import messaging

sms = AppGroup("sms", help="The SMS outbox: send, remind, digest, simulate replies.")


@sms.command("send-due")
def send_due_command() -> None:
    """Send every due message now (what the worker does every few seconds)."""
    counts = messaging.send_due()
    click.echo(f"outbox: {counts or 'nothing due'}")


@sms.command("reminders")
def reminders_command() -> None:
    """Queue reminders for confirmed assignments (idempotent)."""
    click.echo(f"reminders queued: {messaging.queue_due_reminders()}")


@sms.command("digest")
def digest_command() -> None:
    """Queue this week's digest for every manager with unfilled places (once per week)."""
    click.echo(f"digests queued: {messaging.queue_weekly_digests()}")


@sms.command("simulate-reply")
@click.argument("phone")
@click.argument("text")
@click.option("--sid", default=None, help="MessageSid (default: a new one).")
def simulate_reply(phone: str, text: str, sid: str | None) -> None:
    """Post a correctly signed reply to /sms/inbound, as Twilio would, and print the TwiML."""
    import secrets

    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        raise click.ClickException("Set TWILIO_AUTH_TOKEN (any value works for a local demo).")
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "From": phone,
        "To": current_app.config.get("TWILIO_FROM") or "",
        "Body": text,
    }
    client = current_app.test_client()
    url = "http://localhost/sms/inbound"
    signature = RequestValidator(token).compute_signature(url, params)
    response = client.post(
        "/sms/inbound",
        data=params,
        headers={"X-Twilio-Signature": signature},
        base_url="http://localhost",
    )
    click.echo(f"HTTP {response.status_code}")
    click.echo(response.get_data(as_text=True))
