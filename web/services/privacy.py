"""Personal data: the user's download, account erasure, audit of staff views, and retention."""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from web.extensions import db
from web.models import (
    Assignment,
    InboundMessage,
    OutboundMessage,
    User,
    VolunteerProfile,
    utcnow,
)
from web.services import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holding:
    """One table column that points at a person, and what erasing that person does to its rows.

    ``on_erase``: ``delete`` removes the rows; ``keep`` keeps them, linked to the account that
    erasure has emptied of personal data (hours, rosters and audit stay true as anonymous
    aggregates); ``staff`` rows only exist for staff accounts, which are deactivated, not erased.
    """

    table: str
    column: str
    on_erase: str
    export: bool = True


# Every column of the schema that refers to a user (or to a volunteer profile) is listed here:
# tests/web/privacy/test_privacy.py fails for a column that is not, so a new table cannot hold
# personal data that the download forgets or that erasure leaves behind.
HOLDINGS: tuple[Holding, ...] = (
    Holding("volunteer_profile", "user_id", "delete"),
    Holding("availability_rule", "profile_id", "delete"),
    Holding("availability_exception", "profile_id", "delete"),
    Holding("volunteer_skill", "profile_id", "delete"),
    Holding("volunteer_preferred_institution", "profile_id", "delete"),
    Holding("opportunity_interest", "user_id", "delete"),
    Holding("messaging_contact", "user_id", "delete"),
    Holding("phone_verification", "user_id", "delete"),
    Holding("password_reset", "user_id", "delete"),
    Holding("calendar_feed", "user_id", "delete"),
    Holding("outbound_message", "user_id", "delete"),
    Holding("inbound_message", "user_id", "delete"),
    Holding("volunteer_credential", "volunteer_id", "delete"),
    Holding("uploaded_file", "owner_id", "delete"),
    Holding("data_import", "owner_id", "delete", export=False),
    Holding("enrolment", "volunteer_id", "delete"),
    Holding("assignment", "volunteer_id", "keep"),
    Holding("run_proposal", "volunteer_id", "keep", export=False),
    Holding("audit_event", "actor_id", "keep"),
    Holding("hours_entry", "volunteer_id", "keep"),
    # A monitor's report stays evidence for the ministry after its author leaves; it is kept,
    # linked to the emptied account. Its workflow events name staff (and the author).
    Holding("monitoring_report", "author_id", "keep"),
    Holding("monitoring_report_event", "actor_id", "keep", export=False),
    Holding("certificate", "volunteer_id", "delete"),  # it quotes the name: it stops verifying
    # Who checked someone in or recorded hours: staff, or the volunteer by QR code.
    Holding("attendance_record", "checked_in_by_id", "keep", export=False),
    Holding("attendance_record", "checked_out_by_id", "keep", export=False),
    Holding("hours_entry", "recorded_by_id", "keep", export=False),
    Holding("volunteer_credential", "reviewed_by_id", "staff", export=False),
    Holding("run_proposal", "added_by_id", "staff", export=False),
    Holding("matching_run", "created_by_id", "staff", export=False),
    Holding("matching_run", "published_by_id", "staff", export=False),
    Holding("opportunity", "created_by_id", "staff", export=False),
    Holding("enrolment", "decided_by_id", "staff", export=False),
    Holding("programme", "created_by_id", "staff", export=False),
    Holding("institution_manager", "user_id", "staff"),
    Holding("coordinator_governorate", "user_id", "staff"),
)

# Never part of a download: secrets, and where files lie on our disk.
SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "code_hash",
        "secret_hash",
        "token_hash",
        "storage_name",
        "session_version",
        "idempotency_key",
    }
)
PROFILE_TABLES = frozenset(
    {
        "availability_rule",
        "availability_exception",
        "volunteer_skill",
        "volunteer_preferred_institution",
    }
)


