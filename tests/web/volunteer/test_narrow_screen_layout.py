"""Phone-width layout: my shifts stacks its rows, card lists have no bullets, cells keep words."""

from __future__ import annotations

import re
from pathlib import Path

from web.services.signup import sign_up

CSS = Path(__file__).resolve().parents[3] / "web" / "static" / "css" / "app.css"


def rules(selector: str) -> str:
    """The declarations of every rule whose selector list contains `selector`."""
    css = CSS.read_text(encoding="utf-8")
    found = [
        body
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
        if selector in [s.strip() for s in selectors.split(",")]
    ]
    assert found, f"no rule for {selector}"
    return " ".join(found)


def test_my_shifts_table_stacks_on_narrow_screens(factory, login_as):
    shift = factory.shift(factory.opportunity(title_en="Story time"), needed=1)
    volunteer = factory.volunteer()
    sign_up(volunteer, shift)
    client = login_as(volunteer)
    page = client.get("/my-shifts").get_data(as_text=True)
    assert '<table class="stack">' in page
    css = CSS.read_text(encoding="utf-8")
    narrow = css[css.index("@media (max-width: 40rem)") :]
    assert "table.stack tr { display: block;" in narrow
    assert "table.stack td { display: block;" in narrow


def test_card_lists_have_no_bullets_and_table_cells_do_not_split_words():
    assert "list-style: none" in rules("ul.cards")
    assert "padding: 0" in rules("ul.cards")
    # .card sets overflow-wrap: anywhere, which split Arabic words letter by letter in tables
    assert "overflow-wrap: anywhere" in rules(".card")
    assert "overflow-wrap: break-word" in rules("td")


def test_run_page_times_have_no_seconds(client, login_as, factory):
    from web.services import runs

    factory.shift(factory.opportunity(), needed=1)
    factory.volunteer()
    coordinator = factory.user("coordinator", national_scope=True)
    run = runs.start_run(coordinator, "national", [], *runs.default_window(7))
    runs.execute_run(runs.claim_next_run("test"))
    login_as(coordinator)
    page = client.get(f"/coordinate/runs/{run.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert not re.search(r"\d:\d\d:\d\d", page.get_data(as_text=True))
