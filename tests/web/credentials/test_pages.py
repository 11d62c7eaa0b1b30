"""Credential pages: a volunteer adds one, only the owner and coordinators in scope see the
document, a coordinator verifies or rejects it, and bad input writes nothing."""

from __future__ import annotations

import gc
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.web.credentials.helpers import credential_type, give
from web.extensions import db
from web.models import AuditEvent, UploadedFile, VolunteerCredential
from web.services import uploads

EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n% a first-aid certificate\n%%EOF\n"


def post_credential(client, code="first_aid", data=PDF, name="cert.pdf", headers=EN, **fields):
    form = {
        "credential_type": str(credential_type(code).id),
        "issued_on": str(fields.pop("issued_on", date.today() - timedelta(days=100))),
        "expires_on": str(fields.pop("expires_on", date.today() + timedelta(days=365))),
        "document": (io.BytesIO(data), name),
    }
    form.update(fields)
    return client.post(
        "/credentials", data=form, headers=headers, content_type="multipart/form-data"
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def stored_files(app) -> set[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return set(folder.iterdir()) if folder.exists() else set()


def test_a_volunteer_adds_a_credential_that_a_coordinator_verifies(app, factory, client, login_as):
    volunteer = factory.volunteer(full_name="Mona Volunteer")
    coordinator = factory.user("coordinator")
    coordinator.governorates.append(factory.governorate("EG-C"))
    db.session.commit()

    login_as(volunteer)
    response = post_credential(client)
    assert response.status_code == 303
    credential = db.session.scalars(sa.select(VolunteerCredential)).one()
    assert credential.status == "pending" and credential.document.content_type == "application/pdf"
    page = client.get("/credentials", headers=EN).get_data(as_text=True)
    assert "Waiting for verification" in page
    assert client.get(f"/credentials/{credential.id}/document").get_data() == PDF

    login_as(coordinator)
    queue = client.get("/coordinator/credentials", headers=EN).get_data(as_text=True)
    assert "Mona Volunteer" in queue and "First-aid certificate" in queue
    document = client.get(f"/credentials/{credential.id}/document")
    assert document.status_code == 200 and document.get_data() == PDF
    assert document.mimetype == "application/pdf"
    assert client.post(f"/coordinator/credentials/{credential.id}/verify").status_code == 303
    db.session.expire_all()
    assert credential.status == "verified" and credential.reviewed_by_id == coordinator.id
    assert "Mona Volunteer" not in client.get("/coordinator/credentials").get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["credential.add", "credential.verify"]
    # reviewed once: a second verify is a conflict, nothing changes
    again = client.post(f"/coordinator/credentials/{credential.id}/verify", headers=EN)
    assert again.status_code == 303

    login_as(volunteer)
    assert "Verified" in client.get("/credentials", headers=EN).get_data(as_text=True)


def test_only_the_owner_and_coordinators_in_scope_fetch_the_document(
    app, factory, client, login_as
):
    owner = factory.volunteer(governorate="EG-C")
    upload = uploads.save_upload(io.BytesIO(PDF), "credential_document", owner=owner)
    credential = give(owner, "background_check", status="pending", document=upload)
    url = f"/credentials/{credential.id}/document"

    assert client.get(url).status_code == 302  # anonymous: to the login page
    cairo = factory.user("coordinator")
    cairo.governorates.append(factory.governorate("EG-C"))
    alexandria = factory.user("coordinator")
    alexandria.governorates.append(factory.governorate("EG-ALX"))
    db.session.commit()
    manager = factory.user("manager")
    factory.institution(managers=(manager,), governorate="EG-C")
    strangers = [factory.volunteer(governorate="EG-C"), manager, alexandria]
    for stranger in strangers:
        login_as(stranger)
        assert client.get(url).status_code == 404, stranger
    for allowed in (owner, cairo, factory.user("coordinator", national_scope=True)):
        login_as(allowed)
        assert client.get(url).get_data() == PDF
    login_as(factory.user("admin"))
    assert client.get(url).status_code == 200

    # the out-of-scope coordinator neither sees it in the queue nor can review it
    login_as(alexandria)
    queue = client.get("/coordinator/credentials").get_data(as_text=True)
    assert f"/credentials/{credential.id}/document" not in queue
    assert client.post(f"/coordinator/credentials/{credential.id}/verify").status_code == 404
    assert (
        client.post(
            f"/coordinator/credentials/{credential.id}/reject",
            data={f"c{credential.id}-reason": "no"},
        ).status_code
        == 404
    )
    login_as(manager)
    assert client.get("/coordinator/credentials").status_code == 403
    assert client.post(f"/coordinator/credentials/{credential.id}/verify").status_code == 403
    db.session.expire_all()
    assert credential.status == "pending"


def test_a_file_that_is_not_a_document_is_refused_in_the_users_language(
    app, factory, client, login_as, monkeypatch
):
    login_as(factory.volunteer())
    before = stored_files(app)
    html = b"<html><script>alert(1)</script></html>"
    response = post_credential(client, data=html, name="cert.pdf")
    assert response.status_code == 400
    assert "This type of file is not accepted" in response.get_data(as_text=True)
    arabic = post_credential(client, data=html, name="cert.pdf", headers={"Accept-Language": "ar"})
    assert "هذا النوع من الملفات غير مقبول" in arabic.get_data(as_text=True)
    monkeypatch.setitem(app.config, "UPLOAD_LIMITS", {"credential_document": 100})
    big = post_credential(client, data=PDF + b"0" * 200)
    assert big.status_code == 400 and "too large" in big.get_data(as_text=True)
    missing = client.post(
        "/credentials",
        data={
            "credential_type": str(credential_type("first_aid").id),
            "issued_on": "2025-01-01",
        },
        headers=EN,
    )
    assert missing.status_code == 400 and "Choose a file to upload" in missing.get_data(
        as_text=True
    )
    assert count(VolunteerCredential) == count(UploadedFile) == 0
    assert stored_files(app) == before


def test_bad_dates_and_unknown_types_write_nothing(app, factory, client, login_as):
    login_as(factory.volunteer())
    today = date.today()
    cases = [
        ({"issued_on": today + timedelta(days=3)}, "cannot be in the future"),
        (
            {"issued_on": today - timedelta(days=10), "expires_on": today - timedelta(days=20)},
            "must be after the issue date",
        ),
        (
            {"issued_on": today - timedelta(days=400), "expires_on": today - timedelta(days=1)},
            "already expired",
        ),
        ({"issued_on": "yesterday"}, "Enter a date as YYYY-MM-DD."),
        ({"credential_type": "99999"}, "Choose from the list."),
    ]
    for fields, message in cases:
        response = post_credential(client, **fields)
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    assert count(VolunteerCredential) == count(UploadedFile) == 0
    assert stored_files(app) == set() or all(p.suffix != ".part" for p in stored_files(app))


# Werkzeug's test client spools a body this big to a temporary file it never closes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_document_over_the_kinds_limit_gets_our_message_not_a_bare_413(
    app, factory, client, login_as
):
    login_as(factory.volunteer())
    response = post_credential(client, data=PDF + b"0" * (3 * 1024 * 1024))
    assert response.status_code == 400
    assert "The file is too large: at most 2 MB." in response.get_data(as_text=True)
    assert count(VolunteerCredential) == count(UploadedFile) == 0
    del response
    gc.collect()  # the test client's temporary file goes now, under this test's filter


def test_arabic_digits_in_dates_are_accepted(app, factory, client, login_as):
    login_as(factory.volunteer())
    response = post_credential(client, issued_on="٢٠٢٥-٠١-١٥", expires_on="")
    assert response.status_code == 303
    credential = db.session.scalars(sa.select(VolunteerCredential)).one()
    assert credential.issued_on == date(2025, 1, 15) and credential.expires_on is None


def test_a_rejection_needs_a_reason_that_the_volunteer_then_sees(app, factory, client, login_as):
    volunteer = factory.volunteer()
    credential = give(volunteer, "child_safeguarding", status="pending")
    login_as(factory.user("coordinator", national_scope=True))
    url = f"/coordinator/credentials/{credential.id}/reject"
    empty = client.post(url, data={f"c{credential.id}-reason": "  "}, headers=EN)
    assert empty.status_code == 400
    assert "Say why, so the volunteer can fix it." in empty.get_data(as_text=True)
    db.session.expire_all()
    assert credential.status == "pending"
    done = client.post(url, data={f"c{credential.id}-reason": "The scan is unreadable"})
    assert done.status_code == 303
    db.session.expire_all()
    assert credential.status == "rejected"
    login_as(volunteer)
    page = client.get("/credentials", headers=EN).get_data(as_text=True)
    assert "Rejected" in page and "The scan is unreadable" in page


def test_an_expired_credential_shows_as_expired(app, factory, client, login_as):
    volunteer = factory.volunteer()
    give(volunteer, "first_aid", expires_on=date.today() - timedelta(days=3))
    login_as(volunteer)
    assert "Expired (no longer counts)" in client.get("/credentials", headers=EN).get_data(
        as_text=True
    )


def test_the_owner_removes_a_credential_and_its_file(app, factory, client, login_as):
    volunteer = factory.volunteer()
    login_as(volunteer)
    post_credential(client)
    credential = db.session.scalars(sa.select(VolunteerCredential)).one()
    path = uploads.path_of(credential.document)
    assert path.exists()
    login_as(factory.volunteer())
    assert client.post(f"/credentials/{credential.id}/remove").status_code == 404
    login_as(volunteer)
    assert client.post(f"/credentials/{credential.id}/remove").status_code == 303
    assert count(VolunteerCredential) == count(UploadedFile) == 0
    assert not path.exists()


def test_a_manager_cannot_add_credentials(app, factory, client, login_as):
    login_as(factory.user("manager"))
    assert client.get("/credentials").status_code == 403
    assert post_credential(client).status_code == 403
