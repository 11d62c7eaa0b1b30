"""Translations: a complete Arabic catalogue, current .mo files, every page in both languages."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from markupsafe import escape
from werkzeug.datastructures import FileStorage

from web.config import ROOT

TRANSLATIONS = ROOT / "translations"
LOCALES = ("ar", "en")
ARABIC_PLURALS = (
    "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
)
# The keywords `flask translate extract` passes to pybabel on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%[sdif]")
ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
# English terms and the Arabic word every translation of them uses (docs/translation.md).
GLOSSARY = {
    r"\bshifts?\b": "فتر",
    r"opportunit": "فرص",
    r"waitlist|waiting list": "قائمة الانتظار",
    r"\bgovernorates?\b": "محافظ",
    r"volunteer": "تطوع",
    r"coordinator": "منسق",
    r"matching runs?|\bruns?\b(?! matching)": "جول",
}


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@cache
def catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def messages(cat: Catalog) -> Iterator[Any]:
    return (message for message in cat if message.id)


def forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def translations(cat: Catalog) -> dict[tuple[Any, Any], Any]:
    """What a compiled catalogue holds: every translated, non-fuzzy message."""
    table = {}
    for message in messages(cat):
        strings = forms(message.string)
        if all(strings) and not message.fuzzy:
            table[(message.context, tuple(forms(message.id)))] = tuple(strings)
    return table


# --- (a) the Arabic catalogue ------------------------------------------------------------------


def test_arabic_catalogue_has_the_six_arabic_plural_forms():
    cat = catalog("ar")
    assert cat.plural_forms == ARABIC_PLURALS
    assert cat.num_plurals == 6
    rule = gettext.c2py(cat.plural_expr)
    numbers = (0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111)
    assert [rule(n) for n in numbers] == [0, 1, 2, 3, 3, 4, 4, 5, 5, 3, 4]


def test_every_arabic_message_is_translated_and_not_fuzzy():
    cat = catalog("ar")
    untranslated = [m.id for m in messages(cat) if not all(forms(m.string))]
    fuzzy = [m.id for m in messages(cat) if m.fuzzy]
    assert len(list(messages(cat))) > 100
    assert untranslated == []
    assert fuzzy == []
    assert not cat.fuzzy


def test_arabic_translations_keep_every_placeholder():
    wrong = []
    for message in messages(catalog("ar")):
        wanted = set().union(*(placeholders(i) for i in forms(message.id)))
        strings = forms(message.string)
        if message.pluralizable and len(strings) != 6:
            wrong.append((message.id, f"{len(strings)} plural forms"))
        for string in strings:
            if placeholders(string) != wanted:
                wrong.append((message.id, string))
    assert wrong == []


def test_arabic_translations_are_arabic_and_follow_the_glossary():
    wrong = []
    for message in messages(catalog("ar")):
        source = PLACEHOLDER.sub("", forms(message.id)[0])
        for string in forms(message.string):
            text = PLACEHOLDER.sub("", string)
            latin_only = re.search("[A-Za-z]{3}", source) and not ARABIC_LETTER.search(text)
            # Only formats stay Latin: YYYY-MM-DD, HH:MM.
            if latin_only and not re.fullmatch(r"[A-Z:\-]+|[\W\d_]*", source):
                wrong.append((message.id, string))
            for pattern, word in GLOSSARY.items():
                if re.search(pattern, source, re.IGNORECASE) and word not in text:
                    wrong.append((message.id, string, word))
    assert wrong == []


def test_english_catalogue_is_the_source_language():
    cat = catalog("en")
    assert cat.num_plurals == 2
    ids = {m.id for m in messages(cat)}
    assert ids == {m.id for m in messages(catalog("ar"))}
    for message in messages(cat):  # empty (English is the source) or the same placeholders
        for string in forms(message.string):
            if string:
                assert placeholders(string) == placeholders(forms(message.id)[-1]), message.id


# --- (b) the compiled catalogues ---------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_file_matches_its_po_file(locale):
    mo_path = po_path(locale).with_suffix(".mo")
    assert mo_path.exists(), f"run `flask translate compile` ({mo_path} is missing)"
    with mo_path.open("rb") as handle:
        compiled = read_mo(handle)
    fresh = BytesIO()
    write_mo(fresh, catalog(locale))  # what `flask translate compile` would write now
    fresh.seek(0)
    expected = read_mo(fresh)
    assert translations(compiled) == translations(expected), "run `flask translate compile`"
    assert compiled.plural_forms == expected.plural_forms


# --- (c) the catalogue covers the source -------------------------------------------------------


def extracted_messages() -> dict[str, tuple[str, ...]]:
    """Extract messages from the tree exactly as `flask translate extract` does (babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    tops = {pattern.split("/", 1)[0] for pattern, _method in method_map}

    def wanted(path: str) -> bool:  # walk only the folders babel.cfg names (fast)
        name = Path(path).name
        if name.startswith((".", "_")):
            return False
        relative = Path(path).resolve().relative_to(ROOT).parts
        return not relative or relative[0] in tops

    found: dict[str, tuple[str, ...]] = {}
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=wanted
    ):
        ids = tuple(forms(message))
        found[ids[0]] = ids
    return found


