"""Imports of volunteers, institutions and shifts: preview, all or nothing, duplicates, scope."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from web.models import AuditEvent, DataImport, Institution, Shift, User

EN = {"Accept-Language": "en"}


def upload(client, kind: str, content: bytes | str, filename: str = "file.csv", **headers):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        "/data/import",
        data={"kind": kind, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers or EN,
    )


def pending_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def confirm(client, import_id: int, app):
    from web.extensions import db

    sha = db.session.get(DataImport, import_id).file_sha256
    return client.post(f"/data/imports/{import_id}/confirm", data={"sha256": sha}, headers=EN)


def count(model) -> int:
    from web.extensions import db

    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def volunteers(app) -> list[User]:
    from web.extensions import db

    return list(
        db.session.execute(
            sa.select(User).where(User.role == "volunteer").order_by(User.phone)
        ).scalars()
    )


GOOD_CSV = (
    "Full name,Mobile phone,Email,Governorate,Gender,Date of birth,Skills,Languages\n"
    'Mona Ahmed,010 1234 5678,mona@example.org,Cairo,female,1998-03-21,"tutoring, music",ar\n'
    'Karim Hassan,01123456789,,EG-C,male,15/07/2001,,"Arabic, English"\n'
)


@pytest.fixture
def coordinator(factory):
    return factory.user("coordinator", national_scope=True)


def test_bad_row_writes_nothing_until_fixed_then_everything(app, client, login_as, coordinator):
    login_as(coordinator)
    bad = GOOD_CSV + "Sara Ali,not a phone,,Cairo,female,,,\n"
    import_id = pending_id(upload(client, "volunteers", bad))
    page = client.get(f"/data/imports/{import_id}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "1 row has errors." in html
    assert "Row 4, Mobile phone: This is not a valid phone number." in html
    assert "Volunteer Mona Ahmed, +201012345678" in html  # what the good rows would create
    assert volunteers(app) == []  # the preview wrote nothing
    refused = confirm(client, import_id, app)
    assert refused.status_code == 409
    assert "Nothing was imported" in refused.get_data(as_text=True)
    assert volunteers(app) == []

    fixed = GOOD_CSV + "Sara Ali,٠١٠٠٠٠٠٠٠٠٩,,Cairo,female,,,\n"
    import_id = pending_id(upload(client, "volunteers", fixed))
    done = confirm(client, import_id, app)
    assert done.status_code == 302
    people = volunteers(app)
    assert [u.phone for u in people] == ["+201000000009", "+201012345678", "+201123456789"]
    mona = next(u for u in people if u.full_name == "Mona Ahmed")
    assert mona.email == "mona@example.org"
    assert mona.profile.governorate.code == "EG-C"
    assert mona.profile.gender == "female"
    assert mona.profile.date_of_birth == date(1998, 3, 21)
    assert sorted(s.code for s in mona.profile.skills) == ["music", "tutoring"]
    karim = next(u for u in people if u.full_name == "Karim Hassan")
    assert karim.profile.date_of_birth == date(2001, 7, 15)
    assert karim.profile.languages == ["ar", "en"]
    # No password: the volunteer sets one later; no password can log in.
    from web.services import accounts

    assert not accounts.has_password(mona) and not mona.check_password("!no-password")
    from web.extensions import db

    assert db.session.get(DataImport, import_id) is None  # gone once confirmed
    actions = set(db.session.execute(sa.select(AuditEvent.action)).scalars())
    assert {"import.uploaded", "import.confirmed", "user.imported"} <= actions


def test_duplicates_in_the_file_and_against_the_database(
    app, client, factory, login_as, coordinator
):
    factory.volunteer(phone="+201012345678")
    login_as(coordinator)
    csv = (
        "Full name,Mobile phone,Governorate\n"
        "Mona,010 1234 5678,Cairo\n"
        "Ali,+20 11 2345 6789,Cairo\n"
        "Ali again,01123456789,Cairo\n"
    )
    import_id = pending_id(upload(client, "volunteers", csv))
    html = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "Row 2, Mobile phone: An account with this phone number already exists." in html
    assert "Row 4, Mobile phone: Same as row 3: each row must be a different one." in html
    assert "2 rows have errors." in html
    assert confirm(client, import_id, app).status_code == 409
    assert len(volunteers(app)) == 1


def test_arabic_headers_windows_1256_and_semicolons(app, client, login_as, coordinator):
    login_as(coordinator)
    text = "الاسم الكامل;رقم الموبايل;المحافظة;النوع\r\nمنى أحمد;01012345678;القاهرة;أنثى\r\n"
    import_id = pending_id(upload(client, "volunteers", text.encode("cp1256")))
    assert confirm(client, import_id, app).status_code == 302
    (mona,) = volunteers(app)
    assert mona.full_name == "منى أحمد"
    assert mona.profile.gender == "female"


def test_utf8_bom_tabs_and_header_case(app, client, login_as, coordinator):
    login_as(coordinator)
    text = "\ufeffFULL  NAME\tmobile\tGOVERNORATE\nMona\t+201012345678\tEG-C\n"
    import_id = pending_id(upload(client, "volunteers", text))
    assert confirm(client, import_id, app).status_code == 302
    assert [u.full_name for u in volunteers(app)] == ["Mona"]


def test_xlsx_with_typed_cells(app, client, factory, login_as, coordinator):
    from openpyxl import Workbook

    institution = factory.institution(name_en="Dar Al Amal", name_ar="دار الأمل")
    login_as(coordinator)
    day = date.today() + timedelta(days=10)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "المؤسسة",
            "الفرصة بالعربية",
            "التاريخ",
            "وقت البداية",
            "وقت النهاية",
            "عدد الأماكن",
            "أماكن للمهارات",
        ]
    )
    from datetime import datetime, time

    sheet.append(
        ["دار الأمل", "كورال", datetime.combine(day, time()), time(16, 0), "6:00 PM", 3, "music: 1"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_id = pending_id(upload(client, "shifts", buffer.getvalue(), "shifts.xlsx"))
    html = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "New opportunity" in html
    assert confirm(client, import_id, app).status_code == 302
    from web.extensions import db

    (shift,) = db.session.execute(sa.select(Shift)).scalars().all()
    local = shift.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Africa/Cairo"))
    assert (local.date(), local.hour) == (day, 16)
    assert shift.ends_at.astimezone(local.tzinfo).hour == 18
    assert shift.needed == 3 and shift.open_places == 2
    assert [r.skill.code for r in shift.requirements] == ["music"]
    assert shift.opportunity.title_ar == "كورال" and shift.institution_id == institution.id


def test_wrong_types_and_unknown_governorate_and_skill(app, client, factory, login_as, coordinator):
    factory.institution(name_en="Dar Al Amal")
    login_as(coordinator)
    csv = (
        "Full name,Mobile phone,Governorate,Skills,Date of birth,Travel radius (km)\n"
        "Mona,01012345678,Atlantis,juggling,31/31/2000,far\n"
    )
    import_id = pending_id(upload(client, "volunteers", csv))
    html = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "Governorate: Unknown governorate “Atlantis”." in html
    assert "Skills: Unknown skill “juggling”." in html
    assert "Date of birth: Write the date as YYYY-MM-DD or DD/MM/YYYY" in html
    assert "Travel radius (km): Enter a number." in html
    day = (date.today() + timedelta(days=3)).isoformat()
    shifts_csv = (
        "Institution,Opportunity in English,Date,Start time,End time,Places\n"
        f"Dar Al Amal,Tutoring,{day},16:00,15:00,three\n"
        f"Nowhere,Tutoring,{day},16:00,18:00,2\n"
    )
    import_id = pending_id(upload(client, "shifts", shifts_csv))
    html = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "Row 2, Places: Enter a whole number." in html
    assert "Row 3, Institution: No institution is called “Nowhere”." in html
    assert confirm(client, import_id, app).status_code == 409
    assert count(Shift) == 0


def test_shift_rules_come_from_the_shift_service(app, client, factory, login_as, coordinator):
    factory.institution(name_en="Dar Al Amal")
    login_as(coordinator)
    past = (date.today() - timedelta(days=3)).isoformat()
    soon = (date.today() + timedelta(days=3)).isoformat()
    csv = (
        "Institution,Opportunity in English,Date,Start time,End time,Places,Places for skills\n"
        f"Dar Al Amal,Tutoring,{past},16:00,18:00,2,\n"
        f"Dar Al Amal,Tutoring,{soon},16:00,18:00,1,music: 2\n"
    )
    html = client.get(
        f"/data/imports/{pending_id(upload(client, 'shifts', csv))}", headers=EN
    ).get_data(as_text=True)
    assert "Row 2, Date: This shift would start in the past." in html
    assert (
        "Row 3, Places: Places reserved for skills (2) are more than the places needed (1)." in html
    )


def test_scope_coordinator_imports_only_into_their_governorates(app, client, factory, login_as):
    cairo = factory.user("coordinator")
    cairo.governorates = [factory.governorate("EG-C")]
    factory.db.session.commit()
    factory.institution(name_en="Giza Home", governorate="EG-GZ")
    login_as(cairo)
    csv = "Full name,Mobile phone,Governorate\nMona,01012345678,Giza\nAli,01123456789,\n"
    html = client.get(
        f"/data/imports/{pending_id(upload(client, 'volunteers', csv))}", headers=EN
    ).get_data(as_text=True)
    assert "Row 2, Governorate: This governorate is outside your area." in html
    assert "Row 3, Governorate: Give the governorate: you import into your area." in html
    csv = "Name in English,Kind,Governorate\nNew Home,orphanage,Giza\n"
    html = client.get(
        f"/data/imports/{pending_id(upload(client, 'institutions', csv))}", headers=EN
    ).get_data(as_text=True)
    assert "Row 2, Governorate: This governorate is outside your area." in html
    day = (date.today() + timedelta(days=3)).isoformat()
    csv = (
        "Institution,Opportunity in English,Date,Start time,End time,Places\n"
        f"Giza Home,T,{day},10:00,12:00,1\n"
    )
    html = client.get(
        f"/data/imports/{pending_id(upload(client, 'shifts', csv))}", headers=EN
    ).get_data(as_text=True)
    assert "Row 2, Institution: This institution is outside your area." in html


def test_only_staff_and_only_the_owner(app, client, factory, login_as, coordinator):
    manager = factory.user("manager")
    login_as(manager)
    assert upload(client, "volunteers", GOOD_CSV).status_code == 403
    login_as(coordinator)
    import_id = pending_id(upload(client, "volunteers", GOOD_CSV))
    other = factory.user("coordinator", national_scope=True)
    login_as(other)
    assert client.get(f"/data/imports/{import_id}").status_code == 404
    assert confirm(client, import_id, app).status_code == 404
    assert volunteers(app) == []


def test_revalidated_at_confirm_time(app, client, factory, login_as, coordinator):
    login_as(coordinator)
    import_id = pending_id(upload(client, "volunteers", GOOD_CSV))
    page = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "All 2 rows are ready" in page
    factory.volunteer(phone="+201123456789")  # someone registers in between
    response = confirm(client, import_id, app)
    assert response.status_code == 409
    assert "An account with this phone number already exists." in response.get_data(as_text=True)
    assert len(volunteers(app)) == 1


def test_confirm_needs_the_previewed_file(app, client, login_as, coordinator):
    login_as(coordinator)
    import_id = pending_id(upload(client, "volunteers", GOOD_CSV))
    response = client.post(
        f"/data/imports/{import_id}/confirm", data={"sha256": "0" * 64}, headers=EN
    )
    assert response.status_code == 409
    assert volunteers(app) == []


def test_expired_pending_import_is_gone(app, client, login_as, coordinator):
    from web.extensions import db
    from web.models import utcnow

    login_as(coordinator)
    import_id = pending_id(upload(client, "volunteers", GOOD_CSV))
    db.session.get(DataImport, import_id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/data/imports/{import_id}").status_code == 404
    assert confirm(client, import_id, app).status_code == 404


def test_size_limits_and_unreadable_files(app, client, login_as, coordinator, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 2)
    login_as(coordinator)
    many = "Full name,Mobile phone\n" + "".join(f"P{i},0100000000{i}\n" for i in range(3))
    response = upload(client, "volunteers", many)
    assert response.status_code == 413
    assert "more than 2 rows" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 100)
    response = upload(client, "volunteers", "Full name,Mobile phone\n" + "x" * 200)
    assert response.status_code == 413
    assert "The file is too big" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    response = upload(client, "volunteers", b"\xd0\xcf\x11\xe0rest", "old.xls")
    assert "Old Excel files (.xls) are not supported" in response.get_data(as_text=True)
    response = upload(client, "volunteers", "Full name\nMona\n")
    assert "Missing: Mobile phone" in response.get_data(as_text=True)
    assert count(DataImport) == 0


def test_errors_in_arabic(app, client, login_as, coordinator):
    login_as(coordinator)
    response = upload(
        client, "volunteers", GOOD_CSV + "Sara,123,,Cairo\n", **{"Accept-Language": "ar"}
    )
    html = client.get(response.headers["Location"], headers={"Accept-Language": "ar"}).get_data(
        as_text=True
    )
    assert "الصف 4" in html
    assert "رقم الموبايل" in html


def test_institution_duplicates_and_creation(app, client, factory, login_as, coordinator):
    factory.institution(name_ar="دار قديمة", name_en="Old Home")
    login_as(coordinator)
    csv = (
        "Name in Arabic,Name in English,Kind,Governorate,Latitude,Longitude,Phone\n"
        "دار الأمل,Dar Al Amal,دار أيتام,القاهرة,٣٠٫٠٥,31.2,02 2345 6789\n"
        "دار السلام,,Elderly home,Giza,,,\n"
    )
    import_id = pending_id(upload(client, "institutions", csv))
    assert confirm(client, import_id, app).status_code == 302
    from web.extensions import db

    homes = db.session.execute(sa.select(Institution).order_by(Institution.id)).scalars().all()
    assert [(h.name_ar, h.kind, h.governorate.code) for h in homes[1:]] == [
        ("دار الأمل", "orphanage", "EG-C"),
        ("دار السلام", "elderly_home", "EG-GZ"),
    ]
    assert homes[1].lat == pytest.approx(30.05) and homes[1].phone == "+20223456789"
    assert homes[2].lat == homes[2].governorate.lat  # no point: the governorate's centre
    again = "Name in Arabic,Kind,Governorate\nدار الامل,orphanage,Cairo\nOld Home,other,Cairo\n"
    html = client.get(
        f"/data/imports/{pending_id(upload(client, 'institutions', again))}", headers=EN
    ).get_data(as_text=True)
    assert html.count("An institution with this name already exists in this governorate.") == 2


def test_docs_samples_show_one_bad_row_then_import(app, client, login_as, coordinator):
    from web.config import ROOT

    login_as(coordinator)
    bad = (ROOT / "docs" / "samples" / "volunteers-one-bad-row.csv").read_bytes()
    import_id = pending_id(upload(client, "volunteers", bad))
    html = client.get(f"/data/imports/{import_id}", headers=EN).get_data(as_text=True)
    assert "1 row has errors." in html and "Row 4, Mobile phone:" in html
    assert confirm(client, import_id, app).status_code == 409
    assert volunteers(app) == []
    fixed = (ROOT / "docs" / "samples" / "volunteers-fixed.csv").read_bytes()
    assert confirm(client, pending_id(upload(client, "volunteers", fixed)), app).status_code == 302
    assert len(volunteers(app)) == 3


def test_imported_volunteer_sets_a_password_with_the_reset_code(
    app, client, login_as, coordinator, monkeypatch, fast_password_hashing
):
    from web.services import accounts, password_reset

    login_as(coordinator)
    assert (
        confirm(client, pending_id(upload(client, "volunteers", GOOD_CSV)), app).status_code == 302
    )
    with pytest.raises(accounts.AuthenticationError):
        accounts.authenticate("01012345678", "!no-password")
    monkeypatch.setattr(password_reset.secrets, "randbelow", lambda _n: 123456)
    password_reset.request_reset("01012345678")
    password_reset.reset_with_code("01012345678", "123456", "a new long password")
    assert accounts.authenticate("01012345678", "a new long password").full_name == "Mona Ahmed"


def test_shift_times_are_in_the_institutions_zone(app, client, factory, login_as, coordinator):
    from zoneinfo import ZoneInfo

    factory.institution(name_en="Dubai Home", timezone="Asia/Dubai")
    login_as(coordinator)
    day = date.today() + timedelta(days=4)
    csv = (
        "Institution,Opportunity in English,Date,Start time,End time,Places\n"
        f"Dubai Home,Reading,{day.isoformat()},4:00 م,6:30 م,2\n"
    )
    assert confirm(client, pending_id(upload(client, "shifts", csv)), app).status_code == 302
    from web.extensions import db

    (shift,) = db.session.execute(sa.select(Shift)).scalars().all()
    assert shift.starts_at == datetime(
        day.year, day.month, day.day, 16, tzinfo=ZoneInfo("Asia/Dubai")
    )
    assert shift.ends_at.astimezone(ZoneInfo("Asia/Dubai")).time() == time(18, 30)


def test_unknown_columns_are_named_and_ignored(app, client, login_as, coordinator):
    login_as(coordinator)
    csv = "Full name,Mobile phone,Favourite colour\nMona,01012345678,blue\n"
    response = upload(client, "volunteers", csv)
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "These columns were not recognised and are ignored: Favourite colour" in page
    assert "The row is ready" in page
