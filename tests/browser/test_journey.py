"""The issue's journey in a real browser: register in Arabic on a phone, series, run, SMS yes."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from twilio.request_validator import RequestValidator

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    TWILIO_TOKEN,
    Browsing,
    LiveServer,
    check_page,
    screenshot,
)
from tests.conftest import PASSWORD, Factory

CAIRO = ZoneInfo("Africa/Cairo")
VOLUNTEER_PHONE = "+201001234567"


def t(app: Any, language: str, message: str, **values: Any) -> str:
    """The text the app shows for ``message`` in ``language``."""
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


class ConsoleCapture(logging.Handler):
    """Keeps what the console SMS backend logs (it is where a developer reads the code)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def send_outbox(app: Any) -> tuple[dict[str, int], list[str]]:
    """Run the worker's outbox job once; what it sent and what the console backend printed."""
    from web.jobs_sms import send_due_messages

    capture = ConsoleCapture()
    logger = logging.getLogger("web.services.sms_backends")
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    try:
        counts = send_due_messages(app)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    return counts, capture.lines


def follow(locator: Any) -> None:
    """Click a link or submit button and wait for the page it leads to."""
    with locator.page.expect_navigation():
        locator.click()


def log_in(page: Any, identifier: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    follow(page.locator("main button[type=submit]"))
    page.wait_for_load_state()


def local_day_in(days: int) -> date:
    from datetime import datetime

    return datetime.now(CAIRO).date() + timedelta(days=days)


@pytest.fixture
def people(site: LiveServer) -> dict[str, Any]:
    """A Cairo institution with an English-speaking manager, its opportunity, a coordinator."""
    app = site.app
    with app.app_context():
        factory = Factory(app)
        manager = factory.user("manager", locale="en", full_name="Mona Manager")
        coordinator = factory.user(
            "coordinator", locale="en", national_scope=True, full_name="Karim Coordinator"
        )
        institution = factory.institution(
            managers=(manager,), name_ar="دار الأمل للأطفال", name_en="Dar Al Amal Children's Home"
        )
        opportunity = factory.opportunity(
            institution, title_ar="نادي القراءة", title_en="Reading club"
        )
        # Someone else the run may propose, so the coordinator has a choice to pin.
        other = factory.volunteer(full_name="Salma Other", lat=30.052, lon=31.241)
        return {
            "manager": manager.email,
            "coordinator": coordinator.email,
            "opportunity_id": opportunity.id,
            "other_id": other.id,
            "cairo": factory.governorate("EG-C").name_ar,
        }


def test_volunteer_manager_coordinator_and_sms_reply(
    browsing: Browsing, site: LiveServer, people: dict[str, Any], screenshots: bool
) -> None:
    app = site.app
    first_day = local_day_in(3)

    # --- a manager posts a weekly series, in English on a laptop ---------------------------
    manager = browsing.page(DESKTOP, locale="en-GB")
    log_in(manager, people["manager"])
    check_page(manager, "en", "Dar Al Amal Children's Home")
    manager.goto(f"/manage/opportunities/{people['opportunity_id']}")
    check_page(manager, "en", "Reading club", "No shifts yet.")
    follow(manager.get_by_role("link", name="Add a weekly series"))
    check_page(manager, "en", "New weekly series")
    manager.fill("#first_day", first_day.isoformat())
    manager.fill("#weeks", "2")
    manager.fill("#start_time", "10:00")
    manager.fill("#end_time", "13:00")
    manager.fill("#needed", "2")
    follow(manager.get_by_role("button", name="Create series"))
    check_page(manager, "en", "Reading club")
    rows = manager.locator("main table tbody tr")
    assert rows.count() == 2
    screenshot(manager, "journey-manager-series-en", screenshots)
    from web.extensions import db
    from web.models import Shift

    with app.app_context():
        series = db.session.scalars(
            sa.select(Shift)
            .where(Shift.opportunity_id == people["opportunity_id"])
            .order_by(Shift.starts_at)
        ).all()
        assert [s.starts_at.astimezone(CAIRO).date() for s in series] == [
            first_day,
            first_day + timedelta(days=7),
        ]
        assert series[0].series_id is not None and series[0].series_id == series[1].series_id
        first_id, second_id = series[0].id, series[1].id
        db.session.remove()

    # --- a volunteer registers in Arabic on a phone ------------------------------------------
    phone = browsing.page(PHONE, locale="ar-EG")
    phone.goto("/")
    check_page(phone, "ar", t(app, "ar", "Volunteer matching"))
    phone.goto("/register")
    check_page(phone, "ar", t(app, "ar", "Register as a volunteer"))
    phone.fill("#full_name", "ليلى حسن")
    phone.fill("#phone", "٠١٠٠١٢٣٤٥٦٧")  # Arabic-Indic digits, as a phone keyboard types them
    phone.fill("#email", "laila@example.org")
    phone.fill("#password", PASSWORD)
    phone.fill("#confirm", PASSWORD)
    phone.select_option("#governorate", label=people["cairo"])
    phone.check("#sms_consent")
    follow(phone.locator("main button[type=submit]"))
    check_page(
        phone,
        "ar",
        t(app, "ar", "Welcome! Your account is ready."),
        t(app, "ar", "Verify your phone number"),
    )
    screenshot(phone, "journey-verify-ar", screenshots)

    # --- verifies the phone with the code the console backend printed --------------------------
    follow(phone.get_by_role("button", name=t(app, "ar", "Send me a code")))
    check_page(phone, "ar", VOLUNTEER_PHONE)  # "we sent a code to +20..." (the number LTR)
    assert phone.locator("#code").is_visible()
    counts, printed = send_outbox(app)
    assert counts.get("sent") == 1, counts
    [line] = [line for line in printed if VOLUNTEER_PHONE in line]
    code = re.search(r"\b(\d{6})\b", line.split(":", 1)[1]).group(1)
    phone.fill("#code", code)
    follow(phone.get_by_role("button", name=t(app, "ar", "Verify")))
    check_page(phone, "ar", t(app, "ar", "Your phone number is verified. Thank you!"))

    # --- completes the profile and sets a weekly availability ---------------------------------
    phone.goto("/profile")
    check_page(phone, "ar")
    follow(phone.locator("#use_centre"))  # "use my governorate's centre as my home"
    check_page(phone, "ar", t(app, "ar", "Your profile was saved."))
    phone.goto("/availability")
    check_page(phone, "ar", t(app, "ar", "You have not added any weekly times yet."))
    phone.select_option("#weekday", value=str(first_day.weekday()))
    phone.fill("#start_time", "09:00")
    phone.fill("#end_time", "18:00")
    follow(phone.locator("#add_rule"))
    check_page(phone, "ar", "09:00", "18:00")
    screenshot(phone, "journey-availability-ar", screenshots)

    # --- signs up for the first shift of the series -------------------------------------------
    phone.goto("/shifts")
    check_page(phone, "ar", "نادي القراءة", "دار الأمل للأطفال")
    cards = phone.locator("main ul.cards > li")
    assert cards.count() == 2
    follow(cards.first.get_by_role("button", name=t(app, "ar", "Sign up")))
    check_page(phone, "ar", t(app, "ar", "You are signed up. Thank you!"), "نادي القراءة")
    screenshot(phone, "journey-my-shifts-ar", screenshots)

    # --- a coordinator runs matching, pins the volunteer on the second shift, publishes --------
    from web.models import User
    from web.worker import poll_runs

    with app.app_context():
        volunteer_id = db.session.scalar(sa.select(User.id).where(User.phone == VOLUNTEER_PHONE))
        db.session.remove()
    coordinator = browsing.page(DESKTOP, locale="en-GB")
    log_in(coordinator, people["coordinator"])
    coordinator.goto("/coordinate/runs/new")
    check_page(coordinator, "en", "Start a matching run")
    coordinator.select_option("#scope_kind", value="national")
    coordinator.fill("#window_days", "14")
    follow(coordinator.get_by_role("button", name="Start the run"))
    check_page(coordinator, "en", "The run is queued.")
    run_url = coordinator.url
    assert poll_runs(app) != []  # the worker's job, called instead of waiting for it
    coordinator.goto(run_url)
    check_page(coordinator, "en", "Publish")
    second = coordinator.locator(f"#shift-{second_id}")
    mine = second.locator("tr", has_text=f"#{volunteer_id}")
    follow(mine.get_by_role("button", name="Pin"))
    check_page(coordinator, "en", "The proposal was changed.")
    second = coordinator.locator(f"#shift-{second_id}")
    assert second.locator("tr", has_text=f"#{volunteer_id}").get_by_text("Pinned").count() == 1
    screenshot(coordinator, "journey-run-en", screenshots)
    follow(coordinator.get_by_role("button", name="Publish"))
    check_page(coordinator, "en", "The roster is published.")

    # --- the offer goes out; the volunteer answers نعم by SMS, signed like Twilio signs -------
    counts, printed = send_outbox(app)
    assert counts.get("sent", 0) + counts.get("deferred", 0) >= 1, counts
    phone.goto("/my-shifts")
    check_page(phone, "ar", t(app, "ar", "Offered to you"))
    params = {
        "MessageSid": "SM" + "7" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": VOLUNTEER_PHONE,
        "To": "+15005550006",
        "Body": "نعم",
        "NumMedia": "0",
    }
    url = f"{site.url}/sms/inbound"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    reply = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert reply.status_code == 200, reply.text
    assert "<Message>" in reply.text and "دار الأمل للأطفال" in reply.text
    forged = requests.post(url, data={**params, "MessageSid": "SM" + "8" * 32}, timeout=30)
    assert forged.status_code == 403

    phone.reload()
    confirmed = t(app, "ar", "Confirmed")
    check_page(phone, "ar", confirmed)
    rows = phone.locator("main table.stack tbody tr")
    assert rows.count() == 2
    for row in range(2):
        assert confirmed in rows.nth(row).inner_text()
    assert t(app, "ar", "Offered to you") not in phone.inner_text("main")
    screenshot(phone, "journey-confirmed-ar", screenshots)
    with app.app_context():
        from web.models import Assignment

        states = dict(
            db.session.execute(
                sa.select(Assignment.shift_id, Assignment.state).where(
                    Assignment.volunteer_id == volunteer_id
                )
            ).all()
        )
        assert states == {first_id: "confirmed", second_id: "confirmed"}
        db.session.remove()

    # Nothing the pages load was refused by the CSP, and no script failed.
    assert browsing.errors == []
