"""Replies by SMS or WhatsApp: understanding them (Arabic and English) and acting on them."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError

from web.extensions import db
from web.i18n import ascii_digits
from web.models import Assignment, InboundMessage, User, utcnow
from web.services import audit
from web.services.messaging import (
    contact_for,
    ensure_reminders,
    in_locale,
    recipient_locale,
    shift_values,
    short,
)

log = logging.getLogger(__name__)

ACCEPT = frozenset({"نعم", "ايوه", "ايوا", "اه", "موافق", "yes", "y", "ok", "1"})
DECLINE = frozenset({"لا", "لاء", "no", "n", "2"})
STOP = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "ايقاف", "الغاء", "توقف"}
)
START = frozenset({"start", "unstop", "ابدا", "بدء"})
HELP = frozenset({"help", "info", "مساعده", "مساعدة"})

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Reply:
    """What a reply means: an intent and, with several pending offers, which one (1-based)."""

    intent: str  # accept | decline | stop | start | help | unknown
    choice: int | None = None


def normalise(text: str) -> str:
    """Lower case, ASCII digits, no diacritics or tatweel, one alef, ة as ه, ى as ي."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text)
    text = ascii_digits(text).lower()
    text = _TASHKEEL.sub("", text)
    text = re.sub("[أإآٱ]", "ا", text).replace("ة", "ه").replace("ى", "ي")
    text = _PUNCT.sub(" ", text)
    return " ".join(text.split())


def _word_intent(word: str) -> str | None:
    if word in ACCEPT:
        return "accept"
    if word in DECLINE:
        return "decline"
    if word in STOP:
        return "stop"
    if word in START:
        return "start"
    if word in HELP:
        return "help"
    # Stretched spellings: "ايوووه", "yesss", "نعععم".
    squeezed = re.sub(r"(.)\1+", r"\1", word)
    if squeezed != word:
        return _word_intent(squeezed)
    return None


def parse(text: str) -> Reply:
    """Understand a reply: "نعم", "yes 2", "لا ١", "2", "STOP", "مساعدة"..."""
    words = normalise(text).split()
    if not words:
        return Reply("unknown")
    if len(words) == 1:
        word = words[0]
        intent = _word_intent(word)
        if intent is not None:
            return Reply(intent)
        match = re.fullmatch(r"(yes|y|no|n)(\d{1,2})", word)
        if match:
            return Reply(
                "accept" if match.group(1) in ("yes", "y") else "decline", int(match.group(2))
            )
        return Reply("unknown")
    if len(words) == 2:
        first, second = words
        intent = _word_intent(first)
        if intent in ("accept", "decline") and second.isdigit():
            return Reply(intent, int(second))
        intent = _word_intent(second)
        if intent in ("accept", "decline") and first.isdigit() and not second.isdigit():
            return Reply(intent, int(first))
    intent = _word_intent(words[0])
    if intent in ("stop", "start", "help"):
        return Reply(intent)
    return Reply("unknown")


# --- acting on a reply --------------------------------------------------------------------------


@dataclass
class Handled:
    """The reply to send back and what happened, as stored on the inbound row."""

    reply: str
    outcome: str
    assignment_id: int | None = None


def find_sender(number: str) -> User | None:
    number = number.removeprefix("whatsapp:").strip()
    if not number:
        return None
    return db.session.execute(sa.select(User).where(User.phone == number)).scalar_one_or_none()


def help_text() -> str:
    return _(
        "Reply YES to accept an offer or NO to decline it. STOP: no more messages. "
        "START: messages again."
    )


def _offer_line(index: int, assignment: Assignment, locale: str) -> str:
    values = shift_values(assignment.shift, locale)
    return _(
        "%(n)s) %(place)s %(when)s", n=index, place=short(values["place"], 20), when=values["when"]
    )


def _choose_text(offers: list[Assignment], locale: str) -> str:
    lines = " ".join(_offer_line(i + 1, a, locale) for i, a in enumerate(offers[:5]))
    return ngettext(
        "You have %(num)d open offer: %(lines)s. Reply YES 1 or NO 1.",
        "You have %(num)d open offers: %(lines)s. Reply YES and the number (e.g. YES 1), "
        "or NO and the number.",
        len(offers),
        lines=lines,
    )


