"""The public service guide and its map JSON: by governorate and kind, public facts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from web.services.guide import MARKER_FIELDS

EN = {"Accept-Language": "en"}


@pytest.fixture
def places(factory):
    """A Giza elderly home with an open opportunity (music wanted), a Cairo orphanage, and
    things the guide must not show: a draft, a closed opportunity, an inactive institution."""
    manager = factory.user("manager", email="private.manager@example.org")
    giza = factory.institution(
        kind="elderly_home",
        governorate="EG-GZ",
        name_en="Giza Elders",
        name_ar="دار مسني الجيزة",
        phone="+20233334444",
        managers=(manager,),
        lat=30.0131,
        lon=31.2089,
    )
    cairo = factory.institution(kind="orphanage", governorate="EG-C", name_en="Cairo Home")
    hidden = factory.institution(governorate="EG-GZ", name_en="Closed Home", active=False)
    soon = datetime.now(UTC) + timedelta(days=2)
    choir = factory.opportunity(giza, title_en="Choir with elders")
    choir.skills.append(factory.skill("tutoring"))
    factory.shift(choir, start=soon, needed=3, skills={"music": 1})
    factory.shift(factory.opportunity(giza, title_en="Draft idea", status="draft"), start=soon)
    factory.shift(factory.opportunity(giza, title_en="Old closed", status="closed"), start=soon)
    factory.shift(factory.opportunity(cairo, title_en="Cairo tutoring"), start=soon)
    factory.shift(factory.opportunity(hidden, title_en="Hidden work"), start=soon)
    factory.db.session.commit()
    return {"giza": giza, "cairo": cairo, "hidden": hidden, "choir": choir}


def test_guide_lists_governorates_without_a_login(client, places):
    response = client.get("/guide", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="/guide/EG-GZ"' in html and 'href="/guide/EG-C"' in html
    assert "1 institution" in html and "1 open opportunity" in html
    assert "<script>" not in html and "style=" not in html


def test_governorate_page_shows_institutions_by_kind_and_what_to_do(client, places):
    response = client.get("/guide/eg-gz", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Giza Elders" in html and f'id="institution-{places["giza"].id}"' in html
    assert "Elderly home" in html
    assert "Choir with elders" in html
    assert f"/opportunities/{places['choir'].id}" in html
    assert "Music" in html and "Tutoring" in html  # reserved and asked-for skills
    assert "3 free places in the coming shifts" in html
    for absent in ("Cairo Home", "Cairo tutoring", "Draft idea", "Old closed", "Closed Home"):
        assert absent not in html
    assert "+20233334444" not in html and "private.manager" not in html


def test_guide_is_arabic_by_default(client, places):
    html = client.get("/guide/EG-GZ").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html
    assert "دار مسني الجيزة" in html and "الجيزة" in html


def test_unknown_governorate_is_404(client, places):
    assert client.get("/guide/XX-NOPE").status_code == 404
    assert client.get("/guide/XX-NOPE/map.json").status_code == 404


def test_map_json_has_public_facts_only(client, places):
    response = client.get("/guide/map.json", headers=EN)
    assert response.status_code == 200 and response.is_json
    items = response.get_json()["institutions"]
    assert {item["name"] for item in items} == {"Giza Elders", "Cairo Home"}
    for item in items:
        assert set(item) == set(MARKER_FIELDS)
    giza = next(item for item in items if item["name"] == "Giza Elders")
    assert (giza["lat"], giza["lon"], giza["kind"]) == (30.0131, 31.2089, "elderly_home")
    assert giza["url"] == f"/guide/EG-GZ#institution-{places['giza'].id}"
    body = response.get_data(as_text=True)
    for private in ("+20233334444", "private.manager", "phone", "manager", "email"):
        assert private not in body


def test_map_json_per_governorate(client, places):
    items = client.get("/guide/EG-GZ/map.json", headers=EN).get_json()["institutions"]
    assert [item["name"] for item in items] == ["Giza Elders"]


def test_map_settings_reach_the_page_as_data_attributes(app, client, places):
    html = client.get("/guide", headers=EN).get_data(as_text=True)
    assert 'data-tile-url=""' in html and "guide-map-plain" in html
    app.config["MAP_TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    app.config["MAP_TILE_ATTRIBUTION"] = "© Example <contributors>"
    try:
        html = client.get("/guide", headers=EN).get_data(as_text=True)
    finally:
        app.config["MAP_TILE_URL"] = ""
        app.config["MAP_TILE_ATTRIBUTION"] = ""
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert "&lt;contributors&gt;" in html and "guide-map-plain" not in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/js/guide-map.js" in html


def test_vendored_leaflet_is_served_with_its_licence(client):
    for path in ("leaflet.js", "leaflet.css", "LICENSE"):
        response = client.get(f"/static/vendor/leaflet/{path}")
        assert response.status_code == 200
        response.close()
