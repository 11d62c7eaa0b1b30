"""Unfilled places on the run page: the matcher's suggestion strings are shown translated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import force_locale

from web.blueprints.matching import suggestion_text
from web.services import runs


def _in_three_days(hour: int) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=3)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_matcher_suggestion_strings_are_translated(app):
    line = (
        "relax=distance;value=135.2;count=2: 2 free volunteer(s) live within 135.2 km of the "
        "institution but beyond their own travel radius"
    )
    with app.test_request_context(), force_locale("en"):
        text = suggestion_text(line)
        assert text == "2 volunteers within 135.2 km (instead of their own limit) are free."
        gender = suggestion_text("relax=gender;value=any;count=1: opening the shift frees 1")
        assert "relax=" not in gender and "gender rule" in gender
    with app.test_request_context(), force_locale("ar"):
        arabic = suggestion_text(line)
        assert "relax=" not in arabic and "135.2" in arabic
        assert "volunteer" not in arabic


def test_run_page_shows_no_raw_suggestions(client, login_as, factory, world):
    # a place in Alexandria on a free day: the Cairo volunteers are beyond their travel radius
    far_shift = factory.shift(
        factory.opportunity(world.far_institution), start=_in_three_days(8), needed=1
    )
    run = runs.start_run(world.coordinator, "national", [], *runs.default_window(7))
    claimed = runs.claim_next_run("test")
    assert claimed is not None and claimed.id == run.id
    runs.execute_run(claimed)
    login_as(world.coordinator)
    for headers in ({"Accept-Language": "en"}, {}):
        page = client.get(f"/coordinate/runs/{run.id}", headers=headers)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert f"#{far_shift.id}" in text
        assert "relax=" not in text
    english = client.get(f"/coordinate/runs/{run.id}", headers={"Accept-Language": "en"})
    assert "(instead of their own limit)" in english.get_data(as_text=True)


def test_one_volunteer_is_said_in_the_singular(app):
    """QA: the run page said "1 more volunteers would qualify"; counts of one read singular."""
    with app.test_request_context(), force_locale("en"):
        one = suggestion_text("relax=availability;value=;count=1: relaxing frees 1")
        assert one.startswith("1 more volunteer would qualify"), one
        two = suggestion_text("relax=availability;value=;count=2: relaxing frees 2")
        assert two.startswith("2 more volunteers would qualify"), two
        near = suggestion_text("relax=distance;value=12.5;count=1: 1 free volunteer(s) nearby")
        assert near == "1 volunteer within 12.5 km (instead of their own limit) is free."
    with app.test_request_context(), force_locale("ar"):
        for count in (1, 2, 5, 11):
            text = suggestion_text(f"relax=gender;value=any;count={count}: frees {count}")
            assert str(count) in text and "volunteer" not in text