def _act(user: User, reply: Reply, channel: str, now: datetime) -> Handled:
    from web.services.offers import OfferError, accept, decline, pending_offers

    locale = recipient_locale(user)
    profile = user.profile
    if reply.intent == "stop":
        if profile is not None:
            profile.sms_opted_out_at = profile.sms_opted_out_at or now
        else:
            contact = contact_for(user, create=True)
            contact.opted_out_at = contact.opted_out_at or now
        audit.record(user, "sms.opted_out", "user", user.id, channel=channel)
        return Handled(
            _("You will get no more messages from us. Reply START to get them again."), "opted_out"
        )
    if reply.intent == "start":
        if profile is not None:
            profile.sms_opted_out_at = None
            profile.sms_consent = True
        contact = contact_for(user)
        if contact is not None:
            contact.opted_out_at = None
        audit.record(user, "sms.opted_in", "user", user.id, channel=channel)
        return Handled(_("Messages are on again. Reply HELP for help."), "opted_in")
    if reply.intent in ("help", "unknown"):
        return Handled(help_text(), reply.intent)
    offers = pending_offers(user)
    if not offers:
        return Handled(_("You have no open offer right now."), "no_offer")
    if reply.choice is None and len(offers) > 1:
        return Handled(_choose_text(offers, locale), "ambiguous")
    index = (reply.choice or 1) - 1
    if not 0 <= index < len(offers):
        return Handled(_choose_text(offers, locale), "bad_choice")
    assignment = offers[index]
    values = shift_values(assignment.shift, locale)
    try:
        if reply.intent == "accept":
            accept(assignment, user, channel=channel)
            ensure_reminders(assignment, utcnow())
            text = _(
                "Thank you! You are confirmed: %(place)s, %(when)s.",
                place=values["place"],
                when=values["when"],
            )
            return Handled(text, "accepted", assignment.id)
        decline(assignment, user, channel=channel)
        text = _(
            "Noted: you declined %(place)s, %(when)s. Thank you for telling us.",
            place=values["place"],
            when=values["when"],
        )
        return Handled(text, "declined", assignment.id)
    except OfferError as exc:
        return Handled(str(exc.message), "refused", assignment.id)


def handle_inbound(params: dict[str, str]) -> str:
    """Record an inbound message once (by MessageSid), act on it, return the reply text.

    A MessageSid seen before returns the reply given then and changes nothing.
    """
    sid = (params.get("MessageSid") or params.get("SmsMessageSid") or "").strip()
    if not sid:
        return ""
    known = db.session.execute(
        sa.select(InboundMessage).where(InboundMessage.message_sid == sid)
    ).scalar_one_or_none()
    if known is not None:
        return known.reply
    sender = params.get("From", "")
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    body = (params.get("Body") or "")[:1600]
    user = find_sender(sender)
    now = utcnow()
    inbound = InboundMessage(
        message_sid=sid,
        channel=channel,
        from_number=sender[:40],
        to_number=(params.get("To") or "")[:40],
        body=body,
        user_id=user.id if user is not None else None,
        received_at=now,
    )
    db.session.add(inbound)
    try:
        db.session.flush()
    except IntegrityError:  # the same webhook, delivered twice at once
        db.session.rollback()
        known = db.session.execute(
            sa.select(InboundMessage).where(InboundMessage.message_sid == sid)
        ).scalar_one_or_none()
        return known.reply if known is not None else ""
    reply = parse(body)
    inbound.intent = reply.intent
    if user is None:
        handled = Handled(in_locale("ar", help_text), "unknown_sender")
    else:
        if channel == "whatsapp":
            contact_for(user, create=True).whatsapp_inbound_at = now
        # accept()/decline() commit the session: the inbound row goes with their change.
        handled = in_locale(recipient_locale(user), lambda: _act(user, reply, channel, now))
    inbound.outcome = handled.outcome
    inbound.reply = str(handled.reply)
    inbound.assignment_id = handled.assignment_id
    db.session.commit()
    return inbound.reply
