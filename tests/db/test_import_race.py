"""Two confirmations of one pending import at the same moment create its rows once."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from tests.conftest import Factory
from tests.races import run_together
from web.extensions import db
from web.models import Institution, User

CSV = b"Name in English,Kind,Governorate\nHome A,orphanage,Cairo\nHome B,other,Giza\n"


def test_double_confirmation_creates_the_rows_once(race_app: Flask) -> None:
    from web.services import imports

    with race_app.app_context():
        admin_id = Factory(race_app).user("admin").id
        admin = db.session.get(User, admin_id)
        pending = imports.upload(admin, "institutions", CSV, "homes.csv")
        import_id, sha = pending.id, pending.file_sha256
        db.session.remove()

    outcomes: list[str] = []

    def job():
        actor = db.session.get(User, admin_id)
        pending = db.session.get(imports.DataImport, import_id)
        assert pending is not None

        def step() -> None:
            try:
                imports.confirm(actor, pending, sha)
                outcomes.append("confirmed")
            except imports.ImportFileError:
                outcomes.append("refused")

        return step

    errors = run_together(race_app, [job, job], request_context=True)
    assert errors == []
    assert sorted(outcomes) == ["confirmed", "refused"]
    with race_app.app_context():
        names = db.session.execute(sa.select(Institution.name_en)).scalars().all()
        assert sorted(names) == ["Home A", "Home B"]
        db.session.remove()
