"""THE place to register routes and URL arguments for the authorisation matrix and the CSRF test.

Adding a route? Add one line to ``ROUTES`` (who may call it). Its URL has an argument name nobody
used before? Add a builder to ``ARGUMENTS`` that creates such an object belonging to SOMEONE ELSE:
the "other" users in Alexandria (``world.other["volunteer" | "manager" | "coordinator"]``,
``world.other_institution``). The test users (Cairo) must then be refused (403/404) wherever the
route says ``owned=True``, and the object's owner (or an admin) must be able to open a GET page.
See docs/security.md ("Authorisation matrix").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ANONYMOUS = "anonymous"
LOGGED_IN = ("volunteer", "manager", "coordinator", "admin")
EVERYONE = (ANONYMOUS, *LOGGED_IN)
STAFF = ("manager", "coordinator", "admin")
COORDINATION = ("coordinator", "admin")


@dataclass(frozen=True)
class Access:
    """Who may call a route.

    ``roles``: the roles that reach the view at all (``"anonymous"`` for public pages); every other
    role must get 403/404, anonymous visitors a redirect to the log-in page.
    ``owned``: the object the URL names must belong to the caller or be in their scope; callers
    of an allowed role (except admin) are refused 403/404 for the world's other-owner objects.
    ``signed``: a webhook that answers 403 to anyone without a valid provider signature.
    """

    roles: tuple[str, ...] = ()
    owned: bool = True
    signed: bool = False
    note: str = ""


PUBLIC = Access(roles=EVERYONE, owned=False)
ANY_ACCOUNT = Access(roles=LOGGED_IN, owned=False)  # acts on the caller's own account only
VOLUNTEER_SELF = Access(roles=("volunteer",), owned=False)  # no object in the URL: their own
WEBHOOK = Access(signed=True, owned=False)


def volunteer_object() -> Access:
    """A volunteer's own thing named in the URL (an availability rule, an offer)."""
    return Access(roles=("volunteer",))


def institution_object() -> Access:
    """Something of an institution: its managers, coordinators of its governorate and admins."""
    return Access(roles=STAFF)