class PrivacyError(Exception):
    """A request the user can fix; ``message`` is a lazy gettext string."""

    def __init__(self, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.message = message
        self.status = status


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def _rows(table_name: str, column: str, value: int) -> list[dict[str, Any]]:
    table = db.metadata.tables[table_name]
    query = sa.select(table).where(table.c[column] == value)
    if "id" in table.c:
        query = query.order_by(table.c.id)
    return [
        {key: _plain(item) for key, item in row.items() if key not in SECRET_COLUMNS}
        for row in db.session.execute(query).mappings()
    ]


def personal_data(user: User) -> dict[str, Any]:
    """Everything we hold about ``user``, table by table, without secrets."""
    profile = db.session.scalar(
        sa.select(VolunteerProfile).where(VolunteerProfile.user_id == user.id)
    )
    data: dict[str, Any] = {
        "format": "volunteer-matching/personal-data-v1",
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "user": _rows("user", "id", user.id)[0],
    }
    for holding in HOLDINGS:
        if not holding.export or holding.table not in db.metadata.tables:
            continue
        if holding.table in PROFILE_TABLES:
            rows = _rows(holding.table, holding.column, profile.id) if profile else []
        else:
            rows = _rows(holding.table, holding.column, user.id)
        if rows:
            data.setdefault(holding.table, []).extend(rows)
    return data


def export_archive(user: User) -> bytes:
    """A ZIP: ``personal-data.json`` and every file the user uploaded, under ``files/``."""
    from web.models.upload import UploadedFile
    from web.services.uploads import path_of

    data = personal_data(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "personal-data.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )
        uploads = db.session.scalars(
            sa.select(UploadedFile)
            .where(UploadedFile.owner_id == user.id)
            .order_by(UploadedFile.id)
        )
        for upload in uploads:
            path = path_of(upload)
            if path.is_file():
                archive.write(path, f"files/{upload.id}-{upload.original_name or 'file'}")
            else:
                log.error("uploaded file %s of user %s is missing on disk", upload.id, user.id)
    audit.record(user, "personal_data.exported", "user", user.id)
    db.session.commit()
    return buffer.getvalue()


def _step_down_from_future_shifts(user: User, now: datetime) -> None:
    """Give back future places the normal way, so waitlists and replacement runs refill them."""
    from web.models import Shift
    from web.services import offers, signup

    held = db.session.scalars(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.volunteer_id == user.id,
            Assignment.state.in_(("offered", "confirmed", "waitlisted")),
            Shift.starts_at > now,
        )
        .order_by(Assignment.id)
    ).all()
    for assignment in held:
        try:
            if assignment.state == "offered":
                offers.decline(assignment, user, channel="erasure")
            else:
                signup.withdraw(user, assignment.shift, now=now)
        except (offers.OfferError, signup.SignupError) as exc:
            db.session.rollback()
            log.warning(
                "erasure of user %s: could not give back %s: %s", user.id, assignment.id, exc
            )


def erase_account(user: User, password: str, *, now: datetime | None = None) -> None:
    """Erase a volunteer's personal data; hours and rosters stay as anonymous aggregates.

    Future places are given back first (the waitlist and replacement runs refill them); then,
    in one transaction, every row the user's data lives in is deleted and the account row is
    emptied: no name, no phone, no e-mail, no way to log in.
    """
    from web.models.upload import UploadedFile
    from web.services.uploads import delete_upload

    if not user.has_role("volunteer"):
        raise PrivacyError(
            _l("Staff accounts are closed by an administrator, not erased here."), status=403
        )
    if not password or not user.check_password(password):
        raise PrivacyError(_l("The password is not correct."))
    now = now or utcnow()
    user_id = user.id
    _step_down_from_future_shifts(user, now)
    user = db.session.get(User, user_id)

    for upload in db.session.scalars(
        sa.select(UploadedFile).where(UploadedFile.owner_id == user_id)
    ):
        db.session.execute(  # credentials point at their documents: unhook before deleting
            sa.update(db.metadata.tables["volunteer_credential"])
            .where(db.metadata.tables["volunteer_credential"].c.document_id == upload.id)
            .values(document_id=None)
        )
        delete_upload(upload)
    db.session.flush()
    profile = db.session.scalar(
        sa.select(VolunteerProfile).where(VolunteerProfile.user_id == user_id)
    )
    for holding in HOLDINGS:
        if holding.on_erase != "delete" or holding.table in PROFILE_TABLES:
            continue
        if holding.table in ("uploaded_file", "volunteer_profile"):
            continue
        table = db.metadata.tables[holding.table]
        db.session.execute(table.delete().where(table.c[holding.column] == user_id))
    if profile is not None:
        db.session.delete(profile)  # its availability, skills and preferences go with it
    user.full_name = ""
    user.email = f"erased-{user_id}@erased.invalid"
    user.phone = None
    user.phone_verified = False
    user.locale = None
    user.active = False
    user.erased_at = now
    user.set_password(secrets.token_urlsafe(32))
    user.end_sessions()
    audit.record(None, "account.erased", "user", user_id)
    db.session.commit()
    log.info("user %s erased their account", user_id)


def record_view(viewer: User | None, what: str, object_type: str, object_id: int | None) -> None:
    """Audit a member of staff looking at people's personal data (committed at once)."""
    if viewer is None or not getattr(viewer, "id", None):
        return
    audit.record(viewer, "personal_data.viewed", object_type, object_id, what=what)
    db.session.commit()


def retention_days(key: str) -> int | None:
    """Days to keep a kind of data (``MESSAGE_RETENTION_DAYS`` ...); 0 or unset keeps it."""
    days = int(current_app.config.get(key) or 0)
    return days if days > 0 else None


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete what the retention settings no longer allow us to keep; counts per kind."""
    from web.models.credential import VolunteerCredential
    from web.models.upload import UploadedFile
    from web.services.uploads import delete_upload

    now = now or utcnow()
    counts = {"messages": 0, "documents": 0}
    days = retention_days("MESSAGE_RETENTION_DAYS")
    if days is not None:
        cutoff = now - timedelta(days=days)
        in_flight = ("pending", "submitting")  # never delete what the worker may still send
        counts["messages"] += db.session.execute(
            sa.delete(OutboundMessage)
            .where(OutboundMessage.created_at < cutoff, OutboundMessage.status.not_in(in_flight))
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["messages"] += db.session.execute(
            sa.delete(InboundMessage)
            .where(InboundMessage.received_at < cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
    days = retention_days("DOCUMENT_RETENTION_DAYS")
    if days is not None:
        # Documents of credentials that expired or were rejected that many days ago.
        cutoff_day = (now - timedelta(days=days)).date()
        stale = db.session.scalars(
            sa.select(VolunteerCredential).where(
                VolunteerCredential.document_id.is_not(None),
                sa.or_(
                    VolunteerCredential.expires_on < cutoff_day,
                    sa.and_(
                        VolunteerCredential.status == "rejected",
                        VolunteerCredential.reviewed_at < now - timedelta(days=days),
                    ),
                ),
            )
        ).all()
        for credential in stale:
            upload = db.session.get(UploadedFile, credential.document_id)
            credential.document_id = None
            db.session.flush()
            if upload is not None:
                delete_upload(upload)
                counts["documents"] += 1
    if any(counts.values()):
        audit.record(None, "retention.purged", "retention", None, **counts)
    db.session.commit()
    return counts
