"""SMS pages and webhooks: Twilio inbound and status, phone verification, channel, outbox, inbox."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from web.authz import role_required
from web.extensions import csrf, db, limiter
from web.forms.auth import PostForm
from web.forms.fields import parse_int_arg
from web.forms.sms import (
    CHANNEL_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    ChannelForm,
    CodeForm,
    OutboxFilterForm,
)
from web.i18n import ascii_digits
from web.models import InboundMessage, OutboundMessage
from web.services import audit, messaging, privacy, sms_replies

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__)
PAGE_SIZE = 50


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "kind_label": lambda k: KIND_LABELS.get(k, k),
        "status_label": lambda s: STATUS_LABELS.get(s, s),
        "channel_label": lambda c: CHANNEL_LABELS.get(c, c),
        "cost_estimate": messaging.cost_estimate,
        "currency": current_app.config.get("SMS_PRICE_CURRENCY", "USD"),
        "ltr": isolate_ltr,
    }


def isolate_ltr(text: str | None) -> str:
    """Wrap a phone number in a left-to-right isolate so it reads right inside Arabic text."""
    return f"\u2066{text or ''}\u2069"


# --- Twilio webhooks ----------------------------------------------------------------------------


def signature_is_valid() -> bool:
    """Check X-Twilio-Signature against the public URL (ProxyFix makes it right behind a proxy)."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(request.url, request.form, signature)


def _twiml(text: str) -> Response:
    answer = MessagingResponse()
    if text:
        answer.message(text)
    return Response(str(answer), status=200, mimetype="application/xml")


def _webhook_limit() -> str:
    return str(current_app.config["WEBHOOK_RATE_LIMIT"])


@bp.post("/sms/inbound")
@csrf.exempt
@limiter.limit(_webhook_limit)
def inbound() -> Response:
    """A text from a volunteer: act on it once and answer in their language (TwiML)."""
    if not signature_is_valid():
        log.warning(
            "refused an inbound SMS webhook with a bad signature from %s", request.remote_addr
        )
        abort(403)
    return _twiml(sms_replies.handle_inbound(request.form.to_dict()))


@bp.post("/sms/status")
@csrf.exempt
@limiter.limit(_webhook_limit)
def status() -> tuple[str, int]:
    """A delivery status from Twilio; only ever moves a message forward."""
    if not signature_is_valid():
        log.warning("refused a status webhook with a bad signature from %s", request.remote_addr)
        abort(403)
    outcome = messaging.record_status(request.form.to_dict(), parse_int_arg(request.args.get("m")))
    log.info("status callback %s: %s", request.form.get("MessageSid"), outcome)
    return "", 204


# --- phone verification and channel -------------------------------------------------------------


@bp.get("/verify")
@login_required
def verify() -> tuple[str, int]:
    """Enter the code sent to the registered phone, or ask for one."""
    return _verify_page(CodeForm(), 200)


def _verify_page(form: CodeForm, status: int) -> tuple[str, int]:
    latest = messaging.latest_verification(current_user)
    return (
        render_template(
            "sms/verify.html",
            form=form,
            send_form=PostForm(),
            latest=latest,
            minutes=messaging.VERIFICATION_MINUTES,
        ),
        status,
    )


@bp.post("/verify")
@login_required
def verify_check() -> Response | tuple[str, int]:
    form = CodeForm()
    if not form.validate_on_submit():
        return _verify_page(form, 400)
    try:
        messaging.check_verification_code(current_user, form.code.data)
    except messaging.VerificationError as exc:
        form.code.errors = [str(exc.message)]
        return _verify_page(form, exc.status)
    flash(_("Your phone number is verified. Thank you!"), "success")
    return redirect(url_for("sms.channel"))


def _verify_key() -> str:
    user_id = current_user.get_id() if current_user.is_authenticated else None
    return f"verify-send:{user_id or request.remote_addr}"


