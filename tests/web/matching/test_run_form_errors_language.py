"""The run form's scope lists refuse unknown ids with a message in the page's language."""

from __future__ import annotations

import sqlalchemy as sa

from web.extensions import db
from web.models import MatchingRun


def test_unknown_scope_ids_are_refused_in_arabic_and_english(client, login_as, world):
    login_as(world.coordinator)
    for field in ("governorates", "institutions"):
        data = {"scope_kind": field, field: "99999", "window_days": "7", "time_limit": "10"}
        arabic = client.post("/coordinate/runs/new", data=data)
        assert arabic.status_code == 400
        page = arabic.get_data(as_text=True)
        assert "not a valid choice" not in page and "Invalid choice" not in page
        assert "يُرجى الاختيار من القائمة." in page
        english = client.post("/coordinate/runs/new", data=data, headers={"Accept-Language": "en"})
        assert "Choose from the list." in english.get_data(as_text=True)
    bad = {
        "scope_kind": "institutions",
        "institutions": "abc",
        "window_days": "7",
        "time_limit": "1",
    }
    page = client.post("/coordinate/runs/new", data=bad).get_data(as_text=True)
    assert "يُرجى الاختيار من القائمة." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchingRun)) == 0
