"""Ways to hand a message to the world: the console (log only) and Twilio (SMS and WhatsApp)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app

from web.models import OutboundMessage

log = logging.getLogger(__name__)

# Twilio error codes that mean the number will never take our messages (mark it and stop).
PERMANENT_CODES = frozenset({"21211", "21614", "21610", "21612", "21408", "63003"})
# Codes worth trying again later, with backoff.
TRANSIENT_CODES = frozenset({"20429", "30001", "20003", "20500", "20503", "30008"})


class SendError(Exception):
    """The provider did not take the message.

    ``kind`` is ``permanent`` (the number is bad: mark it, never retry), ``transient`` (retry
    later), ``uncertain`` (the request may have reached the provider: never resend blindly) or
    ``rejected`` (this message is wrong; retrying would not help).
    """

    def __init__(self, kind: str, code: str | None, message: str) -> None:
        super().__init__(f"{kind} {code}: {message}")
        self.kind = kind
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SendResult:
    """What the provider answered: its id for the message and the first status."""

    sid: str
    status: str


class Backend(Protocol):
    """What the outbox needs from a backend."""

    name: str

    def send(self, message: OutboundMessage, status_callback: str | None) -> SendResult: ...

    def lookup(self, message: OutboundMessage) -> SendResult | None: ...


class ConsoleBackend:
    """Development and demo: log the text; the admin outbox page shows it too."""

    name = "console"

    def send(self, message: OutboundMessage, status_callback: str | None) -> SendResult:
        log.info(
            "SMS (console) to %s [%s, %s, %s segment(s)]: %s",
            message.to_number,
            message.channel,
            message.locale,
            message.segments,
            message.body,
        )
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        return SendResult(sid=f"CONSOLE{digest}", status="sent")

    def lookup(self, message: OutboundMessage) -> SendResult | None:
        return None


class TwilioBackend:
    """The real thing, through the official client (tests inject a fake ``HttpClient``)."""

    name = "twilio"

    def __init__(self, config: dict[str, Any], http_client: Any = None) -> None:
        from twilio.rest import Client

        sid = config.get("TWILIO_ACCOUNT_SID")
        token = config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise RuntimeError("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.config = config
        self.client = Client(sid, token, http_client=http_client, environment={})

    def _sender(self, message: OutboundMessage) -> dict[str, str]:
        if message.channel == "whatsapp":
            sender = self.config.get("TWILIO_WHATSAPP_FROM")
            if not sender:
                raise SendError("rejected", None, "TWILIO_WHATSAPP_FROM is not configured")
            return {"from_": _whatsapp(sender)}
        service = self.config.get("TWILIO_MESSAGING_SERVICE_SID")
        if service:
            return {"messaging_service_sid": service}
        sender = self.config.get("TWILIO_FROM")
        if not sender:
            raise SendError("rejected", None, "neither TWILIO_FROM nor a Messaging Service is set")
        return {"from_": sender}

    def send(self, message: OutboundMessage, status_callback: str | None) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioException, TwilioRestException

        to = _whatsapp(message.to_number) if message.channel == "whatsapp" else message.to_number
        kwargs: dict[str, Any] = {"to": to, **self._sender(message)}
        if message.template_sid:
            kwargs["content_sid"] = message.template_sid
            kwargs["content_variables"] = json.dumps(
                (message.template_variables or {}).get("_content", {}), ensure_ascii=False
            )
        else:
            kwargs["body"] = message.body
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise classify_rest_error(exc) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            # A timeout after connecting may still have created the message.
            connect_only = isinstance(exc, requests.ConnectTimeout) or (
                isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout)
            )
            kind = "transient" if connect_only else "uncertain"
            raise SendError(kind, "timeout", f"{type(exc).__name__}: {exc}") from exc
        except TwilioException as exc:
            raise SendError("rejected", None, str(exc)) from exc
        return SendResult(sid=created.sid, status=created.status or "queued")

    def lookup(self, message: OutboundMessage) -> SendResult | None:
        """Find a message created by a request we never heard back from (same number and text)."""
        if message.submitted_at is None:
            return None
        to = _whatsapp(message.to_number) if message.channel == "whatsapp" else message.to_number
        since = message.submitted_at - timedelta(minutes=1)
        for found in self.client.messages.list(to=to, date_sent_after=since, limit=50):
            if message.template_sid is None and (found.body or "") != message.body:
                continue
            created = getattr(found, "date_created", None)
            if created is not None and created < since:
                continue  # an earlier message with the same text
            if found.sid and _sid_taken(found.sid, message.id):
                continue
            return SendResult(sid=found.sid, status=found.status or "queued")
        return None


def _sid_taken(sid: str, message_id: int) -> bool:
    import sqlalchemy as sa

    from web.extensions import db

    return bool(
        db.session.scalar(
            sa.select(OutboundMessage.id).where(
                OutboundMessage.provider_sid == sid, OutboundMessage.id != message_id
            )
        )
    )


def _whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def classify_rest_error(exc: Any) -> SendError:
    """Sort a Twilio REST error into permanent, transient or rejected."""
    code = str(exc.code) if getattr(exc, "code", None) is not None else None
    status = int(getattr(exc, "status", 0) or 0)
    text = str(getattr(exc, "msg", "") or exc)[:400]
    if code in PERMANENT_CODES:
        return SendError("permanent", code, text)
    if code in TRANSIENT_CODES or status == 429 or status >= 500:
        return SendError("transient", code or str(status), text)
    return SendError("rejected", code or str(status), text)


def get_backend() -> Backend:
    """The backend SMS_BACKEND names; tests put a fake HttpClient in app.extensions."""
    app = current_app
    name = app.config.get("SMS_BACKEND", "console")
    if name == "console":
        return ConsoleBackend()
    if name == "twilio":
        return TwilioBackend(app.config, app.extensions.get("twilio_http_client"))
    raise RuntimeError(f"unknown SMS_BACKEND {name!r} (use console or twilio)")
