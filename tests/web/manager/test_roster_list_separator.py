"""Shift rules joined in a sentence use the comma of the page's language (Arabic ، not ,)."""

from __future__ import annotations


def test_roster_and_opportunity_page_use_the_arabic_comma(
    client, login_as, factory, manager, opportunity
):
    shift = factory.shift(opportunity, gender="female", min_age=21, languages=["ar", "en"])
    login_as(manager)
    for url in (f"/manage/shifts/{shift.id}", f"/opportunities/{opportunity.id}"):
        arabic = client.get(url).get_data(as_text=True)
        assert "\u060c " in arabic, url
        assert "فقط, " not in arabic and "العربية, " not in arabic, url
        english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Women only, aged 21 or more" in english, url