# endpoint -> Access. Every endpoint of app.url_map must be here (the test names missing ones).
ROUTES: dict[str, Access] = {
    "static": PUBLIC,
    # public pages and account
    "public.index": PUBLIC,
    "public.set_language": PUBLIC,
    "opportunities.browse": PUBLIC,
    "opportunities.detail": PUBLIC,
    "opportunities.interest": Access(
        roles=("volunteer",), owned=False, note="any volunteer may show interest in any opportunity"
    ),
    "auth.login": PUBLIC,
    "auth.register": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.reset_with_link": PUBLIC,
    "auth.account": ANY_ACCOUNT,
    "auth.change_password": ANY_ACCOUNT,
    # SMS
    "sms.inbound": WEBHOOK,
    "sms.status": WEBHOOK,
    "sms.verify": ANY_ACCOUNT,
    "sms.verify_check": ANY_ACCOUNT,
    "sms.verify_send": ANY_ACCOUNT,
    "sms.channel": VOLUNTEER_SELF,
    "sms.outbox": Access(roles=("admin",), owned=False),
    "sms.outbox_message": Access(roles=("admin",)),
    "sms.resend": Access(roles=("admin",)),
    "sms.inbox": Access(roles=("admin",), owned=False),
    # volunteer
    "volunteer.profile": VOLUNTEER_SELF,
    "volunteer.availability": VOLUNTEER_SELF,
    "volunteer.rule_add": VOLUNTEER_SELF,
    "volunteer.rule_delete": volunteer_object(),
    "volunteer.exception_add": VOLUNTEER_SELF,
    "volunteer.exception_delete": volunteer_object(),
    "volunteer.shifts": VOLUNTEER_SELF,
    "volunteer.my_shifts": VOLUNTEER_SELF,
    "volunteer.signup": Access(
        roles=("volunteer",), owned=False, note="any volunteer may sign up for any open shift"
    ),
    "volunteer.withdraw": Access(
        roles=("volunteer",), owned=False, note="withdraws the caller's own place only"
    ),
    "volunteer.answer_offer": volunteer_object(),
    # manager
    "manager.dashboard": Access(roles=STAFF, owned=False),
    "manager.institution": institution_object(),
    "manager.institution_edit": institution_object(),
    "manager.contacts": institution_object(),
    "manager.opportunity_new": institution_object(),
    "manager.opportunity": institution_object(),
    "manager.opportunity_edit": institution_object(),
    "manager.opportunity_cancel": institution_object(),
    "manager.series_new": institution_object(),
    "manager.shift_new": institution_object(),
    "manager.shift_edit": institution_object(),
    "manager.shift_cancel": institution_object(),
    "manager.shift_roster": institution_object(),
    "manager.mark_absent": institution_object(),
    # coordinator and matching runs
    "coordinator.coverage": Access(roles=COORDINATION, owned=False),
    "coordinator.at_risk": Access(roles=COORDINATION, owned=False),
    # dashboards (scoped inside: a coordinator's numbers are their governorates' only)
    "dashboards.dashboard": Access(roles=COORDINATION, owned=False),
    "dashboards.coverage_csv": Access(roles=COORDINATION, owned=False),
    "dashboards.volunteers_csv": Access(roles=COORDINATION, owned=False),
    "dashboards.retention_csv": Access(roles=COORDINATION, owned=False),
    "dashboards.runs_csv": Access(roles=COORDINATION, owned=False),
    # the public service guide and its map markers (public facts only)
    "guide.index": PUBLIC,
    "guide.governorate": PUBLIC,
    "guide.markers_all": PUBLIC,
    "guide.markers": PUBLIC,
    "matching.history": Access(roles=COORDINATION, owned=False),
    "matching.new": Access(roles=COORDINATION, owned=False),
    "matching.detail": Access(roles=COORDINATION),
    "matching.edit": Access(roles=COORDINATION),
    "matching.publish": Access(roles=COORDINATION),
    "matching.discard": Access(roles=COORDINATION),
    "matching.schedules": Access(roles=("admin",), owned=False),
    "matching.schedule_delete": Access(roles=("admin",)),
    # data import and export (dataio): any staff reaches the pages, imports are coordinators'
    "dataio.index": Access(roles=STAFF, owned=False),
    "dataio.upload": Access(roles=STAFF, owned=False, note="the service refuses managers"),
    "dataio.preview": Access(roles=COORDINATION, note="a pending import is its uploader's only"),
    "dataio.confirm": Access(roles=COORDINATION),
    "dataio.discard": Access(roles=COORDINATION),
    "dataio.export": Access(roles=STAFF, owned=False, note="exports what the caller may see"),
    "dataio.template": Access(roles=STAFF, owned=False),
    # attendance, hours and certificates
    "attendance.check_in": institution_object(),
    "attendance.check_out": institution_object(),
    "attendance.whole_shift": institution_object(),
    "attendance.hours": institution_object(),
    "attendance.qr": institution_object(),
    "attendance.scan": Access(
        roles=("volunteer",),
        owned=False,
        note="the service refuses, with a message and nothing written, anyone without a place",
    ),
    "attendance.my_hours": VOLUNTEER_SELF,
    "attendance.certificate_new": VOLUNTEER_SELF,
    "attendance.certificate_pdf": volunteer_object(),
    "attendance.no_shows": Access(roles=COORDINATION, owned=False),
    "attendance.history": Access(roles=COORDINATION),
    "attendance.certificate_lookup": PUBLIC,
    "attendance.certificate_public": PUBLIC,
    # privacy (the caller's own data; the admin's access log)
    "privacy.my_data": ANY_ACCOUNT,
    "privacy.download": ANY_ACCOUNT,
    "privacy.erase": ANY_ACCOUNT,
    "privacy.access_log": Access(roles=("admin",), owned=False),
    # programmes: volunteers see every open programme and cohort (to apply); coordinators only
    # those of their governorates (tests/web/programmes checks that scope)
    "programmes.index": Access(roles=("volunteer", *COORDINATION), owned=False),
    "programmes.programme_new": Access(roles=COORDINATION, owned=False),
    "programmes.programme": Access(
        roles=("volunteer", *COORDINATION), owned=False, note="open programmes are for everyone"
    ),
    "programmes.programme_edit": Access(roles=COORDINATION),
    "programmes.cohort_new": Access(roles=COORDINATION),
    "programmes.cohort_edit": Access(roles=COORDINATION),
    "programmes.cohort": Access(
        roles=("volunteer", *COORDINATION), owned=False, note="open cohorts are for everyone"
    ),
    "programmes.apply": Access(
        roles=("volunteer",), owned=False, note="any volunteer may apply to an open cohort"
    ),
    "programmes.sessions_new": Access(roles=COORDINATION),
    "programmes.decide": Access(roles=COORDINATION),
    "programmes.accreditation": Access(roles=COORDINATION),
    "programmes.withdraw": volunteer_object(),
    # accreditation (credentials) and the calendar feed
    "credentials.mine": VOLUNTEER_SELF,
    "credentials.remove": volunteer_object(),
    "credentials.document": Access(
        roles=("volunteer", "coordinator", "admin"),
        note="the owner and coordinators of the owner's governorate; never managers",
    ),
    "credentials.queue": Access(roles=COORDINATION, owned=False),
    "credentials.verify": Access(roles=COORDINATION),
    "credentials.reject": Access(roles=COORDINATION),
    "calendar.settings": VOLUNTEER_SELF,
    "calendar.new_link": VOLUNTEER_SELF,
    "calendar.revoke": VOLUNTEER_SELF,
    "calendar.feed": Access(
        roles=EVERYONE, owned=False, note="no login: the random token is the key (404 otherwise)"
    ),
    # monitoring: a report is its author's and the monitoring coordinators' only (404 to anyone
    # else, the institution's managers included: tests/web/programmes/test_monitoring.py)
    "monitoring.visits": VOLUNTEER_SELF,
    "monitoring.report_new": volunteer_object(),
    "monitoring.reports": Access(
        roles=COORDINATION, owned=False, note="403 without the monitoring role; scope filtered"
    ),
    "monitoring.report": Access(roles=("volunteer", *COORDINATION)),
    "monitoring.photo": Access(roles=("volunteer", *COORDINATION)),
    "monitoring.move": Access(roles=COORDINATION),
    "monitoring.roles": Access(roles=("admin",), owned=False),
    "monitoring.role_toggle": Access(roles=("admin",)),
    # admin
    "admin.users": Access(roles=("admin",), owned=False),
    "admin.user_new": Access(roles=("admin",), owned=False),
    "admin.user_edit": Access(roles=("admin",)),
    "admin.user_deactivate": Access(roles=("admin",)),
    "admin.user_reactivate": Access(roles=("admin",)),
}

