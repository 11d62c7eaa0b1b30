"""The bad-input catalogue (docs/bad-input.md): forms, import, matcher CLI and SMS webhook.

Every case gets a clear error in the user's language (Arabic and English both checked) and writes
nothing (every table's row count is compared before and after). Case ids are the catalogue's.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape

from tests.conftest import login
from tests.web.manager.conftest import dst_change, future_day, odd_local_time, shift_form
from tests.web.security.conftest import snapshot

CAIRO = ZoneInfo("Africa/Cairo")
LANGUAGES = ("ar", "en")
HOSTILE = '<script>alert("x")</script>\' OR 1=1; DROP TABLE "user"; --'
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
INVISIBLE = "\u202e\u200b\u2066\u200f\u2069\ufeff"
ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


@dataclass
class World:
    """The people and things the cases post against."""

    volunteer: Any
    manager: Any
    admin: Any
    coordinator: Any
    opportunity: Any
    shift: Any
    taken_phone: str = "+201012345678"
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(factory) -> World:
    manager = factory.user("manager")
    institution = factory.institution(managers=(manager,))
    opportunity = factory.opportunity(institution)
    return World(
        volunteer=factory.volunteer(phone="+201012345678", email="mona@example.org"),
        manager=manager,
        admin=factory.user("admin"),
        coordinator=factory.user("coordinator", national_scope=True),
        opportunity=opportunity,
        shift=factory.shift(opportunity),
    )


def register(factory_governorate_id: int, **changes: str) -> dict[str, str]:
    data = {
        "full_name": "Mona Ahmed",
        "phone": "01198765432",
        "email": "",
        "password": "long enough pw",
        "confirm": "long enough pw",
        "locale": "ar",
        "governorate": str(factory_governorate_id),
    }
    data.update(changes)
    return data


def dst_form(kind: str) -> dict[str, str]:
    day, at = odd_local_time(dst_change("forward" if kind == "missing" else "back"), kind)
    end = min((datetime.combine(day, at) + timedelta(minutes=10)).time(), time(23, 59))
    return shift_form(day, at.strftime("%H:%M"), end.strftime("%H:%M"))


def dst_message(kind: str) -> Callable[[], str]:
    def message() -> str:
        from web.services.shifts import LocalTimeError

        day, at = odd_local_time(dst_change("forward" if kind == "missing" else "back"), kind)
        return LocalTimeError(kind, day, at).message(CAIRO)

    return message


@dataclass(frozen=True)
class FormCase:
    """A form post: who sends it, where, what, and the message and status expected."""

    role: str | None
    path: Callable[[World], str]
    data: Callable[[World], dict[str, Any]]
    message: str | Callable[[], str]
    status: int = 400
    params: dict[str, Any] = field(default_factory=dict)


def gov(world: World) -> int:
    return world.opportunity.institution.governorate_id


PHONE_INVALID = "This is not a valid phone number. Example: 010 1234 5678 or +20 10 1234 5678."
FORM_CASES: dict[str, FormCase] = {
    "register-phone-arabic-indic-too-short": FormCase(
        None, lambda w: "/register", lambda w: register(gov(w), phone="٠١٠١٢٣"), PHONE_INVALID
    ),
    "register-phone-arabic-indic-duplicate": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), phone="٠١٠١٢٣٤٥٦٧٨"),  # = +201012345678, already taken
        "An account with this phone number already exists. Log in instead.",
        status=409,
    ),
    "register-phone-persian-digits-with-letters": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), phone="۰۱۰ABC۱۲۳۴"),
        PHONE_INVALID,
    ),
    "register-phone-e164-too-long": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), phone="+20101234567890123"),
        PHONE_INVALID,
    ),
    "register-name-only-bidi-and-zero-width": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), full_name=INVISIBLE),
        "Enter your full name.",
    ),
    "register-name-too-long-arabic": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), full_name="م" * 121),
        "The name is too long (at most %(n)s characters).",
        params={"n": 120},
    ),
    "register-email-bidi-override-no-domain": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), email="mona\u202e@example"),
        "This is not a valid email address.",
    ),
    "register-governorate-unknown-id": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(99999),
        "Choose a governorate from the list.",
    ),
    "register-governorate-wrong-type": FormCase(
        None,
        lambda w: "/register",
        lambda w: {**register(0), "governorate": "'; DROP TABLE governorate; --"},
        "Choose a governorate from the list.",
    ),
    "register-html-and-sql-in-every-text-field": FormCase(
        None,
        lambda w: "/register",
        lambda w: register(gov(w), full_name=HOSTILE, phone=HOSTILE, email=HOSTILE),
        PHONE_INVALID,
    ),
    "login-arabic-indic-unknown-phone": FormCase(
        None,
        lambda w: "/login",
        lambda w: {"identifier": "٠١٠٩٩٩٩٩٩٩٩", "password": "whatever it is"},
        "The phone number, email or password is not right.",
    ),
    "login-sql-in-identifier": FormCase(
        None,
        lambda w: "/login",
        lambda w: {"identifier": "' OR '1'='1", "password": "' OR '1'='1"},
        "The phone number, email or password is not right.",
    ),
    "reset-code-letters-and-bidi": FormCase(
        None,
        lambda w: "/reset-password",
        lambda w: {
            "identifier": "01012345678",
            "code": "\u202e12a4b6",
            "password": "a new long password",
            "confirm": "a new long password",
        },
        "This code is not right or has expired. Ask for a new one.",
    ),
    "shift-local-time-skipped-by-dst": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: dst_form("missing"),
        dst_message("missing"),
    ),
    "shift-local-time-repeated-by-dst": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: dst_form("ambiguous"),
        dst_message("ambiguous"),
    ),
    "shift-impossible-date": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: shift_form("2030-02-30"),
        "Enter a date as YYYY-MM-DD.",
    ),
    "shift-time-with-seconds-and-zone": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: shift_form(future_day(), "10:00:00+02:00", "12:00"),
        "Enter a time as HH:MM.",
    ),
    "shift-places-wrong-type": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: shift_form(future_day(), needed="three"),
        "Enter a whole number.",
    ),
    "shift-places-arabic-indic-out-of-range": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/shifts/new",
        lambda w: shift_form(future_day(), needed="٩٩٩٩"),
        "Places needed must be between 1 and %(max)s.",
        params={"max": 500},
    ),
    "series-skipped-date-malformed": FormCase(
        "manager",
        lambda w: f"/manage/opportunities/{w.opportunity.id}/series/new",
        lambda w: {
            **{k: v for k, v in shift_form(future_day()).items() if k != "day"},
            "first_day": str(future_day()),
            "weeks": "4",
            "excluded_days": "2030-13-01",
        },
        "Enter each date as YYYY-MM-DD.",
    ),
    "opportunity-titles-only-invisible": FormCase(
        "manager",
        lambda w: f"/manage/institutions/{w.opportunity.institution_id}/opportunities/new",
        lambda w: {"title_ar": INVISIBLE, "title_en": "\u200b\u200b", "kind": "tutoring"},
        "Give a title in Arabic or English (both are best).",
    ),
    "availability-exception-day-in-the-past": FormCase(
        "volunteer",
        lambda w: "/availability/exceptions",
        lambda w: {"day": "2001-01-01", "kind": "unavailable"},
        "This day is in the past.",
    ),
    "profile-radius-wrong-type-and-html-note": FormCase(
        "volunteer",
        lambda w: "/profile",
        lambda w: {
            "full_name": HOSTILE,
            "gender": "female",
            "governorate": str(gov(w)),
            "travel_radius_km": "<b>20</b>",
            "languages": ["ar"],
        },
        "Enter a distance from 1 to 200 km.",
    ),
    "signup-unknown-shift-id": FormCase(
        "volunteer",
        lambda w: "/shifts/987654/signup",
        lambda w: {},
        "This page does not exist.",
        status=404,
    ),
    "admin-edit-unknown-user-id": FormCase(
        "admin",
        lambda w: "/admin/users/987654",
        lambda w: {"governorates": "EG-C"},
        "This page does not exist.",
        status=404,
    ),
    "manager-unknown-opportunity-id": FormCase(
        "manager",
        lambda w: "/manage/opportunities/987654/shifts/new",
        lambda w: shift_form(future_day()),
        "This page does not exist.",
        status=404,
    ),
    "run-unknown-institution-in-scope": FormCase(
        "coordinator",
        lambda w: "/coordinate/runs/new",
        lambda w: {
            "scope_kind": "institutions",
            "institutions": ["987654"],
            "start_day": str(future_day()),
            "days": "7",
            "time_limit_s": "10",
        },
        "Choose from the list.",
    ),
}


def expected_text(case: FormCase, language: str) -> str:
    with force_locale(language):
        if callable(case.message):
            return case.message()
        return _(case.message, **case.params)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case_id", sorted(FORM_CASES))
def test_bad_form_input(app, world, case_id, language):
    case = FORM_CASES[case_id]
    client = app.test_client()
    if case.role is not None:
        login(client, getattr(world, case.role))
    path, data = case.path(world), case.data(world)
    expected = expected_text(case, language)
    if language == "ar":  # the Arabic page really says it in Arabic
        assert ARABIC_LETTER.search(expected), f"{case_id}: no Arabic translation of {expected!r}"
    before = snapshot()
    response = client.post(path, data=data, headers={"Accept-Language": language})
    page = response.get_data(as_text=True)
    assert response.status_code == case.status, page[-3000:]
    assert str(escape(expected)) in page, f"{case_id}: {expected!r} not on the page"
    assert f'<html lang="{language}"' in page
    assert "<script>alert(" not in page  # anything typed comes back escaped
    assert snapshot() == before, f"{case_id} wrote something"


# --- HTML and SQL accepted as plain text where text is allowed ------------------------------------


def test_html_and_sql_in_a_valid_name_are_stored_as_typed_and_shown_escaped(app, client, world):
    from web.extensions import db
    from web.models import User

    data = register(gov(world), full_name=HOSTILE)
    response = client.post("/register", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    user = db.session.query(User).filter_by(phone="+201198765432").one()
    assert user.full_name == HOSTILE  # no table was dropped; the text is data
    login(client, world.admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert str(escape(HOSTILE)) in page and "<script>alert(" not in page


# --- CSV import (dataio) --------------------------------------------------------------------------


def upload(client, content: bytes, language: str, filename: str = "volunteers.csv"):
    return client.post(
        "/data/import",
        data={"kind": "volunteers", "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
        headers={"Accept-Language": language},
    )


CSV_HOSTILE = '"' + HOSTILE.replace('"', '""') + '"'
HEADER = "Full name,Mobile phone,Email,Governorate,Gender,Date of birth,Skills,Languages\n"
CSV_FILE_CASES: dict[str, tuple[bytes, str, int]] = {
    "csv-missing-required-columns": (
        b"Name,Colour\nMona,blue\n",
        "The first row must name the columns. Missing: %(columns)s. "
        "Download the template to see the expected columns.",
        400,
    ),
    "csv-header-only": (
        HEADER.encode(),
        "The file has a header row but no rows to import.",
        400,
    ),
    "csv-empty-file": (b"\n\n", "The file is empty.", 400),
    "csv-column-twice": (
        b"Full name,Mobile phone,Governorate,Mobile phone\nMona,01012345678,Cairo,01012345679\n",
        "The column \u201c%(column)s\u201d appears twice in the first row.",
        400,
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case_id", sorted(CSV_FILE_CASES))
def test_bad_csv_file(app, world, case_id, language):
    content, message, status = CSV_FILE_CASES[case_id]
    client = app.test_client()
    login(client, world.coordinator)
    before = snapshot()
    response = upload(client, content, language)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[-2000:]
    with force_locale(language):
        translated = _(message)  # no values: the placeholders stay, to split around
    literal = [part for part in re.split(r"%\(\w+\)s", translated) if part.strip()]
    for part in literal:  # the message around the column names the file lacks
        assert str(escape(part.strip())) in page, (case_id, part)
    assert snapshot() == before


def test_bad_csv_binary_file_renamed_csv(app, world):
    client = app.test_client()
    login(client, world.coordinator)
    before = snapshot()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    for language in LANGUAGES:
        response = upload(client, png, language)
        assert response.status_code == 400
        assert f'<html lang="{language}"' in response.get_data(as_text=True)
    assert snapshot() == before


def test_bad_csv_file_too_big(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 2048)
    client = app.test_client()
    login(client, world.coordinator)
    before = snapshot()
    big = (HEADER + "Mona,01012345678,,Cairo,female,1990-01-01,,ar\n" * 200).encode()
    for language in LANGUAGES:
        response = upload(client, big, language)
        assert response.status_code == 413
        with force_locale(language):
            start = (
                _(
                    "The file is too big (%(size)s KB). The largest file accepted is %(max)s KB; "
                    "split it into several files.",
                    size="",
                    max="",
                )
                .split("(")[0]
                .strip()
            )
        assert str(escape(start)) in response.get_data(as_text=True)
    assert snapshot() == before


CSV_ROW_CASES: dict[str, tuple[str, str, str]] = {
    "csv-duplicate-rows": (
        "Mona Ahmed,01198765432,,Cairo,female,1998-03-21,,ar\n"
        "Mona Ahmed,٠١١٩٨٧٦٥٤٣٢,,Cairo,female,1998-03-21,,ar\n",
        "Same as row %(line)s: each row must be a different one.",
        "2",
    ),
    "csv-row-phone-already-registered": (
        "Mona Ahmed,010 1234 5678,,Cairo,female,1998-03-21,,ar\n",
        "An account with this phone number already exists.",
        "",
    ),
    "csv-row-html-sql-and-impossible-birth-date": (
        CSV_HOSTILE + ",01198765432,,Cairo,female,1850-01-01,,ar\n",
        "This date of birth is not plausible.",
        "",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case_id", sorted(CSV_ROW_CASES))
def test_bad_csv_rows(app, world, case_id, language):
    """The preview names the row's error; confirming writes nothing (all rows or none)."""
    from web.extensions import db
    from web.models import DataImport

    rows, message, line = CSV_ROW_CASES[case_id]
    client = app.test_client()
    login(client, world.coordinator)
    before = snapshot()
    response = upload(client, (HEADER + rows).encode(), language)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    preview = client.get(response.headers["Location"], headers={"Accept-Language": language})
    page = preview.get_data(as_text=True)
    with force_locale(language):
        expected = _(message, line=line) if line else _(message)
    assert str(escape(expected)) in page
    assert "<script>alert(" not in page
    pending = db.session.query(DataImport).one()
    confirm = client.post(
        f"/data/imports/{pending.id}/confirm",
        data={"sha256": pending.file_sha256},
        headers={"Accept-Language": language},
    )
    assert confirm.status_code in (400, 409)
    client.post(f"/data/imports/{pending.id}/discard")
    after = snapshot()
    after.pop("audit_event")  # the upload and discard are audited, by design
    before.pop("audit_event")
    assert after == before


