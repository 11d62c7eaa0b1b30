"""The availability page holds two forms with fields of the same names: ids stay unique."""

from __future__ import annotations

import re
from collections import Counter


def test_availability_page_ids_are_unique_and_labels_point_to_their_own_inputs(factory, login_as):
    client = login_as(factory.volunteer())
    for headers in ({}, {"Accept-Language": "en"}):
        page = client.get("/availability", headers=headers).get_data(as_text=True)
        ids = Counter(re.findall(r'\sid="([^"]+)"', page))
        ids.pop("csrf_token", None)  # the hidden token, not a labelled field
        assert [i for i, n in ids.items() if n > 1] == []
        for target in re.findall(r'<label for="([^"]+)"', page):
            assert ids[target] == 1, target
        assert 'for="exception-start_time"' in page and 'id="exception-start_time"' in page
        # hints are read with their inputs
        assert 'aria-describedby="start_time-hint"' in page


def test_errors_of_the_second_form_are_linked_to_its_own_inputs(factory, login_as):
    client = login_as(factory.volunteer())
    response = client.post(
        "/availability/exceptions",
        data={"day": "2030-01-05", "kind": "extra", "start_time": "12:00", "end_time": "10:00"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="exception-end_time-error"' in page
    assert re.search(r'aria-describedby="exception-end_time-hint exception-end_time-error"', page)
