"""Authorisation matrix from app.url_map: every route x every role x someone else's object.

Routes and URL arguments are declared in tests/web/security/registry.py; a route or argument that
is not there fails the test with a message naming it (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient

from tests.conftest import login
from tests.web.security.registry import ANONYMOUS, ARGUMENTS, ROUTES, Access, World, build_world

REGISTRY = "tests/web/security/registry.py"
REFUSED = (403, 404)


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    url: str
    access: Access
    has_object: bool


def routes(app: Flask) -> list[tuple[str, list[str], list[str]]]:
    """(endpoint, methods, argument names) of every rule of the URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found.append((rule.endpoint, methods, sorted(rule.arguments)))
    return sorted(found)


def unregistered(app: Flask) -> list[str]:
    """What the registry is missing, as messages saying where to add it."""
    problems = []
    for endpoint, _methods, arguments in routes(app):
        if endpoint not in ROUTES:
            problems.append(
                f"route {endpoint!r} is not in ROUTES of {REGISTRY}: say who may call it"
            )
        for argument in arguments:
            if argument not in ARGUMENTS:
                problems.append(
                    f"URL argument {argument!r} of {endpoint!r} is not in ARGUMENTS of {REGISTRY}:"
                    " add a builder that creates such an object belonging to someone else"
                )
    return sorted(set(problems))


def calls(app: Flask, world: World) -> list[Call]:
    built = []
    for endpoint, methods, arguments in routes(app):
        values = {argument: world.value(argument) for argument in arguments}
        with app.test_request_context():
            url = url_for(endpoint, **values)
        for method in methods:
            built.append(Call(endpoint, method, url, ROUTES[endpoint], bool(arguments)))
    return built


def clients(app: Flask, people: dict[str, Any]) -> dict[str, FlaskClient]:
    made = {ANONYMOUS: app.test_client()}
    for role, user in people.items():
        made[role] = app.test_client()
        login(made[role], user)
    return made


def send(client: FlaskClient, call: Call) -> Any:
    response = client.open(call.url, method=call.method, headers={"Accept-Language": "en"})
    response.close()
    return response


def refusal_problem(role: str, call: Call, response: Any) -> str | None:
    """Why this answer is not a refusal (None: refused as it should be)."""
    status = response.status_code
    if role == ANONYMOUS and not call.access.signed:
        location = response.headers.get("Location", "")
        if status in (301, 302, 303) and location.split("?")[0].endswith("/login"):
            return None
    if status in REFUSED:
        return None
    return f"{role} {call.method} {call.url} ({call.endpoint}) answered {status}, expected 403/404"


def expected_refusals(call: Call) -> list[str]:
    """The roles that must be refused this call."""
    access = call.access
    if access.signed:
        return [ANONYMOUS, "volunteer", "manager", "coordinator", "admin"]
    refused = [
        role
        for role in (ANONYMOUS, "volunteer", "manager", "coordinator", "admin")
        if role not in access.roles
    ]
    if access.owned and call.has_object:
        refused += [role for role in access.roles if role not in (ANONYMOUS, "admin")]
    return refused


def matrix_problems(app: Flask, world: World) -> list[str]:
    """Run every route x role x other owner's object; return what was not refused."""
    missing = unregistered(app)
    if missing:
        return missing
    strangers = clients(app, world.me)
    owners = clients(app, world.other)
    problems = []
    all_calls = calls(app, world)
    for call in all_calls:
        for role in expected_refusals(call):
            response = send(strangers[role], call)
            problem = refusal_problem(role, call, response)
            if problem:
                problems.append(problem)
    # The objects are real: whoever may open a GET page with an object can (else a 404 for
    # everyone would pass above without proving anything).
    for call in all_calls:
        if call.method != "GET" or not call.has_object or call.access.signed:
            continue
        answers = {role: send(owners[role], call).status_code for role in call.access.roles}
        if 200 not in answers.values():
            problems.append(
                f"nobody may open {call.url} ({call.endpoint}): {answers}; the ARGUMENTS builder "
                f"in {REGISTRY} must create a real object its owner can see"
            )
    return problems


def test_every_route_refuses_every_role_that_may_not_use_it(app, factory):
    world = build_world(factory)
    problems = matrix_problems(app, world)
    assert problems == [], "\n".join(problems)


def test_a_new_route_without_a_registry_entry_fails_with_where_to_add_it(other_app, factory):
    app = other_app()

    @app.get("/manage/widgets/<int:widget_id>", endpoint="manager.widget")
    def widget(widget_id: int) -> str:
        return "ok"

    problems = unregistered(app)
    assert problems == [
        f"URL argument 'widget_id' of 'manager.widget' is not in ARGUMENTS of {REGISTRY}: add a "
        "builder that creates such an object belonging to someone else",
        f"route 'manager.widget' is not in ROUTES of {REGISTRY}: say who may call it",
    ]


def test_the_matrix_catches_a_route_that_forgets_the_scope_check(other_app, factory, monkeypatch):
    """A manager page that checks the role but not the institution is reported."""
    from flask import abort
    from flask_login import current_user

    from web.authz import role_required
    from web.extensions import db
    from web.models import Institution

    app = other_app()

    @app.get("/manage/institutions/<int:institution_id>/leaky", endpoint="manager.leaky")
    @role_required("manager", "coordinator", "admin")
    def leaky(institution_id: int) -> str:
        institution = db.session.get(Institution, institution_id) or abort(404)
        return f"{institution.name_en} for {current_user.id}"  # no require_institution()

    monkeypatch.setitem(ROUTES, "manager.leaky", Access(roles=("manager", "coordinator", "admin")))
    world = build_world(factory)
    problems = [p for p in matrix_problems(app, world) if "leaky" in p]
    assert [p.split(" ", 2)[:2] for p in problems] == [["manager", "GET"], ["coordinator", "GET"]]
    assert all("answered 200, expected 403/404" in p for p in problems)


def test_registry_has_no_stale_routes(app):
    stale = sorted(set(ROUTES) - set(app.view_functions))
    assert stale == [], f"remove these from ROUTES of {REGISTRY}: the app has no such route"
