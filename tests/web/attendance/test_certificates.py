"""Certificates: from the ledger, unique codes, frozen, verifiable, PDF in Arabic or English."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from tests.web.attendance.conftest import count, seat
from web.certificate_pdf import render
from web.extensions import db
from web.models import Certificate, ImmutableRowError
from web.services import attendance, certificates
from web.services.certificates import CertificateError

ARABIC_NAME = "سارة عبد الرحمن"


@pytest.fixture
def worked(home, factory):
    """A volunteer with an Arabic name and 3 h 30 min on two shifts, a week apart."""
    volunteer = factory.volunteer(full_name=ARABIC_NAME)
    older = factory.shift(home.opportunity, start=home.past_shift.starts_at - timedelta(days=7))
    attendance.record_whole_shift(home.manager, seat(home.past_shift, volunteer))
    a = seat(older, volunteer)
    attendance.record_whole_shift(home.manager, a)
    attendance.add_correction(home.manager, a, -150, "Came for half an hour only")
    return volunteer


def pdf_text(data: bytes) -> str:
    return PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_issue_freezes_what_the_ledger_says(home, worked):
    certificate = certificates.issue(worked, "ar")
    snap = certificate.snapshot
    assert (snap["name"], snap["minutes"], snap["shifts"]) == (ARABIC_NAME, 210, 2)
    assert snap["first_day"] < snap["last_day"]
    assert snap["institutions"] == [
        {"ar": home.institution.name_ar, "en": home.institution.name_en}
    ]
    assert snap["opportunities"][0]["en"] == home.opportunity.title_en
    # later hours change nothing on an issued certificate
    attendance.add_correction(home.manager, seat(home.now_shift, worked), 60, "came early")
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).snapshot["minutes"] == 210
    certificate = db.session.get(Certificate, certificate.id)
    certificate.snapshot = {**certificate.snapshot, "minutes": 9999}
    with pytest.raises(ImmutableRowError):
        db.session.flush()
    db.session.rollback()


def test_no_certificate_without_hours_or_with_an_unknown_language(home, worked):
    with force_locale("en"):
        with pytest.raises(CertificateError, match="no recorded hours"):
            certificates.issue(home.volunteers[0], "ar")
        for language in ("fr", "", None):
            with pytest.raises(CertificateError, match="Arabic or English"):
                certificates.issue(worked, language)
        with pytest.raises(CertificateError):
            certificates.issue(home.manager, "en")
    assert count(Certificate) == 0


def test_codes_are_unique_unguessable_and_verify(worked):
    issued = [certificates.issue(worked, "en" if i % 2 else "ar") for i in range(40)]
    codes = [c.code for c in issued]
    assert len(set(codes)) == 40
    pattern = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
    assert all(pattern.match(code) for code in codes)
    for certificate in issued[:5]:
        assert certificates.find(certificate.code).id == certificate.id
        typed = certificate.code.lower().replace("-", " ")
        assert certificates.find(typed).id == certificate.id
    assert certificates.find("0000-0000-0000-0000") is None
    assert certificates.find("not a code") is None
    assert certificates.find("") is None


def test_the_code_is_unique_in_the_database(worked):
    first = certificates.issue(worked, "ar")
    db.session.add(Certificate(code=first.code, volunteer_id=worked.id, language="en", snapshot={}))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def _font_glyphs(data: bytes) -> dict[str, list[str]]:
    """Glyph names of each embedded font subset, by the font's base name."""
    fonts = {}
    page = PdfReader(io.BytesIO(data)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        subset = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        fonts[str(font["/BaseFont"]).split("+", 1)[-1]] = subset.getGlyphOrder()
    return fonts


def _line_starts(data: bytes) -> dict[str, float]:
    """The x where each text run starts (points from the left edge)."""
    starts: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            starts.setdefault(text.strip(), tm[4])

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return starts


def test_arabic_pdf_is_shaped_right_to_left_and_its_code_verifies(app, client, worked):
    certificate = certificates.issue(worked, "ar")
    data = render(
        certificate.snapshot, "ar", certificate.code, certificates.verify_url(certificate)
    )
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    # the words come back in logical order, in Arabic, with our translations
    assert "شهادة تطوع" in text
    assert ARABIC_NAME in text
    # a mixed line comes out in visual order: the label on the right, the number on its left
    total_line = next(line for line in text.splitlines() if "مجموع الساعات" in line)
    assert total_line.strip() == "3.5 :مجموع الساعات"
    assert "المؤسسات التي خدم فيها" in text
    assert "Certificate of volunteering" not in text
    # shaped: HarfBuzz chose contextual forms (presentation forms B), not isolated letters only
    glyphs = _font_glyphs(data)
    naskh = [g for name, names in glyphs.items() if "Naskh" in name for g in names]
    contextual = [g for g in naskh if re.fullmatch(r"uniFE[7-9A-F][0-9A-F]", g)]
    assert len(contextual) >= 10, naskh
    # right to left: short lines end at the right margin, so they start right of the middle
    width = float(PdfReader(io.BytesIO(data)).pages[0].mediabox.width)
    starts = _line_starts(data)
    assert starts[ARABIC_NAME] > width / 2
    assert starts["نشهد بأن"] > width / 2
    # the code printed on the PDF is the one the public page confirms
    printed = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text).group(0)
    assert printed == certificate.code
    page = client.get(f"/certificates/{printed}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ARABIC_NAME in html and "Valid certificate" in html and "3.5" in html


def test_english_pdf_is_left_aligned_in_english(worked):
    certificate = certificates.issue(worked, "en")
    data = render(
        certificate.snapshot, "en", certificate.code, certificates.verify_url(certificate)
    )
    text = pdf_text(data)
    assert "Certificate of volunteering" in text
    assert "Total hours: 3.5" in text
    assert certificate.code in text
    assert "شهادة تطوع" not in text
    for word in ARABIC_NAME.split():  # the Arabic name, in the Arabic fallback font
        assert word in text
    starts = _line_starts(data)
    width = float(PdfReader(io.BytesIO(data)).pages[0].mediabox.width)
    assert starts["This certifies that"] < width / 4


def test_the_programmes_served_are_on_the_certificate(home, factory):
    from datetime import date

    from web.models import Cohort, Programme

    programme = Programme(
        kind="choir",
        governorate_id=factory.governorate("EG-C").id,
        name_ar="كورال الأمل",
        name_en="Hope Choir",
    )
    cohort = Cohort(
        programme=programme,
        name_ar="الدفعة الأولى",
        name_en="First cohort",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        capacity=10,
    )
    db.session.add_all([programme, cohort])
    db.session.commit()
    sessions = factory.opportunity(home.institution, cohort_id=cohort.id)
    shift = factory.shift(sessions, start=home.past_shift.starts_at - timedelta(days=1))
    volunteer = home.volunteers[0]
    attendance.record_whole_shift(home.manager, seat(shift, volunteer))
    attendance.record_whole_shift(home.manager, seat(home.past_shift, volunteer))
    certificate = certificates.issue(volunteer, "ar")
    assert certificate.snapshot["programmes"] == [{"ar": "كورال الأمل", "en": "Hope Choir"}]
    text = pdf_text(
        render(certificate.snapshot, "ar", certificate.code, certificates.verify_url(certificate))
    )
    assert "البرامج" in text and "كورال الأمل" in text
    english = render(certificate.snapshot, "en", certificate.code, "http://localhost/x")
    assert "Hope Choir" in pdf_text(english)
