"""Personal data: download of everything, erasure that keeps hours anonymous, staff views audited,
retention purges."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from web.extensions import db
from web.models import (
    Assignment,
    AuditEvent,
    AvailabilityRule,
    InboundMessage,
    OutboundMessage,
    Shift,
    User,
    VolunteerProfile,
)
from web.models.credential import CredentialType, VolunteerCredential
from web.models.upload import UploadedFile
from web.services import messaging, privacy, signup
from web.services.credentials import CredentialInput, add_credential
from web.services.uploads import path_of

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EN = {"Accept-Language": "en"}


def user_columns() -> set[tuple[str, str]]:
    """Every (table, column) of the schema that points at a user or a volunteer profile."""
    found = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name in ("user", "volunteer_profile") and table.name != "user":
                    found.add((table.name, column.name))
    return found


def test_every_column_pointing_at_a_person_has_a_privacy_rule(app):
    listed = {(h.table, h.column) for h in privacy.HOLDINGS}
    missing = user_columns() - listed
    assert not missing, (
        f"{sorted(missing)} refer to a person: add them to HOLDINGS in web/services/privacy.py "
        "(what the download shows and what erasure does)"
    )
    assert not listed - user_columns(), "HOLDINGS names columns the schema no longer has"


def document(user: User) -> VolunteerCredential:
    kind = db.session.scalars(sa.select(CredentialType).order_by(CredentialType.id)).first()
    upload = FileStorage(io.BytesIO(PDF), filename="first-aid.pdf", content_type="application/pdf")
    credential = add_credential(
        user, CredentialInput(kind.id, date.today() - timedelta(days=30), None), upload
    )
    db.session.commit()
    return credential


@pytest.fixture
def person(factory):
    """A volunteer with a profile, a past attended shift, a future place, a message, a document."""
    volunteer = factory.volunteer(full_name="Mona Adel", phone="+201001234567")
    volunteer.profile.sms_consent = True
    past = factory.shift(start=datetime.now(UTC) - timedelta(days=3), needed=2)
    future = factory.shift(needed=1)
    db.session.add(
        Assignment(shift_id=past.id, volunteer_id=volunteer.id, state="attended", source="self")
    )
    db.session.commit()
    signup.sign_up(volunteer, future)
    waiting = factory.volunteer(full_name="Next In Line")
    signup.sign_up(waiting, future)
    messaging.enqueue(
        volunteer, "verification", f"v-{volunteer.id}", {"code": "123456", "minutes": 10}
    )
    db.session.add(
        InboundMessage(
            message_sid="SM" + "9" * 32,
            channel="sms",
            from_number=volunteer.phone,
            to_number="+15005550006",
            body="YES",
            user_id=volunteer.id,
        )
    )
    db.session.commit()
    credential = document(volunteer)
    other = factory.volunteer(full_name="Someone Else")
    return {
        "user": volunteer,
        "past": past,
        "future": future,
        "waiting": waiting,
        "credential": credential,
        "other": other,
    }


def test_the_download_holds_everything_about_the_user_and_nothing_secret(person, client, login_as):
    user = person["user"]
    login_as(user)
    response = client.post("/account/data/download")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("personal-data.json"))
    assert data["user"]["full_name"] == "Mona Adel"
    assert data["user"]["phone"] == "+201001234567"
    assert data["volunteer_profile"][0]["sms_consent"] is True
    assert len(data["availability_rule"]) == 7
    assert {a["state"] for a in data["assignment"]} == {"attended", "confirmed"}
    assert data["outbound_message"][0]["kind"] == "verification"
    assert data["inbound_message"][0]["body"] == "YES"
    assert data["volunteer_credential"][0]["status"] == "pending"
    text = archive.read("personal-data.json").decode()
    for secret in ("password_hash", "code_hash", "storage_name", "idempotency_key"):
        assert secret not in text
    assert "Someone Else" not in text
    files = [name for name in archive.namelist() if name.startswith("files/")]
    assert len(files) == 1 and files[0].endswith("first-aid.pdf")
    assert archive.read(files[0]) == PDF
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "personal_data.exported", AuditEvent.actor_id == user.id)
    )


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_data_page_speaks_both_languages(person, client, login_as, language):
    login_as(person["user"])
    page = client.get("/account/data", headers={"Accept-Language": language})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with force_locale(language):
        from flask_babel import gettext

        assert gettext("Download all my data") in text
        assert gettext("Erase my account") in text


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_a_wrong_password_erases_nothing(person, client, login_as):
    login_as(person["user"])
    before = counts()
    response = client.post(
        "/account/erase", data={"password": "wrong", "understood": "y"}, headers=EN
    )
    assert response.status_code == 400
    assert "The password is not correct." in response.get_data(as_text=True)
    after = counts()
    assert after == before
    arabic = client.post("/account/erase", data={"password": "wrong", "understood": "y"})
    assert "كلمة المرور غير صحيحة" in arabic.get_data(as_text=True)


def test_the_box_must_be_ticked(person, client, login_as):
    login_as(person["user"])
    before = counts()
    from tests.conftest import PASSWORD

    response = client.post("/account/erase", data={"password": PASSWORD}, headers=EN)
    assert response.status_code == 400
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    assert counts() == before


def test_erasure_removes_the_person_and_keeps_the_hours(person, client, login_as, app):
    from tests.conftest import PASSWORD

    user, past, future = person["user"], person["past"], person["future"]
    user_id, document_path = (
        user.id,
        path_of(db.session.get(UploadedFile, person["credential"].document_id)),
    )
    assert document_path.is_file()
    rules = db.session.scalar(sa.select(sa.func.count()).select_from(AvailabilityRule))
    login_as(user)
    response = client.post(
        "/account/erase", data={"password": PASSWORD, "understood": "y"}, headers=EN
    )
    assert response.status_code == 302
    db.session.expire_all()
    erased = db.session.get(User, user_id)
    assert erased.full_name == "" and erased.phone is None
    assert erased.email.endswith("@erased.invalid") and "Mona" not in erased.email
    assert erased.active is False and erased.erased_at is not None
    assert not erased.check_password(PASSWORD)
    # Personal data is gone ...
    assert (
        db.session.scalar(sa.select(VolunteerProfile).where(VolunteerProfile.user_id == user_id))
        is None
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AvailabilityRule)) == rules - 7
    for model, column in (
        (OutboundMessage, OutboundMessage.user_id),
        (InboundMessage, InboundMessage.user_id),
        (VolunteerCredential, VolunteerCredential.volunteer_id),
        (UploadedFile, UploadedFile.owner_id),
    ):
        assert not db.session.scalars(sa.select(model).where(column == user_id)).all(), model
    assert not document_path.exists()
    # ... the hours stay, anonymous, and the future place went to the waitlist.
    kept = db.session.scalars(sa.select(Assignment).where(Assignment.volunteer_id == user_id)).all()
    by_shift = {a.shift_id: a.state for a in kept}
    assert by_shift[past.id] == "attended"
    assert by_shift[future.id] == "cancelled"
    promoted = db.session.scalar(
        sa.select(Assignment).where(
            Assignment.shift_id == future.id, Assignment.volunteer_id == person["waiting"].id
        )
    )
    assert promoted.state == "confirmed"
    assert db.session.get(Shift, future.id).open_taken == 1
    # The session ended and the account cannot log in.
    assert client.get("/account").status_code == 302
    login = client.post("/login", data={"login": "+201001234567", "password": PASSWORD}, headers=EN)
    assert login.status_code == 400
    # The other volunteer is untouched.
    assert db.session.get(User, person["other"].id).full_name == "Someone Else"


def test_staff_accounts_are_not_erased_here(factory, client, login_as):
    from tests.conftest import PASSWORD

    manager = factory.user("manager")
    login_as(manager)
    response = client.post(
        "/account/erase", data={"password": PASSWORD, "understood": "y"}, headers=EN
    )
    assert response.status_code == 403
    assert db.session.get(User, manager.id).full_name.startswith("Test manager")


def test_staff_views_of_contacts_and_messages_are_audited(factory, client, login_as):
    manager = factory.user("manager")
    institution = factory.institution(managers=(manager,))
    admin = factory.user("admin")
    login_as(manager)
    assert client.get(f"/manage/institutions/{institution.id}/contacts").status_code == 200
    login_as(admin)
    assert client.get("/sms/outbox").status_code == 200
    assert client.get("/sms/inbox").status_code == 200
    events = db.session.execute(
        sa.select(AuditEvent.actor_id, AuditEvent.object_type, AuditEvent.details).where(
            AuditEvent.action == "personal_data.viewed"
        )
    ).all()
    assert (manager.id, "institution", {"what": "contacts"}) in events
    assert (admin.id, "outbound_message", {"what": "messages"}) in events
    assert (admin.id, "inbound_message", {"what": "messages"}) in events
    page = client.get("/admin/personal-data-access", headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Contact details of volunteers" in text and manager.full_name in text
    filtered = client.get(f"/admin/personal-data-access?viewer={manager.id}", headers=EN)
    assert "Messages sent and received" not in filtered.get_data(as_text=True)


def test_only_admins_see_the_access_log(factory, client, login_as):
    login_as(factory.user("coordinator", national_scope=True))
    assert client.get("/admin/personal-data-access").status_code == 403


def test_retention_purges_old_messages_and_documents_but_nothing_in_flight(person, app):
    user = person["user"]
    now = datetime.now(UTC)
    old = now - timedelta(days=400)
    sent = messaging.enqueue(
        user, "verification", "old-sent", {"code": "111111", "minutes": 10}, now=old
    )
    sent.status = "delivered"
    pending = messaging.enqueue(
        user, "verification", "old-pending", {"code": "222222", "minutes": 10}, now=old
    )
    db.session.execute(sa.update(InboundMessage).values(received_at=old))
    credential = person["credential"]
    credential.issued_on = (now - timedelta(days=800)).date()
    credential.expires_on = (now - timedelta(days=400)).date()
    db.session.commit()
    path = path_of(db.session.get(UploadedFile, credential.document_id))
    pending_id, sent_id = pending.id, sent.id

    app.config["MESSAGE_RETENTION_DAYS"] = 0
    app.config["DOCUMENT_RETENTION_DAYS"] = 0
    assert privacy.purge_expired(now) == {"messages": 0, "documents": 0}
    assert path.exists()

    app.config["MESSAGE_RETENTION_DAYS"] = 365
    app.config["DOCUMENT_RETENTION_DAYS"] = 365
    result = privacy.purge_expired(now)
    assert result == {"messages": 2, "documents": 1}
    db.session.expire_all()
    assert db.session.get(OutboundMessage, sent_id) is None
    assert db.session.get(OutboundMessage, pending_id) is not None  # the worker may still send it
    assert not path.exists()
    assert db.session.get(VolunteerCredential, credential.id).document_id is None


def test_the_worker_purges_once_a_day(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from web.worker import build_scheduler

    scheduler = build_scheduler(app, BackgroundScheduler())
    job = scheduler.get_job("purge-expired-data")
    assert job is not None and "hour='3'" in str(job.trigger)
