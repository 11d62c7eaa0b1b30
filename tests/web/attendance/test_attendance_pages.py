"""Attendance pages: the roster's buttons, the QR page, scanning, hours, no-shows, certificates."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from markupsafe import escape

from tests.web.attendance.conftest import count, seat
from web.extensions import db
from web.models import AttendanceRecord, Certificate, HoursEntry
from web.services import attendance, certificates

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}


def flashes(client, url, headers=EN):
    return client.get(url, headers=headers).get_data(as_text=True)


def test_manager_checks_in_and_out_from_the_roster(home, client, login_as):
    a = seat(home.now_shift, home.volunteers[0])
    login_as(home.manager)
    roster = f"/manage/shifts/{home.now_shift.id}"
    page = client.get(roster, headers=EN).get_data(as_text=True)
    assert f"/manage/assignments/{a.id}/check-in" in page
    assert f"/manage/shifts/{home.now_shift.id}/qr" in page
    response = client.post(f"/manage/assignments/{a.id}/check-in", headers=EN)
    assert response.status_code == 303
    page = flashes(client, roster)
    assert "is checked in" in page
    assert f"/manage/assignments/{a.id}/check-out" in page
    assert client.post(f"/manage/assignments/{a.id}/check-out", headers=EN).status_code == 303
    assert "is checked out" in flashes(client, roster)
    assert count(HoursEntry) == 1


def test_double_check_in_from_the_roster_says_so_in_arabic(home, client, login_as):
    a = seat(home.now_shift, home.volunteers[0])
    login_as(home.manager)
    client.post(f"/manage/assignments/{a.id}/check-in", headers=AR)
    client.get(f"/manage/shifts/{home.now_shift.id}", headers=AR)
    client.post(f"/manage/assignments/{a.id}/check-in", headers=AR)
    page = flashes(client, f"/manage/shifts/{home.now_shift.id}", AR)
    with force_locale("ar"):
        assert str(escape(babel_gettext("This volunteer has already checked in."))) in page
    assert count(AttendanceRecord) == 1


def test_past_shift_roster_offers_the_whole_shift(home, client, login_as):
    a = seat(home.past_shift, home.volunteers[0])
    login_as(home.manager)
    page = client.get(f"/manage/shifts/{home.past_shift.id}", headers=EN).get_data(as_text=True)
    assert f"/manage/assignments/{a.id}/whole-shift" in page
    assert f"/manage/assignments/{a.id}/check-in" not in page
    assert f"/manage/shifts/{home.past_shift.id}/qr" not in page
    client.post(f"/manage/assignments/{a.id}/whole-shift")
    assert attendance.total_minutes(home.volunteers[0].id) == 180


def test_other_staff_cannot_touch_attendance(home, client, login_as, factory):
    a = seat(home.now_shift, home.volunteers[0])
    stranger = factory.user("manager", managed_institutions=[factory.institution()])
    login_as(stranger)
    for path in ("check-in", "check-out", "whole-shift", "hours"):
        assert client.post(f"/manage/assignments/{a.id}/{path}").status_code == 403
    assert client.get(f"/manage/shifts/{home.now_shift.id}/qr").status_code == 403
    assert client.post("/manage/assignments/99999/check-in").status_code == 404
    login_as(home.volunteers[0])
    assert client.post(f"/manage/assignments/{a.id}/check-in").status_code == 403
    assert count(AttendanceRecord) == 0


def test_qr_page_shows_an_svg_drawn_on_the_server(home, client, login_as):
    login_as(home.manager)
    response = client.get(f"/manage/shifts/{home.now_shift.id}/qr", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<svg" in page and 'class="qr-code"' in page
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    token = attendance.qr_token(home.now_shift)
    assert f"http://localhost/attend/{home.now_shift.id}/{token}" in page


def test_volunteer_scans_checks_in_then_out(home, client, login_as):
    volunteer = home.volunteers[0]
    seat(home.now_shift, volunteer)
    url = f"/attend/{home.now_shift.id}/{attendance.qr_token(home.now_shift)}"
    login_as(volunteer)
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "Check in now" in page
    assert count(AttendanceRecord) == 0
    assert client.post(url, headers=EN).status_code == 303
    page = flashes(client, url)
    assert "You are checked in" in page and "Check out now" in page
    client.post(url, headers=EN)
    assert "You are checked out" in flashes(client, url)
    entry = db.session.scalars(sa.select(HoursEntry)).one()
    assert entry.source == "qr"


def test_scan_by_someone_without_a_place_explains_and_writes_nothing(home, client, login_as):
    url = f"/attend/{home.now_shift.id}/{attendance.qr_token(home.now_shift)}"
    login_as(home.volunteers[1])
    page = client.get(url, headers=AR).get_data(as_text=True)
    with force_locale("ar"):
        message = babel_gettext(
            "You do not have a place on this shift, so there is nothing to record."
        )
        button = babel_gettext("Check in now")
    assert str(escape(message)) in page
    assert button not in page
    client.post(url, headers=AR)
    assert str(escape(message)) in flashes(client, url, AR)
    assert count(AttendanceRecord) == 0


def test_forged_scan_url_is_refused(home, client, login_as):
    seat(home.now_shift, home.volunteers[0])
    login_as(home.volunteers[0])
    url = f"/attend/{home.now_shift.id}/forged.token"
    response = client.get(url, headers=EN)
    assert response.status_code == 400
    assert "This code is not valid" in response.get_data(as_text=True)
    client.post(url)
    assert count(AttendanceRecord) == 0


def test_scanning_needs_a_login(home, client):
    url = f"/attend/{home.now_shift.id}/{attendance.qr_token(home.now_shift)}"
    response = client.get(url)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_manager_corrects_hours_with_a_reason(home, client, login_as):
    a = seat(home.past_shift, home.volunteers[0])
    attendance.record_whole_shift(home.manager, a)
    login_as(home.manager)
    url = f"/manage/assignments/{a.id}/hours"
    assert client.get(url, headers=EN).status_code == 200
    bad = client.post(url, data={"minutes": "-30", "note": ""}, headers=EN)
    assert bad.status_code == 400
    assert count(HoursEntry) == 1
    too_much = client.post(url, data={"minutes": "٣٠", "note": "extra"}, headers=EN)
    assert too_much.status_code == 400
    assert "must stay between 0" in too_much.get_data(as_text=True)
    ok = client.post(url, data={"minutes": "-٣٠", "note": "left early"}, headers=EN)
    assert ok.status_code == 303
    assert attendance.total_minutes(home.volunteers[0].id) == 150


def test_volunteer_sees_hours_and_downloads_a_certificate(home, client, login_as):
    volunteer = home.volunteers[0]
    attendance.record_whole_shift(home.manager, seat(home.past_shift, volunteer))
    login_as(volunteer)
    page = client.get("/my-hours", headers=EN).get_data(as_text=True)
    assert "Total hours: 3" in page
    assert client.post("/my-hours/certificates", data={"language": "xx"}).status_code == 303
    assert count(Certificate) == 0
    assert client.post("/my-hours/certificates", data={"language": "ar"}).status_code == 303
    certificate = db.session.scalars(sa.select(Certificate)).one()
    page = flashes(client, "/my-hours")
    assert certificate.code in page
    pdf = client.get(f"/my-hours/certificates/{certificate.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    login_as(home.volunteers[1])
    assert client.get(f"/my-hours/certificates/{certificate.id}.pdf").status_code == 404


def test_volunteer_without_hours_gets_no_certificate(home, client, login_as):
    login_as(home.volunteers[0])
    client.post("/my-hours/certificates", data={"language": "en"}, headers=EN)
    assert "no recorded hours" in flashes(client, "/my-hours")
    assert count(Certificate) == 0


def test_public_page_confirms_or_says_the_code_is_unknown(home, client):
    volunteer = home.volunteers[0]
    attendance.record_whole_shift(home.manager, seat(home.past_shift, volunteer))
    certificate = certificates.issue(volunteer, "en")
    page = client.get(f"/certificates/{certificate.code}", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert volunteer.full_name in html and "Valid certificate" in html
    unknown = client.get("/certificates/0000-0000-0000-0000", headers=AR)
    assert unknown.status_code == 404
    with force_locale("ar"):
        assert babel_gettext("Unknown code") in unknown.get_data(as_text=True)
    lookup = client.get(f"/certificates?code={certificate.code.lower()}")
    assert lookup.status_code == 302
    assert client.get(lookup.headers["Location"]).status_code == 200
    assert client.get("/certificates?code=", headers=EN).status_code == 400


def test_coordinator_sees_no_shows_and_a_history(home, client, login_as, factory):
    v0 = home.volunteers[0]
    attendance.mark_absent(home.manager, seat(home.past_shift, v0))
    login_as(home.coordinator)
    page = client.get("/coordinate/no-shows", headers=EN).get_data(as_text=True)
    assert v0.full_name in page and f"/coordinate/volunteers/{v0.id}/attendance" in page
    page = client.get(f"/coordinate/volunteers/{v0.id}/attendance", headers=EN)
    assert page.status_code == 200 and "Did not come" in page.get_data(as_text=True)
    giza = factory.user("coordinator", governorates=[factory.governorate("EG-GZ")])
    login_as(giza)
    assert v0.full_name not in client.get("/coordinate/no-shows").get_data(as_text=True)
    assert client.get(f"/coordinate/volunteers/{v0.id}/attendance").status_code == 403
    login_as(home.manager)
    assert client.get("/coordinate/no-shows").status_code == 403
    assert client.get(f"/coordinate/volunteers/{v0.id}/attendance").status_code == 403
