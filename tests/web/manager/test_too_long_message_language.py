"""Too-long texts are refused in the page's language (WTForms' Arabic lacks most plurals)."""

from __future__ import annotations

import sqlalchemy as sa

from web.extensions import db
from web.models import Opportunity


def test_too_long_title_is_refused_in_arabic_and_english(manager_client, home):
    data = {"title_ar": "ا" * 201, "title_en": "Reading club", "status": "open"}
    url = f"/manage/institutions/{home.id}/opportunities/new"
    arabic = manager_client.post(url, data=data)
    assert arabic.status_code == 400
    page = arabic.get_data(as_text=True)
    assert "هذا النص طويل جدًا." in page
    assert "Field cannot be longer" not in page
    english = manager_client.post(url, data=data, headers={"Accept-Language": "en"})
    assert english.status_code == 400
    assert "This is too long." in english.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Opportunity)) == 0
