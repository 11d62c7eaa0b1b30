"""Warnings about confirmed pairs on the run page: names and translated rules, not matcher text."""

from __future__ import annotations

from flask_babel import force_locale

from web.blueprints.matching import warning_parts
from web.extensions import db
from web.services import runs


def test_warning_parts_reads_the_three_matcher_forms(app):
    with app.test_request_context(), force_locale("en"):
        caps = warning_parts(
            "locked pair v18 on s19: locked shifts exceed the volunteer's max_shifts and "
            "max_hours; kept"
        )
        assert caps == {
            "volunteer_id": 18,
            "shift_id": 19,
            "reasons": ["weekly shift limit reached", "weekly hour limit reached"],
        }
        rule = warning_parts("locked pair v3 on s7 breaks a rule (availability, distance); kept")
        assert rule["reasons"] == ["not available then", "too far away"]
        clash = warning_parts(
            "locked pair v3 on s7 clashes with another locked shift of the volunteer (s7, s8); kept"
        )
        assert clash["reasons"] == ["another shift at the same time"]
        assert warning_parts("something else entirely") is None


def test_run_page_shows_warnings_with_names_in_the_page_language(client, login_as, factory):
    shift = factory.shift(factory.opportunity(), needed=1)
    volunteer = factory.volunteer(full_name="Salma Warning")
    coordinator = factory.user("coordinator", national_scope=True)
    run = runs.start_run(coordinator, "national", [], *runs.default_window(7))
    run = runs.execute_run(runs.claim_next_run("test"))
    line = (
        f"locked pair v{volunteer.id} on s{shift.id}: locked shifts exceed the volunteer's "
        "max_shifts; kept"
    )
    run.solution = {**run.solution, "warnings": [line]}
    db.session.commit()
    login_as(coordinator)
    english = client.get(f"/coordinate/runs/{run.id}", headers={"Accept-Language": "en"})
    text = english.get_data(as_text=True)
    assert "locked pair" not in text
    assert "Salma Warning" in text and f"#{shift.id}" in text
    assert "weekly shift limit reached" in text
    arabic = client.get(f"/coordinate/runs/{run.id}").get_data(as_text=True)
    assert "locked pair" not in arabic and "weekly shift limit reached" not in arabic