# --- the matcher CLI: exit 2 and a JSON-pointer message, no output file -------------------------


def _problem_with(change: Callable[[dict[str, Any]], Any]) -> str:
    from tests.matcher.conftest import raw_problem

    problem = raw_problem()
    change(problem)
    return json.dumps(problem)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(problem: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]
        target: Any = problem
        for part in parents:
            target = target[part]
        target[last] = value

    return change


CLI_CASES: dict[str, tuple[Callable[[], str], str]] = {
    "cli-places-as-string": (
        lambda: _problem_with(_set("/shifts/0/needed", "3")),
        "/shifts/0/needed: expected an integer, got a string",
    ),
    "cli-naive-datetime": (
        lambda: _problem_with(_set("/shifts/0/start", "2026-12-05T09:00:00")),
        "/shifts/0/start: naive datetime",
    ),
    "cli-latitude-as-string": (
        lambda: _problem_with(_set("/volunteers/0/lat", "30.05")),
        "/volunteers/0/lat: expected a number, got a string",
    ),
    "cli-age-as-boolean": (
        lambda: _problem_with(_set("/volunteers/0/age", True)),
        "/volunteers/0/age: expected an integer, got a boolean",
    ),
    "cli-unknown-institution-id": (
        lambda: _problem_with(_set("/shifts/0/institution_id", "inst-999")),
        "/shifts/0/institution_id: unknown institution 'inst-999'",
    ),
    "cli-duplicate-volunteer-id": (
        lambda: _problem_with(lambda p: p["volunteers"].append(dict(p["volunteers"][0]))),
        "/volunteers/1/id: duplicate id 'vol-1'",
    ),
    "cli-zero-width-in-an-id": (
        lambda: _problem_with(_set("/volunteers/0/id", "vol\u200b-1")),
        "/locked/0/volunteer_id: unknown volunteer 'vol-1'",
    ),
    "cli-end-before-start": (
        lambda: _problem_with(_set("/shifts/0/end", "2026-12-05T08:00:00+02:00")),
        "/shifts/0/end: must be after start",
    ),
    "cli-volunteers-not-an-array": (
        lambda: _problem_with(_set("/volunteers", "<script>")),
        "/volunteers: expected an array, got a string",
    ),
    "cli-truncated-json": (
        lambda: '{"format": "volunteer-matching/v1", "shifts": [',
        "invalid JSON",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CLI_CASES))
