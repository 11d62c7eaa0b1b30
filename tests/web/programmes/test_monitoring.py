"""Monitoring reports: filing, the visibility rule (never the institution's managers), workflow
and the audit of every view and change."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from web.extensions import db
from web.models import (
    Assignment,
    AuditEvent,
    MonitoringReport,
    MonitoringReportPhoto,
    UploadedFile,
)
from web.services import monitoring, programmes
from web.services.shifts import RuleError

SECRET = "Children locked in the basement room"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Upload(io.BytesIO):
    """A file as a form sends it (werkzeug FileStorage-like)."""

    def __init__(self, data: bytes, filename: str) -> None:
        super().__init__(data)
        self.filename = filename


def answers_for(kind: str, answer: str = "yes") -> dict[str, str]:
    return {code: answer for code, _label in monitoring.checklist_for(kind)}


@pytest.fixture
def visit(factory, app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    coordinator = factory.user("coordinator", can_monitor=True)
    coordinator.governorates.append(factory.governorate("EG-C"))
    plain_coordinator = factory.user("coordinator", national_scope=True)
    manager = factory.user("manager")
    institution = factory.institution(managers=(manager,), kind="orphanage")
    programme = programmes.create_programme(
        coordinator,
        programmes.ProgrammeInput(
            kind="monitoring_visits",
            governorate_id=institution.governorate_id,
            name_en="Monitoring visits",
            institution_ids=(institution.id,),
        ),
    )
    cohort = programmes.create_cohort(
        coordinator,
        programme,
        programmes.CohortInput("", "Monitors", date.today() - timedelta(30), date.today(), 5),
    )
    monitor = factory.volunteer(monitor_accredited=True)
    enrolment = programmes.apply(monitor, cohort, "I am trained")
    programmes.decide(coordinator, enrolment, "accepted")
    opportunity = programmes.cohort_opportunity(coordinator, cohort, institution)
    db.session.commit()
    shift = factory.shift(opportunity, start=datetime.now(UTC) - timedelta(hours=3), needed=1)
    db.session.add(Assignment(shift_id=shift.id, volunteer_id=monitor.id, state="confirmed"))
    shift.open_taken = 1
    db.session.commit()
    return {
        "coordinator": coordinator,
        "plain_coordinator": plain_coordinator,
        "manager": manager,
        "institution": institution,
        "monitor": monitor,
        "shift": shift,
        "cohort": cohort,
    }


def file(visit, **kw) -> MonitoringReport:
    data = monitoring.ReportInput(
        answers=kw.pop("answers", answers_for("orphanage")),
        notes=kw.pop("notes", SECRET),
        severity=kw.pop("severity", "critical"),
        photos=kw.pop("photos", [Upload(PNG, "room.png")]),
    )
    return monitoring.file_report(visit["monitor"], visit["shift"], data)


def test_the_checklist_depends_on_the_institution_kind():
    orphanage = {code for code, _ in monitoring.checklist_for("orphanage")}
    elderly = {code for code, _ in monitoring.checklist_for("elderly_home")}
    assert "schooling" in orphanage and "schooling" not in elderly
    assert "bedsores" in elderly
    assert {code for code, _ in monitoring.COMMON_ITEMS} <= orphanage & elderly


def test_a_monitor_files_a_report_with_a_photo(visit):
    report = file(visit)
    assert report.status == "submitted" and report.severity == "critical"
    assert len(report.photos) == 1 and report.photos[0].upload.content_type == "image/png"
    assert [e.to_status for e in report.events] == ["submitted"]
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "monitoring_report.submit" in actions


def test_bad_reports_are_refused_in_the_users_language_and_nothing_is_written(visit):
    answers = answers_for("orphanage")
    del answers["schooling"]
    with force_locale("en"), pytest.raises(RuleError) as info:
        file(visit, answers=answers, severity="apocalyptic", notes="x" * 6000)
    fields = dict(info.value.errors)
    assert fields["check_schooling"] == "Answer this question."
    assert fields["severity"] == "Choose how serious it is from the list."
    assert fields["notes"] == "Keep this under 5000 characters."
    with force_locale("ar"), pytest.raises(RuleError) as info:
        file(visit, severity="serious", notes="")
    assert dict(info.value.errors)["notes"] == "صف ما رأيته: التقرير يقول إن الأمر خطير."
    with force_locale("en"), pytest.raises(RuleError) as info:
        file(visit, photos=[Upload(b"MZ\x90\x00 not an image", "virus.png")])
    assert info.value.errors[0][0] == "photos"
    assert "This type of file is not accepted" in info.value.errors[0][1]
    for model in (MonitoringReport, MonitoringReportPhoto, UploadedFile):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_only_the_visits_monitors_can_report(visit, factory):
    stranger = factory.volunteer(monitor_accredited=True)
    with pytest.raises(RuleError) as info:
        monitoring.file_report(
            stranger, visit["shift"], monitoring.ReportInput(answers_for("orphanage"), "", "none")
        )
    assert info.value.status == 403
    ordinary = factory.shift()
    assert monitoring.visit_refusal(visit["monitor"], ordinary) is not None


def test_workflow_moves_one_step_at_a_time_with_notes_and_audit(visit):
    report = file(visit)
    coordinator = visit["coordinator"]
    with pytest.raises(RuleError):
        monitoring.move(coordinator, report, "closed", "done")  # not from submitted
    monitoring.move(coordinator, report, "under_review")
    with force_locale("en"), pytest.raises(RuleError) as info:
        monitoring.move(coordinator, report, "referred", "")
    assert info.value.errors[0][0] == "note"
    monitoring.move(coordinator, report, "referred", "Ministry hotline, case 114")
    monitoring.move(coordinator, report, "closed", "Ministry inspected; children moved")
    assert [e.to_status for e in report.events] == [
        "submitted",
        "under_review",
        "referred",
        "closed",
    ]
    moves = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "monitoring_report.move")
        .order_by(AuditEvent.id)
    ).all()
    assert [m.details["after"] for m in moves] == ["under_review", "referred", "closed"]
    with pytest.raises(LookupError):
        monitoring.move(visit["plain_coordinator"], report, "under_review")
    with pytest.raises(LookupError):
        monitoring.move(visit["manager"], report, "under_review")


def test_who_can_read_a_report(visit, factory):
    report = file(visit)
    assert monitoring.can_read_report(visit["monitor"], report)
    assert monitoring.can_read_report(visit["coordinator"], report)
    assert not monitoring.can_read_report(visit["manager"], report)
    assert not monitoring.can_read_report(visit["plain_coordinator"], report)
    assert not monitoring.can_read_report(factory.volunteer(), report)
    far = factory.user("coordinator", can_monitor=True)
    far.governorates.append(factory.governorate("EG-ALX"))
    db.session.commit()
    assert not monitoring.can_read_report(far, report)
    admin = factory.user("admin")
    assert not monitoring.can_read_report(admin, report)  # admins need the role too
    admin.can_monitor = True
    db.session.commit()
    assert monitoring.can_read_report(admin, report)


# --- pages -------------------------------------------------------------------------------------


def test_a_monitor_files_from_the_phone_form(client, login_as, visit):
    login_as(visit["monitor"])
    url = f"/monitoring/visits/{visit['shift'].id}/report"
    page = client.get(url, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="check_schooling"' in html and 'enctype="multipart/form-data"' in html
    form = {f"check_{code}": answer for code, answer in answers_for("orphanage", "no").items()}
    missing = dict(form)
    del missing["check_play_time"]
    bad = client.post(url, data={**missing, "severity": "serious", "notes": SECRET})
    assert bad.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(MonitoringReport.id))) == 0
    sent = client.post(
        url,
        data={
            **form,
            "severity": "serious",
            "notes": SECRET,
            "photos": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    report = db.session.scalars(sa.select(MonitoringReport)).one()
    assert len(report.photos) == 2
    mine = client.get(sent.headers["Location"])
    assert SECRET in mine.get_data(as_text=True)
    photo = client.get(f"/monitoring/reports/{report.id}/photos/{report.photos[0].id}")
    photo.close()
    assert photo.status_code == 200 and photo.mimetype == "image/png"


def report_urls(report: MonitoringReport) -> list[str]:
    photo = report.photos[0].id
    return [
        f"/monitoring/reports/{report.id}",
        f"/monitoring/reports/{report.id}/photos/{photo}",
    ]


def test_the_institutions_manager_can_never_see_the_report(client, login_as, visit, app):
    from flask import url_for

    report = file(visit)
    manager = visit["manager"]
    login_as(manager)
    for url in report_urls(report):
        response = client.get(url)
        response.close()
        assert response.status_code in (403, 404), url
    assert client.post(
        f"/monitoring/reports/{report.id}/move", data={"to_status": "under_review"}
    ).status_code in (403, 404)
    for url in ("/monitoring/reports", "/monitoring/visits", "/monitoring/roles"):
        assert client.get(url).status_code in (403, 404), url
    assert client.get(f"/monitoring/visits/{visit['shift'].id}/report").status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(MonitoringReport, report.id).status == "submitted"
    # Every page of the manager's area, for every object of the visit: no trace of the report.
    ids = {
        "institution_id": visit["institution"].id,
        "opportunity_id": visit["shift"].opportunity_id,
        "shift_id": visit["shift"].id,
        "user_id": visit["monitor"].id,
        "assignment_id": db.session.scalar(sa.select(Assignment.id)),
    }
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if not set(rule.arguments) <= set(ids):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})
        for language in ("en", "ar"):
            response = client.get(url, headers={"Accept-Language": language})
            text = response.get_data(as_text=True)
            assert SECRET not in text, url
            assert f"/monitoring/reports/{report.id}" not in text, url
        checked += 1
    assert checked > 10
    manager_views = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.actor_id == manager.id, AuditEvent.action.like("monitoring_report.%")
        )
    ).all()
    assert manager_views == []


def test_coordinators_without_the_role_and_other_volunteers_get_404(
    client, login_as, visit, factory
):
    report = file(visit)
    for user in (visit["plain_coordinator"], factory.volunteer(), factory.user("admin")):
        login_as(user)
        for url in report_urls(report):
            response = client.get(url)
            response.close()
            assert response.status_code == 404, (user.role, url)
    login_as(visit["plain_coordinator"])
    assert client.get("/monitoring/reports").status_code == 403


def test_every_view_and_change_is_audited(client, login_as, visit):
    report = file(visit)
    login_as(visit["coordinator"])
    listing = client.get("/monitoring/reports?severity=critical", headers={"Accept-Language": "en"})
    assert visit["institution"].name_en in listing.get_data(as_text=True)
    assert client.get(f"/monitoring/reports/{report.id}").status_code == 200
    client.get(f"/monitoring/reports/{report.id}/photos/{report.photos[0].id}").close()
    moved = client.post(
        f"/monitoring/reports/{report.id}/move", data={"to_status": "under_review", "note": ""}
    )
    assert moved.status_code == 302
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.actor_id == visit["coordinator"].id)
        .order_by(AuditEvent.id)
    ).all()
    actions = [e.action for e in events if e.action.startswith("monitoring_report.")]
    assert actions == [
        "monitoring_report.list",
        "monitoring_report.view",
        "monitoring_report.photo_view",
        "monitoring_report.move",
    ]
    filtered = client.get("/monitoring/reports?severity=minor", headers={"Accept-Language": "en"})
    assert f"/monitoring/reports/{report.id}" not in filtered.get_data(as_text=True)


def test_admins_give_the_monitoring_role(client, login_as, visit, factory):
    admin = factory.user("admin")
    target = visit["plain_coordinator"]
    login_as(visit["coordinator"])
    assert client.post(f"/monitoring/roles/{target.id}").status_code == 403
    login_as(admin)
    assert client.get("/monitoring/roles").status_code == 200
    assert client.post(f"/monitoring/roles/{target.id}").status_code == 302
    db.session.expire_all()
    assert target.can_monitor is True
    with pytest.raises(RuleError):
        monitoring.set_monitoring_role(admin, visit["monitor"], True)
