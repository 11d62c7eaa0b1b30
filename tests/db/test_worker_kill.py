"""kill -9 of the worker in the middle of sending or publishing loses and doubles nothing.

The worker's jobs run in a child process against the test database; the parent kills it with
SIGKILL at the worst moment (the provider has the request, the database does not know yet, or a
publish is half written), then a fresh worker carries on. A fake Twilio keeps a journal on disk
of every message it accepted, so doubles are counted across processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from web.config import ROOT
from web.extensions import db
from web.models import Assignment, MatchingRun, OutboundMessage, Shift
from web.services import messaging, places, runs

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from datetime import timedelta
    from twilio.http.response import Response
    from tests.conftest import make_app
    from tests.web.sms.conftest import ACCOUNT, FROM, TOKEN, FakeTwilioHttp
    from web.extensions import db
    from web.jobs_sms import send_due_messages
    from web.models import utcnow
    from web.services.messaging import SUBMIT_RECONCILE_AFTER, reconcile_submitting
    from web.worker import poll_runs

    journal, action = sys.argv[2], sys.argv[3]
    hang_on = int(os.environ.get("HANG_ON_POST", "0"))  # the POST to hang in (1 = first)
    received = os.environ.get("HANG_RECEIVED") == "1"  # did the provider get that one?

    def provider_log():
        if not os.path.exists(journal):
            return []
        with open(journal) as fh:
            return [json.loads(line) for line in fh]

    class JournalTwilio(FakeTwilioHttp):
        def request(self, method, url, params=None, data=None, **kw):
            if method == "GET":  # the lookup: what the provider has for that number
                self.listed = [
                    {"sid": m["sid"], "to": m["to"], "body": m["body"], "status": "sent",
                     "account_sid": ACCOUNT}
                    for m in provider_log() if m["to"] == (params or {}).get("To")
                ]
                return super().request(method, url, params=params, data=data, **kw)
            self.n += 1
            posts = self.n
            sid = "SM%032d" % (len(provider_log()) + 1)
            if posts != hang_on or received:
                with open(journal, "a") as fh:
                    entry = {"sid": sid, "to": data["To"], "body": data["Body"]}
                    fh.write(json.dumps(entry) + "\\n")
            if posts == hang_on:
                open(journal + ".hanging", "w").close()
                time.sleep(600)  # the parent kills us here
            payload = {"sid": sid, "status": "queued", "to": data["To"], "body": data["Body"],
                       "account_sid": ACCOUNT}
            return Response(201, json.dumps(payload))

    app = make_app(sys.argv[1], SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID=ACCOUNT,
                   TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM=FROM, TWILIO_MESSAGING_SERVICE_SID=None,
                   PUBLIC_BASE_URL="https://volunteers.example.org")
    app.extensions["twilio_http_client"] = JournalTwilio()
    if action == "send":
        print(json.dumps(send_due_messages(app)))
    elif action == "reconcile":
        with app.app_context():
            later = utcnow() + SUBMIT_RECONCILE_AFTER + timedelta(minutes=1)
            print(json.dumps(reconcile_submitting(later)))
            db.session.remove()
        print(json.dumps(send_due_messages(app)))
    elif action == "solve":
        print(json.dumps(poll_runs(app)))
    """
)


def start_worker(database_url: str, journal: Path, action: str, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, database_url, str(journal), action],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    return out


def kill_when(process: subprocess.Popen, marker: Path) -> None:
    """SIGKILL the worker once it has written ``marker`` (it then waits to be killed)."""
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the worker never reached the point to kill it at"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # reaps it and closes its pipes
    assert process.returncode == -signal.SIGKILL


def provider_log(journal: Path) -> list[dict[str, str]]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines()]


def statuses() -> dict[int, str]:
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(OutboundMessage.user_id, OutboundMessage.status).order_by(OutboundMessage.id)
        )
        .tuples()
        .all()
    )