def test_every_message_in_the_source_is_in_the_arabic_catalogue():
    found = extracted_messages()
    assert len(found) > 100
    known = {forms(m.id)[0]: tuple(forms(m.id)) for m in messages(catalog("ar"))}
    missing = sorted(msgid for msgid in found if msgid not in known)
    changed_plurals = sorted(i for i, ids in found.items() if i in known and known[i] != ids)
    assert missing == [], "run `flask translate update` and translate the new messages"
    assert changed_plurals == [], "run `flask translate update` (a plural changed)"


# --- (d) every page in both languages ----------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
# A language picker names each language in its own language: "العربية", "English".
ENDONYMS = {Locale.parse(code).get_display_name(code) for code in LOCALES}


class PageText(HTMLParser):
    """Text nodes and labelling attributes of a page, except inside another language's element."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.texts: list[str] = []
        self.html_tag: dict[str, str | None] | None = None
        self._skip: list[str] = []  # open elements whose text we ignore

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html" and self.html_tag is None:
            self.html_tag = attributes
            return
        other_language = attributes.get("lang") not in (None, self.language)
        if self._skip or other_language or tag in ("script", "style"):
            if tag not in VOID:
                self._skip.append(tag)
            return
        for name in READ_ATTRIBUTES:
            self._add(attributes.get(name))
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self._add(attributes.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skip:  # also closes elements whose end tag was left out
            del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._add(data)

    def _add(self, text: str | None) -> None:
        text = " ".join((text or "").split())
        if text:
            self.texts.append(text)


@cache
def ui_strings() -> dict[str, Any]:
    """English sources and Arabic translations that differ, to spot the wrong language on a page."""
    english: set[str] = set()
    arabic: set[str] = set()
    patterns = []
    for message in messages(catalog("ar")):
        for source, string in zip(forms(message.id), forms(message.string), strict=False):
            if string == source:
                continue
            if not placeholders(source):
                english.add(" ".join(source.split()))
                arabic.add(" ".join(string.split()))
                continue
            literal = PLACEHOLDER.split(source)
            if sum(len(re.findall("[A-Za-z]{2,}", part or "")) for part in literal) >= 2:
                patterns.append(PLACEHOLDER.sub("\x00", source))
    english_pattern = "|".join(
        "(?:" + ".+?".join(re.escape(part) for part in pattern.split("\x00")) + ")"
        for pattern in patterns
    )
    return {"en": english, "ar": arabic, "en_pattern": re.compile(english_pattern)}


def read_page(page: str, language: str) -> PageText:
    parser = PageText(language)
    parser.feed(page)
    parser.close()
    return parser


def wrong_language_strings(parser: PageText) -> list[str]:
    """Texts of a page that are UI strings of the other language."""
    strings = ui_strings()
    texts = [text for text in parser.texts if text not in ENDONYMS]
    if parser.language == "ar":
        return [t for t in texts if t in strings["en"] or strings["en_pattern"].fullmatch(t)]
    return [text for text in texts if text in strings["ar"]]


def test_page_text_reader_skips_other_languages_and_finds_untranslated_text():
    page = (
        '<html lang="ar" dir="rtl"><body><nav aria-label="Main"><a>Opportunities</a></nav>'
        '<button lang="en">English</button><script>var x = "Save";</script><input type="text" '
        'lang="en" placeholder="Name"><p>3 places are already taken.</p><p>تم الحفظ.</p></body>'
        "</html>"
    )
    parser = read_page(page, "ar")
    wrong = ["Main", "Opportunities", "3 places are already taken."]
    assert wrong_language_strings(parser) == wrong
    assert parser.html_tag == {"lang": "ar", "dir": "rtl"}
    english = read_page('<p lang="ar">تم الحفظ.</p><p>حفظ</p><ul><li>x<li>Save</ul>', "en")
    assert wrong_language_strings(english) == ["حفظ"]


def build_world(client, factory, login_as) -> tuple[dict[str, Any], dict[str, int]]:
    """One object of every kind a URL names, and a user of every role."""
    from web.extensions import db
    from web.models import OutboundMessage
    from web.services import runs

    manager = factory.user("manager")
    coordinator = factory.user("coordinator", national_scope=True)
    admin = factory.user("admin")
    volunteer = factory.volunteer(skills=("tutoring",))
    factory.volunteer(lat=30.051)  # someone for the matching run to propose
    institution = factory.institution(managers=(manager,))
    opportunity = factory.opportunity(institution)
    shift = factory.shift(opportunity, needed=3)
    login_as(volunteer)
    assert client.post(f"/shifts/{shift.id}/signup").status_code in (302, 303)
    run = runs.start_run(admin, "national", [], *runs.default_window(7), time_limit_s=5)
    claimed = runs.claim_run(run.id, "translations-test")
    assert claimed is not None
    runs.execute_run(claimed)
    message = OutboundMessage(
        idempotency_key="translations-test",
        kind="reminder",
        user_id=volunteer.id,
        to_number=volunteer.phone,
        body="test body 1",
    )
    db.session.add(message)
    db.session.commit()
    from flask import current_app

    from web.services import password_reset

    password_reset.request_reset(admin.email)  # a live link for /reset-password/<token>
    link = current_app.extensions["sent_mail"][-1].get_content()
    token = re.search(r"/reset-password/(\S+)", link).group(1)
    from web.services import imports

    pending = imports.upload(
        coordinator, "volunteers", b"Full name,Mobile phone\nMona,0100000001\n", "v.csv"
    )
    # Attendance: a past shift the volunteer attended, their certificate and a shift's QR token.
    from datetime import UTC, datetime

    from web.models import Assignment
    from web.services import attendance, certificates

    past = factory.shift(opportunity, start=datetime.now(UTC) - timedelta(days=7), needed=1)
    attended = Assignment(shift_id=past.id, volunteer_id=volunteer.id, state="confirmed")
    past.open_taken = 1
    db.session.add(attended)
    db.session.commit()
    attendance.record_whole_shift(manager, attended)
    certificate = certificates.issue(volunteer, "ar")

    from web.services import programmes

    programme = programmes.create_programme(
        admin,
        programmes.ProgrammeInput(
            kind="choir",
            governorate_id=institution.governorate_id,
            name_ar="كورال",
            name_en="Choir",
            institution_ids=(institution.id,),
        ),
    )
    cohort = programmes.create_cohort(
        admin,
        programme,
        programmes.CohortInput("الأولى", "First", date.today(), date.today() + timedelta(60), 5),
    )
    from web.services import calendar_feed
    from web.services.credentials import CredentialInput, add_credential, credential_types

    document = FileStorage(BytesIO(b"%PDF-1.4 test"), filename="first-aid.pdf")
    credential = add_credential(
        volunteer,
        CredentialInput(credential_types()[0].id, date.today() - timedelta(days=30), None),
        document,
    )
    calendar_token = calendar_feed.issue_token(volunteer)
    # Monitoring: a visit (a shift of a monitoring-visits cohort) the volunteer went on, and
    # their report with a photo, which the coordinator (given the monitoring role) reads.
    import io

    from web.models import MonitoringReport, MonitoringReportPhoto
    from web.services import programmes as programme_service
    from web.services import uploads

    coordinator.can_monitor = True
    visits = programme_service.create_programme(
        admin,
        programme_service.ProgrammeInput(
            kind="monitoring_visits",
            governorate_id=institution.governorate_id,
            name_ar="زيارات",
            name_en="Care home visits",
            institution_ids=(institution.id,),
        ),
    )
    visit_cohort = programme_service.create_cohort(
        admin,
        visits,
        programme_service.CohortInput("", "Monitors", date.today(), date.today(), 5),
    )
    visit_opportunity = programme_service.cohort_opportunity(admin, visit_cohort, institution)
    db.session.commit()
    visit = factory.shift(
        visit_opportunity, start=datetime.now(UTC) - timedelta(hours=2), hours=1, needed=1
    )
    db.session.add(Assignment(shift_id=visit.id, volunteer_id=volunteer.id, state="confirmed"))
    visit.open_taken = 1
    photo = uploads.save_upload(
        io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        "report_photo",
        owner=volunteer,
        original_name="visit.png",
    )
    report = MonitoringReport(
        author_id=volunteer.id,
        institution_id=institution.id,
        shift_id=visit.id,
        visited_at=visit.starts_at,
        institution_kind=institution.kind,
        checklist={"food_water": "no", "schooling": "yes"},
        notes="12",
        severity="serious",
        status="submitted",
    )
    report.photos.append(MonitoringReportPhoto(upload=photo))
    db.session.add(report)
    db.session.commit()
    users = {
        "anonymous": None,
        "volunteer": volunteer,
        "manager": manager,
        "coordinator": coordinator,
        "admin": admin,
    }
    ids = {
        "user_id": volunteer.id,
        "institution_id": institution.id,
        "opportunity_id": opportunity.id,
        "shift_id": shift.id,
        "run_id": run.id,
        "message_id": message.id,
        "token": token,
        "feed_token": calendar_token,
        "import_id": pending.id,
        "assignment_id": attended.id,
        "certificate_id": certificate.id,
        "code": certificate.code,
        "scan_token": attendance.qr_token(shift),
        "governorate_code": institution.governorate.code,
        "programme_id": programme.id,
        "cohort_id": cohort.id,
        "credential_id": credential.id,
        "visit_id": visit.id,
        "report_id": report.id,
        "photo_id": report.photos[0].id,
    }
    return users, ids


def get_pages(app) -> list[tuple[str, list[str]]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and rule.endpoint != "static":
            rules.append((rule.endpoint, sorted(rule.arguments)))
    return sorted(rules)


def test_every_page_renders_in_arabic_and_english(app, client, factory, login_as):
    from flask import url_for

    users, ids = build_world(client, factory, login_as)
    pages = get_pages(app)
    unknown = {arg for _endpoint, args in pages for arg in args if arg not in ids}
    assert not unknown, f"add an object for {sorted(unknown)} to build_world()"
    with app.test_request_context():
        urls = {ep: url_for(ep, **{a: ids[a] for a in args}) for ep, args in pages}

    problems: list[Any] = []
    shown: dict[str, set[str]] = {endpoint: set() for endpoint in urls}
    expected_tag = {"ar": {"lang": "ar", "dir": "rtl"}, "en": {"lang": "en", "dir": "ltr"}}
    for role, user in users.items():
        if user is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login_as(user)
        for endpoint, url in urls.items():
            for language in LOCALES:
                response = client.get(url, headers={"Accept-Language": language})
                status = response.status_code
                if 300 <= status < 400:  # a message flashed for this language is never shown
                    with client.session_transaction() as session:
                        session.pop("_flashes", None)
                if status >= 500:
                    problems.append((role, url, language, status))
                if status != 200 and not 400 <= status < 500:
                    continue
                if response.mimetype != "text/html":
                    response.close()  # a file sent from disk (a report photo) holds it open
                    if status == 200:  # a download (CSV, Excel...)
                        shown[endpoint].add(role)
                    continue
                parser = read_page(response.get_data(as_text=True), language)
                if parser.html_tag != expected_tag[language]:
                    problems.append((role, url, language, "lang/dir", parser.html_tag))
                wrong = wrong_language_strings(parser)
                if wrong:
                    problems.append((role, url, language, wrong))
                if status == 200:
                    shown[endpoint].add(role)
    assert not problems, "\n".join(map(repr, problems))
    # Every page was really rendered for some role (else the objects above do not fit it).
    assert {endpoint for endpoint, roles in shown.items() if not roles} == set()
    assert all(any(role in roles for roles in shown.values()) for role in users)


@pytest.mark.parametrize("language", LOCALES)
def test_login_prompt_is_in_the_visitors_language(client, language):
    with force_locale(language):
        prompt = babel_gettext("Please log in to see this page.")
    response = client.get(
        "/my-shifts", headers={"Accept-Language": language}, follow_redirects=True
    )
    assert response.request.path == "/login"
    assert escape(prompt) in response.get_data(as_text=True)