# Signed webhooks: the only POST routes without a CSRF token (the CSRF test checks this list).
CSRF_EXEMPT = {"sms.inbound", "sms.status"}


# --- the world the matrix runs in ---------------------------------------------------------------


@dataclass
class World:
    """Test users in Cairo ("me"), owners in Alexandria ("other"), and what URLs name."""

    factory: Any
    me: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)
    other_institution: Any = None
    values: dict[str, Any] = field(default_factory=dict)

    def value(self, argument: str) -> Any:
        """The value of a URL argument (built once from ``ARGUMENTS``)."""
        if argument not in self.values:
            self.values[argument] = ARGUMENTS[argument](self)
        return self.values[argument]

    def obj(self, model: Any, argument: str) -> Any:
        from web.extensions import db

        return db.session.get(model, self.value(argument))


def build_world(factory: Any) -> World:
    """Everyone the matrix logs in as, and the other owners' institution."""
    admin = factory.user("admin")
    world = World(factory=factory)
    for side, code in (("me", "EG-C"), ("other", "EG-ALX")):
        people = getattr(world, side)
        lat, lon = (30.05, 31.24) if code == "EG-C" else (31.2, 29.92)
        people["volunteer"] = factory.volunteer(governorate=code, lat=lat, lon=lon)
        people["manager"] = factory.user("manager")
        people["coordinator"] = factory.user(
            "coordinator", governorates=[factory.governorate(code)]
        )
        people["admin"] = admin
        institution = factory.institution(
            managers=(people["manager"],), governorate=code, lat=lat + 0.01, lon=lon
        )
        if side == "other":
            world.other_institution = institution
    return world