def test_bad_matcher_input(tmp_path: Path, case_id):
    from matcher.cli import main

    text, message = CLI_CASES[case_id]
    problem = tmp_path / "problem.json"
    problem.write_text(text(), encoding="utf-8")
    output = tmp_path / "solution.json"
    out, err = io.StringIO(), io.StringIO()
    code = main(["solve", str(problem), "-o", str(output)], stdout=out, stderr=err)
    assert code == 2
    assert err.getvalue().startswith(f"error: {message}")
    assert out.getvalue() == "" and not output.exists()


def test_bad_matcher_input_exit_code_of_the_real_command(tmp_path: Path):
    from tests.matcher.test_cli import run_matcher

    problem = tmp_path / "problem.json"
    problem.write_text(CLI_CASES["cli-naive-datetime"][0](), encoding="utf-8")
    result = run_matcher("solve", str(problem), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert "error: /shifts/0/start: naive datetime" in result.stderr
    assert not (tmp_path / "out.json").exists()


# --- the SMS webhook ------------------------------------------------------------------------------

TOKEN = "bad-input-test-token"
_sids = iter(range(1, 10**6))


def signed_post(client, path: str, params: dict[str, str], query: str = ""):
    from twilio.request_validator import RequestValidator

    url = f"http://localhost{path}{query}"
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return client.post(path + query, data=params, headers={"X-Twilio-Signature": signature})


def inbound(phone: str, body: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        **extra,
    }


@pytest.fixture
def webhook(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    return app.test_client()


def only_the_inbound_log_grew(before: dict[str, int]) -> bool:
    after = snapshot()
    grew = {name for name in after if after[name] != before[name]}
    return grew <= {"inbound_message"} and after["inbound_message"] <= before["inbound_message"] + 1


def help_reply(language: str) -> str:
    from web.services.messaging import in_locale
    from web.services.sms_replies import help_text

    return str(in_locale(language, help_text))


def test_sms_html_and_sql_from_an_unknown_number_gets_arabic_help(webhook, world):
    before = snapshot()
    response = signed_post(webhook, "/sms/inbound", inbound("+201055555555", HOSTILE))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert str(escape(help_reply("ar"))) in body or help_reply("ar") in body
    assert "<script>" not in body
    assert only_the_inbound_log_grew(before)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_html_wrapped_yes_is_not_understood_and_changes_nothing(
    webhook, factory, offered_assignment, language
):
    from web.extensions import db
    from web.models import Assignment

    volunteer, assignment = offered_assignment(language)
    before = snapshot()
    response = signed_post(webhook, "/sms/inbound", inbound(volunteer.phone, "<b>YES</b>\u200b;--"))
    assert response.status_code == 200
    assert help_reply(language)[:20] in response.get_data(as_text=True).replace("&#x27;", "'")
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).state == "offered"
    assert only_the_inbound_log_grew(before)


@pytest.fixture
def offered_assignment(factory):
    from web.extensions import db
    from web.models import Assignment
    from web.services import places

    def make(language: str):
        volunteer = factory.volunteer(locale=language, phone="+201055500000")
        shift = factory.shift(needed=2)
        ok, reason = places.offer(shift, volunteer.id, None)
        assert ok, reason
        db.session.commit()
        return volunteer, db.session.query(Assignment).filter_by(volunteer_id=volunteer.id).one()

    return make


def test_sms_without_message_sid_writes_nothing(webhook, world):
    before = snapshot()
    params = inbound(world.volunteer.phone, "YES")
    del params["MessageSid"]
    response = signed_post(webhook, "/sms/inbound", params)
    assert response.status_code == 200 and "<Message>" not in response.get_data(as_text=True)
    assert snapshot() == before


def test_sms_oversized_webhook_body_is_refused_413(webhook, world):
    before = snapshot()
    params = inbound(world.volunteer.phone, "نعم" * (1024 * 1024))
    response = signed_post(webhook, "/sms/inbound", params)
    assert response.status_code == 413
    assert snapshot() == before


def test_sms_status_callback_with_wrong_types_changes_nothing(webhook, world):
    before = snapshot()
    params = {
        "MessageSid": "SM<script>",
        "MessageStatus": "'; DROP TABLE outbound_message; --",
        "ErrorCode": "not-a-number",
    }
    response = signed_post(webhook, "/sms/status", params, query="?m=abc")
    assert response.status_code == 204
    assert snapshot() == before


def test_sms_unsigned_or_badly_signed_webhook_is_refused(webhook, world):
    before = snapshot()
    params = inbound(world.volunteer.phone, "YES")
    assert webhook.post("/sms/inbound", data=params).status_code == 403
    bad = webhook.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": "\u202eforged"})
    assert bad.status_code == 403
    assert snapshot() == before


# --- naive datetimes never reach the database ---------------------------------------------------


def test_naive_datetime_is_refused_by_the_model_and_writes_nothing(app, world):
    from web.extensions import db

    before = snapshot()
    world.shift.starts_at = datetime(2030, 1, 1, 9, 0)  # naive: which zone?
    with pytest.raises(Exception, match="naive datetime refused"):
        db.session.commit()
    db.session.rollback()
    assert snapshot() == before


# --- the catalogue names only tests that exist ----------------------------------------------------

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "bad-input.md"


def catalogue_rows() -> list[tuple[str, str]]:
    """(case, test) of every row of docs/bad-input.md's table."""
    rows = []
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*\d+\s*\|.*\|\s*`(test_\w+)(?:\[([\w-]+)\])?`\s*\|\s*$", line)
        if match:
            rows.append((match.group(2) or "", match.group(1)))
    return rows


def test_the_catalogue_lists_at_least_30_cases_each_naming_a_real_test():
    rows = catalogue_rows()
    assert len(rows) >= 30
    module = globals()
    tables = {
        "test_bad_form_input": FORM_CASES,
        "test_bad_csv_file": CSV_FILE_CASES,
        "test_bad_csv_rows": CSV_ROW_CASES,
        "test_bad_matcher_input": CLI_CASES,
    }
    security_tests = {}
    for path in Path(__file__).parent.glob("test_*.py"):
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M):
            security_tests[name] = path
    for case, test in rows:
        assert test in module or test in security_tests, f"{test} does not exist"
        if test in tables:
            assert case in tables[test], f"{test}[{case}] is not a case of the test"
    every_case = {(case, test) for test, table in tables.items() for case in table}
    assert every_case <= set(rows), (
        f"cases missing from docs/bad-input.md: {every_case - set(rows)}"
    )
