"""Sending an email: the console (log only, the default) or SMTP (MAIL_BACKEND=smtp)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)
KEEP_SENT = 50


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text email now; the console backend logs it and keeps the last few."""
    config = current_app.config
    backend = config.get("MAIL_BACKEND", "console")
    message = EmailMessage()
    message["From"] = config.get("MAIL_FROM") or "no-reply@localhost"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if backend == "console":
        log.info("email (console) to %s: %s\n%s", to, subject, body)
        sent = current_app.extensions.setdefault("sent_mail", [])
        sent.append(message)
        del sent[:-KEEP_SENT]
        return
    if backend != "smtp":
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r} (use console or smtp)")
    with smtplib.SMTP(config["MAIL_SMTP_HOST"], int(config.get("MAIL_SMTP_PORT") or 587)) as smtp:
        smtp.starttls()
        if config.get("MAIL_SMTP_USER"):
            smtp.login(config["MAIL_SMTP_USER"], config.get("MAIL_SMTP_PASSWORD") or "")
        smtp.send_message(message)