@bp.post("/verify/send")
@login_required
@limiter.limit(lambda: current_app.config["SMS_VERIFY_RATE_LIMIT"], key_func=_verify_key)
def verify_send() -> Response | tuple[str, int]:
    """Send a new code (rate-limited per account; the previous code stops working)."""
    form = PostForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        messaging.send_verification_code(current_user)
    except messaging.VerificationError as exc:
        flash(str(exc.message), "error")
        return _verify_page(CodeForm(), exc.status)
    flash(_("We sent a code to %(phone)s.", phone=isolate_ltr(current_user.phone)), "success")
    return redirect(url_for("sms.verify"))


@bp.route("/messages", methods=["GET", "POST"])
@role_required("volunteer")
def channel() -> Response | tuple[str, int]:
    """Choose SMS or WhatsApp for our messages; see whether the phone is verified."""
    contact = messaging.contact_for(current_user)
    form = ChannelForm(channel=contact.channel if contact is not None else "sms")
    status_code = 200
    if form.validate_on_submit():
        contact = messaging.contact_for(current_user, create=True)
        if contact.channel != form.channel.data:
            audit.record(
                current_user,
                "sms.channel_changed",
                "user",
                current_user.id,
                old=contact.channel,
                new=form.channel.data,
            )
            contact.channel = form.channel.data
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("sms.channel"))
    if request.method == "POST":
        status_code = 400
    return render_template("sms/channel.html", form=form, contact=contact), status_code


# --- admin: outbox and inbox --------------------------------------------------------------------


@bp.get("/sms/outbox")
@role_required("admin")
def outbox() -> tuple[str, int]:
    """Every outbound message, newest first, with filters, segments and cost."""
    form = OutboxFilterForm(request.args)
    valid = form.validate()
    privacy.record_view(current_user, "messages", "outbound_message", None)
    query = sa.select(OutboundMessage).order_by(OutboundMessage.id.desc())
    if valid:
        if form.status.data:
            query = query.where(OutboundMessage.status == form.status.data)
        if form.kind.data:
            query = query.where(OutboundMessage.kind == form.kind.data)
        if form.channel.data:
            query = query.where(OutboundMessage.channel == form.channel.data)
        if form.q.data:
            digits = "".join(ch for ch in ascii_digits(form.q.data) if ch.isdigit())
            query = query.where(OutboundMessage.to_number.contains(digits))
    page = db.paginate(
        query,
        page=parse_int_arg(request.args.get("page")) or 1,
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return (
        render_template("sms/outbox.html", form=form, page=page, action_form=PostForm()),
        200 if valid else 400,
    )


@bp.get("/sms/outbox/<int:message_id>")
@role_required("admin")
def outbox_message(message_id: int) -> str:
    message = db.session.get(OutboundMessage, message_id) or abort(404)
    privacy.record_view(current_user, "messages", "outbound_message", message.id)
    return render_template("sms/message.html", message=message, action_form=PostForm())


@bp.post("/sms/outbox/<int:message_id>/resend")
@role_required("admin")
def resend(message_id: int) -> Response:
    """Send a failed, skipped or unconfirmed message again."""
    form = PostForm()
    if not form.validate_on_submit():
        abort(400)
    message = db.session.get(OutboundMessage, message_id) or abort(404)
    try:
        messaging.resend(message, current_user)
    except messaging.MessagingError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("sms.outbox_message", message_id=message.id), code=303)
    flash(_("The message will be sent again."), "success")
    return redirect(url_for("sms.outbox_message", message_id=message.id), code=303)


@bp.get("/sms/inbox")
@role_required("admin")
def inbox() -> str:
    """Every text received, newest first, with what it did and what we answered."""
    privacy.record_view(current_user, "messages", "inbound_message", None)
    query = sa.select(InboundMessage).order_by(InboundMessage.id.desc())
    number = request.args.get("q", "").strip()
    if number:
        digits = "".join(ch for ch in ascii_digits(number) if ch.isdigit())[:20]
        query = query.where(InboundMessage.from_number.contains(digits))
    page = db.paginate(
        query,
        page=parse_int_arg(request.args.get("page")) or 1,
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("sms/inbox.html", page=page, q=number[:40])