def afternoon_zone() -> str:
    """A fixed-offset zone where it is about 14:00 now: outside the quiet hours (22:00-08:00
    local) whatever the hour the suite runs, so the offers are due at once."""
    from datetime import UTC, datetime

    offset = 14 - datetime.now(UTC).hour  # -9 .. +14
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"  # Etc/GMT-3 is UTC+3


@pytest.fixture
def three_offers(factory):
    """Three volunteers who agreed to SMS, each with an offer message due now."""
    shift = factory.shift(needed=3)
    users = []
    for n in range(3):
        volunteer = factory.volunteer(lat=30.05 + n * 0.001, lon=31.24)
        volunteer.profile.sms_consent = True
        volunteer.profile.timezone = afternoon_zone()
        db.session.commit()
        assert places.offer(shift, volunteer.id, None)[0]
        db.session.flush()
        assignment = db.session.scalars(
            sa.select(Assignment).where(Assignment.volunteer_id == volunteer.id)
        ).one()
        messaging.queue_offer(assignment)
        db.session.commit()
        users.append(volunteer.id)
    db.session.remove()
    return users


@pytest.mark.parametrize("provider_got_it", [True, False], ids=["provider-got-it", "never-sent"])
def test_killed_mid_send_sends_each_message_once_and_loses_none(
    three_offers, database_url, tmp_path, provider_got_it
):
    journal = tmp_path / "twilio.jsonl"
    worker = start_worker(
        database_url,
        journal,
        "send",
        HANG_ON_POST="2",
        HANG_RECEIVED="1" if provider_got_it else "0",
    )
    kill_when(worker, Path(str(journal) + ".hanging"))

    first, second, third = three_offers
    assert statuses() == {first: "queued", second: "submitting", third: "pending"}
    assert len(provider_log(journal)) == (2 if provider_got_it else 1)

    # A fresh worker: the pending one goes out, the one in doubt is looked up, never resent.
    finish(start_worker(database_url, journal, "reconcile"))
    sent = provider_log(journal)
    assert sorted(m["to"] for m in sent) == sorted({m["to"] for m in sent}), "a message went twice"
    assert len(sent) == (3 if provider_got_it else 2)
    after = statuses()
    assert after[first] == "queued" and after[third] == "queued"
    # Found at the provider, or surfaced for a person to resend: never lost, never doubled.
    assert after[second] == ("sent" if provider_got_it else "unconfirmed")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundMessage)) == 3

    # Running the worker again changes nothing and sends nothing.
    finish(start_worker(database_url, journal, "send"))
    assert provider_log(journal) == sent
    assert statuses() == after


def test_killed_mid_publish_the_worker_keeps_the_proposal_and_offers_once(
    factory, database_url, tmp_path
):
    institution = factory.institution(lat=30.06, lon=31.25, governorate="EG-C")
    shift = factory.shift(factory.opportunity(institution), needed=2)
    for n in range(3):
        factory.volunteer(lat=30.05 + n * 0.001, lon=31.24)
    coordinator = factory.user("coordinator", national_scope=True)
    run = runs.start_run(coordinator, "national", [], *runs.default_window(7), auto_publish=True)
    run_id, shift_id = run.id, shift.id
    db.session.remove()

    worker = start_worker(database_url, tmp_path / "j", "solve", VM_CRASH_AT="mid_offers")
    worker.communicate(timeout=180)
    assert worker.returncode == -signal.SIGKILL  # killed with SIGKILL half way through its offers

    run = db.session.get(MatchingRun, run_id)
    assert run.status == "proposed" and len(run.proposals) == 2  # the solution is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    assert db.session.get(Shift, shift_id).open_taken == 0

    # The next worker finishes the publish its predecessor died in, once.
    for _ in range(2):
        finish(start_worker(database_url, tmp_path / "j", "solve"))
        db.session.expire_all()
        assert db.session.get(MatchingRun, run_id).status == "published"
        offers = db.session.scalars(
            sa.select(Assignment).where(Assignment.shift_id == shift_id)
        ).all()
        assert len(offers) == 2 and {a.state for a in offers} == {"offered"}
        assert db.session.get(Shift, shift_id).open_taken == 2
