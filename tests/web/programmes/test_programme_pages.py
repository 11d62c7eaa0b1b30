"""Programme pages: who sees what, applying, deciding, sessions, and refused input."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from tests.web.programmes.conftest import next_monday
from web.extensions import db
from web.models import Enrolment, Programme, Shift

EN = {"Accept-Language": "en"}


def test_coordinator_creates_a_programme_and_bad_input_writes_nothing(client, factory, login_as):
    coordinator = factory.user("coordinator", national_scope=True)
    institution = factory.institution()
    login_as(coordinator)
    page = client.get("/programmes/new", headers=EN)
    assert page.status_code == 200
    bad = client.post(
        "/programmes/new",
        data={"kind": "karaoke", "governorate": "1", "name_en": "", "status": "open"},
        headers=EN,
    )
    assert bad.status_code == 400
    assert "Choose from the list." in bad.get_data(as_text=True)
    refused = client.post(
        "/programmes/new",
        data={"kind": "sports", "governorate": str(institution.governorate_id), "status": "open"},
        headers=EN,
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Give a name in Arabic or English (both are best)." in text
    assert "Choose at least one institution." in text
    arabic = client.post(
        "/programmes/new",
        data={"kind": "sports", "governorate": str(institution.governorate_id), "status": "open"},
        headers={"Accept-Language": "ar"},
    )
    assert "اختر مؤسسة واحدة على الأقل." in arabic.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == 0
    ok = client.post(
        "/programmes/new",
        data={
            "kind": "sports",
            "governorate": str(institution.governorate_id),
            "name_en": "Football",
            "institutions": [str(institution.id)],
            "status": "open",
        },
    )
    assert ok.status_code == 302
    assert db.session.scalar(sa.select(Programme.name_en)) == "Football"


def test_volunteer_applies_coordinator_accepts_and_volunteer_sees_sessions(
    client, factory, login_as, world
):
    cohort = world["cohort"]
    volunteer = factory.volunteer()
    login_as(volunteer)
    page = client.get(f"/programmes/cohorts/{cohort.id}", headers=EN)
    assert "Apply to this cohort" in page.get_data(as_text=True)
    empty = client.post(f"/programmes/cohorts/{cohort.id}/apply", data={"motivation": " "})
    assert empty.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0
    sent = client.post(f"/programmes/cohorts/{cohort.id}/apply", data={"motivation": "I sing"})
    assert sent.status_code == 302
    enrolment = db.session.scalars(sa.select(Enrolment)).one()
    # the volunteer cannot decide
    assert client.post(f"/programmes/enrolments/{enrolment.id}/decide").status_code == 403
    login_as(world["coordinator"])
    cohort_page = client.get(f"/programmes/cohorts/{cohort.id}", headers=EN).get_data(as_text=True)
    assert "I sing" in cohort_page and volunteer.full_name in cohort_page
    bad = client.post(
        f"/programmes/enrolments/{enrolment.id}/decide",
        data={"decision": "promoted"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Choose from the list." in bad.get_data(as_text=True)
    assert (
        client.post(
            f"/programmes/enrolments/{enrolment.id}/decide", data={"decision": "accepted"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == "accepted"
    login_as(volunteer)
    mine = client.get(f"/programmes/cohorts/{cohort.id}", headers=EN).get_data(as_text=True)
    assert "Upcoming sessions" in mine and "Leave the cohort" in mine
    shift = world["series"].shifts[0]
    assert client.post(f"/shifts/{shift.id}/signup").status_code in (302, 303)
    other = factory.volunteer()
    login_as(other)
    assert client.post(f"/programmes/enrolments/{enrolment.id}/withdraw").status_code == 404
    login_as(volunteer)
    assert client.post(f"/programmes/enrolments/{enrolment.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == "withdrawn"


def test_sessions_page_adds_a_weekly_series_and_refuses_bad_times(client, login_as, world):
    cohort = world["cohort"]
    login_as(world["coordinator"])
    url = f"/programmes/cohorts/{cohort.id}/sessions/new"
    assert client.get(url).status_code == 200
    before = db.session.scalar(sa.select(sa.func.count(Shift.id)))
    data = {
        "institution": str(world["institution"].id),
        "first_day": next_monday().isoformat(),
        "weeks": "2",
        "start_time": "16:00",
        "end_time": "15:00",
        "needed": "2",
    }
    bad = client.post(url, data=data, headers=EN)
    assert bad.status_code == 400
    assert "The shift must end after it starts" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Shift.id))) == before
    data["end_time"] = "17:00"
    assert client.post(url, data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Shift.id))) == before + 2
    assert time(16) in {s.start_time for s in world["cohort"].opportunities[0].series}


def test_managers_and_other_coordinators_cannot_manage_programmes(client, factory, login_as, world):
    cohort, programme = world["cohort"], world["programme"]
    login_as(world["manager"])
    for url in (
        "/programmes",
        f"/programmes/{programme.id}",
        f"/programmes/cohorts/{cohort.id}",
        f"/programmes/{programme.id}/edit",
    ):
        assert client.get(url).status_code == 403, url
    other = factory.user("coordinator")
    other.governorates.append(factory.governorate("EG-ALX"))
    db.session.commit()
    login_as(other)
    assert client.get(f"/programmes/cohorts/{cohort.id}").status_code == 403
    assert client.get(f"/programmes/{programme.id}/edit").status_code == 403
    volunteer = factory.volunteer()
    login_as(volunteer)
    assert client.get(f"/programmes/{programme.id}/edit").status_code == 403
    assert client.get(f"/programmes/cohorts/{cohort.id}/sessions/new").status_code == 403
