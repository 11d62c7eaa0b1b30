"""CSRF: every POST route of the URL map refuses a post without the form's token (400), writes
nothing, and only the signed webhooks listed in the registry are exempt."""

from __future__ import annotations

from flask import Flask

from tests.conftest import login
from tests.web.security.conftest import snapshot
from tests.web.security.registry import CSRF_EXEMPT, build_world
from tests.web.security.test_authz_matrix import REGISTRY, calls, unregistered

EXPIRED = {
    "en": "Your form expired or was sent from elsewhere. Please reload and try again.",
    "ar": "انتهت صلاحية النموذج أو أُرسل من مكان آخر. يُرجى إعادة تحميل الصفحة والمحاولة مرة أخرى.",
}


def exempt_endpoints(app: Flask) -> set[str]:
    """Endpoints whose views Flask-WTF skips."""
    csrf = app.extensions["csrf"]
    exempt = set()
    for endpoint, view in app.view_functions.items():
        name = f"{view.__module__}.{view.__name__}"
        if name in csrf._exempt_views or view.__module__ in csrf._exempt_blueprints:
            exempt.add(endpoint)
    return exempt


def csrf_problems(app: Flask, world, language: str = "en") -> list[str]:
    missing = unregistered(app)
    if missing:
        return missing
    problems = []
    exempt = exempt_endpoints(app)
    if exempt - CSRF_EXEMPT:
        problems.append(
            f"{sorted(exempt - CSRF_EXEMPT)} skip CSRF: only signed webhooks may "
            f"(list them in CSRF_EXEMPT of {REGISTRY} and check their signature)"
        )
    posts = [
        call for call in calls(app, world) if call.method in ("POST", "PUT", "PATCH", "DELETE")
    ]
    assert len(posts) > 20
    anonymous = app.test_client()
    clients = {ANON: anonymous}
    for role, user in world.other.items():  # the objects' owners: the post would really act
        clients[role] = app.test_client()
        login(clients[role], user)
    for call in posts:
        if call.endpoint in CSRF_EXEMPT:
            response = anonymous.post(call.url)
            if response.status_code != 403:
                problems.append(f"unsigned {call.url} answered {response.status_code}, not 403")
            continue
        for role, client in clients.items():
            response = client.open(
                call.url, method=call.method, data={"x": "1"}, headers={"Accept-Language": language}
            )
            page = response.get_data(as_text=True)
            if response.status_code != 400 or EXPIRED[language] not in page:
                problems.append(
                    f"{role} {call.method} {call.url} ({call.endpoint}) without a CSRF token "
                    f"answered {response.status_code}, expected 400 with the expired-form message"
                )
    return problems


ANON = "anonymous"


def test_every_post_route_needs_the_csrf_token_and_writes_nothing(other_app, factory):
    app = other_app(WTF_CSRF_ENABLED=True)
    world = build_world(factory)
    calls(app, world)  # every object the URLs name exists before the snapshot
    before = snapshot()
    problems = csrf_problems(app, world)
    assert problems == [], "\n".join(problems)
    assert snapshot() == before


def test_the_refusal_is_in_arabic_too(other_app, factory):
    app = other_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/register", data={}, headers={"Accept-Language": "ar"})
    assert response.status_code == 400
    assert EXPIRED["ar"] in response.get_data(as_text=True)


def test_the_csrf_test_catches_an_exempted_route(other_app, factory, monkeypatch):
    from tests.web.security import registry
    from web.extensions import csrf

    app = other_app(WTF_CSRF_ENABLED=True)

    @app.post("/language/quick", endpoint="public.quick_language")
    @csrf.exempt
    def quick_language() -> str:
        return "changed"

    monkeypatch.setitem(registry.ROUTES, "public.quick_language", registry.PUBLIC)
    problems = csrf_problems(app, build_world(factory))
    assert any("public.quick_language" in p and "skip CSRF" in p for p in problems)
    assert any(
        "POST /language/quick (public.quick_language) without a CSRF token answered 200" in p
        for p in problems
    )