# --- URL argument builders: name -> (world -> value of an object that is someone else's) --------


def _opportunity(world: World) -> int:
    return world.factory.opportunity(world.other_institution).id


def _shift(world: World) -> int:
    from web.models import Opportunity

    return world.factory.shift(world.obj(Opportunity, "opportunity_id"), needed=3).id


def _assignment(world: World) -> int:
    from web.models import Shift
    from web.services.signup import sign_up

    return sign_up(world.other["volunteer"], world.obj(Shift, "shift_id")).id


def _run(world: World) -> int:
    from web.services import runs

    alexandria = world.factory.governorate("EG-ALX").id
    world.value("shift_id")  # something to match
    run = runs.start_run(
        world.other["coordinator"],
        "governorates",
        [alexandria],
        *runs.default_window(7),
        time_limit_s=5,
    )
    return run.id


def _schedule(world: World) -> int:
    from web.extensions import db
    from web.models import MatchingSchedule

    alexandria = world.factory.governorate("EG-ALX").id
    schedule = MatchingSchedule(
        name="Alexandria nightly", scope_kind="governorates", scope_ids=[alexandria]
    )
    db.session.add(schedule)
    db.session.commit()
    return schedule.id


def _message(world: World) -> int:
    from web.extensions import db
    from web.models import OutboundMessage

    volunteer = world.other["volunteer"]
    message = OutboundMessage(
        idempotency_key="authz-matrix",
        kind="reminder",
        user_id=volunteer.id,
        to_number=volunteer.phone,
        body="someone else's message",
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def _rule(world: World) -> int:
    return world.other["volunteer"].profile.availability_rules[0].id


def _exception(world: World) -> int:
    from web.extensions import db
    from web.models import AvailabilityException

    exception = AvailabilityException(
        profile_id=world.other["volunteer"].profile.id,
        day=date.today() + timedelta(days=5),
        available=False,
    )
    db.session.add(exception)
    db.session.commit()
    return exception.id


def _reset_token(world: World) -> str:
    from flask import current_app

    from web.services import password_reset

    password_reset.request_reset(world.other["volunteer"].email)
    body = current_app.extensions["sent_mail"][-1].get_content()
    return re.search(r"/reset-password/(\S+)", body).group(1)


def _import(world: World) -> int:
    from web.services import imports

    csv = "Full name,Mobile phone,Governorate\nMona Ahmed,010 1234 5678,Alexandria\n"
    return imports.upload(world.other["coordinator"], "volunteers", csv.encode(), "v.csv").id


def _scan_token(world: World) -> str:
    from web.models import Shift
    from web.services import attendance

    return attendance.qr_token(world.obj(Shift, "shift_id"))


def _certificate(world: World) -> Any:
    """A certificate of the other volunteer, for a shift they attended a week ago."""
    from datetime import UTC, datetime

    from web.extensions import db
    from web.models import Assignment, Opportunity
    from web.services import attendance, certificates

    if "_certificate" not in world.values:
        opportunity = world.obj(Opportunity, "opportunity_id")
        start = datetime.now(UTC) - timedelta(days=7)
        past = world.factory.shift(opportunity, start=start, needed=1)
        seat = Assignment(
            shift_id=past.id, volunteer_id=world.other["volunteer"].id, state="confirmed"
        )
        past.open_taken = 1
        db.session.add(seat)
        db.session.commit()
        attendance.record_whole_shift(world.other["manager"], seat)
        world.values["_certificate"] = certificates.issue(world.other["volunteer"], "en")
    return world.values["_certificate"]


def _programme(world: World) -> int:
    from web.services import programmes

    programme = programmes.create_programme(
        world.other["coordinator"],
        programmes.ProgrammeInput(
            kind="sports",
            governorate_id=world.other_institution.governorate_id,
            name_en="Alexandria football",
            institution_ids=(world.other_institution.id,),
        ),
    )
    return programme.id


def _cohort(world: World) -> int:
    from web.models import Programme
    from web.services import programmes

    cohort = programmes.create_cohort(
        world.other["coordinator"],
        world.obj(Programme, "programme_id"),
        programmes.CohortInput("", "Spring", date.today(), date.today() + timedelta(days=90), 9),
    )
    return cohort.id


def _enrolment(world: World) -> int:
    from web.models import Cohort
    from web.services import programmes

    cohort = world.obj(Cohort, "cohort_id")
    return programmes.apply(world.other["volunteer"], cohort, "I play football").id


def _credential(world: World) -> int:
    import io

    from web.extensions import db
    from web.models import CredentialType, VolunteerCredential
    from web.services import uploads

    owner = world.other["volunteer"]
    document = uploads.save_upload(io.BytesIO(b"%PDF-1.4 other"), "credential_document")
    kind = db.session.scalars(db.select(CredentialType).order_by(CredentialType.id)).first()
    credential = VolunteerCredential(
        volunteer_id=owner.id,
        credential_type_id=kind.id,
        issued_on=date.today() - timedelta(days=30),
        status="pending",
        document=document,
        rejection_reason="",
    )
    db.session.add(credential)
    db.session.commit()
    return credential.id


def _feed_token(world: World) -> str:
    from web.services import calendar_feed

    return calendar_feed.issue_token(world.other["volunteer"])


def _visit(world: World) -> int:
    """A monitoring visit (a past shift of a monitoring cohort) the other volunteer went on."""
    from datetime import UTC, datetime

    from web.extensions import db
    from web.models import Assignment
    from web.services import programmes

    coordinator = world.other["coordinator"]
    programme = programmes.create_programme(
        coordinator,
        programmes.ProgrammeInput(
            kind="monitoring_visits",
            governorate_id=world.other_institution.governorate_id,
            name_en="Alexandria visits",
            institution_ids=(world.other_institution.id,),
        ),
    )
    cohort = programmes.create_cohort(
        coordinator,
        programme,
        programmes.CohortInput("", "Monitors", date.today(), date.today(), 3),
    )
    opportunity = programmes.cohort_opportunity(coordinator, cohort, world.other_institution)
    db.session.commit()
    start = datetime.now(UTC) - timedelta(hours=2)
    shift = world.factory.shift(opportunity, start=start, hours=1, needed=1)
    db.session.add(
        Assignment(shift_id=shift.id, volunteer_id=world.other["volunteer"].id, state="confirmed")
    )
    shift.open_taken = 1
    db.session.commit()
    return shift.id


def _report(world: World) -> int:
    """The other volunteer's report of their visit, with a photo."""
    import io

    from web.models import Shift
    from web.services import monitoring

    shift = world.obj(Shift, "visit_id")
    photo = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    photo.filename = "room.png"  # type: ignore[attr-defined]
    answers = {code: "yes" for code, _label in monitoring.checklist_for(shift.institution.kind)}
    data = monitoring.ReportInput(answers=answers, notes="", severity="minor", photos=[photo])
    return monitoring.file_report(world.other["volunteer"], shift, data).id


def _report_photo(world: World) -> int:
    from web.models import MonitoringReport

    return world.obj(MonitoringReport, "report_id").photos[0].id


ARGUMENTS: dict[str, Callable[[World], Any]] = {
    "filename": lambda world: "css/app.css",
    "user_id": lambda world: world.other["volunteer"].id,
    "institution_id": lambda world: world.other_institution.id,
    "opportunity_id": _opportunity,
    "shift_id": _shift,
    "assignment_id": _assignment,
    "answer": lambda world: "accept",
    "run_id": _run,
    "schedule_id": _schedule,
    "message_id": _message,
    "rule_id": _rule,
    "exception_id": _exception,
    "token": _reset_token,
    "import_id": _import,
    "scan_token": _scan_token,
    "certificate_id": lambda world: _certificate(world).id,
    "code": lambda world: _certificate(world).code,
    "governorate_code": lambda world: "EG-ALX",
    "programme_id": _programme,
    "cohort_id": _cohort,
    "enrolment_id": _enrolment,
    "credential_id": _credential,
    "feed_token": _feed_token,
    "visit_id": _visit,
    "report_id": _report,
    "photo_id": _report_photo,
}
