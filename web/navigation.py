"""The site navigation: which links each role sees."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

_LINKS = {
    "anonymous": [
        ("opportunities.browse", _l("Opportunities")),
        ("guide.index", _l("Service guide")),
        ("auth.register", _l("Register")),
        ("auth.login", _l("Log in")),
    ],
    "volunteer": [
        ("opportunities.browse", _l("Opportunities")),
        ("volunteer.shifts", _l("Shifts I can do")),
        ("volunteer.my_shifts", _l("My shifts")),
        ("attendance.my_hours", _l("My hours")),
        ("programmes.index", _l("Programmes")),
        ("monitoring.visits", _l("Monitoring visits")),
        ("volunteer.availability", _l("Availability")),
        ("guide.index", _l("Service guide")),
        ("credentials.mine", _l("My credentials")),
        ("volunteer.profile", _l("Profile")),
        ("auth.account", _l("Account")),
    ],
    "manager": [
        ("manager.dashboard", _l("My institutions")),
        ("opportunities.browse", _l("Opportunities")),
        ("auth.account", _l("Account")),
    ],
    "coordinator": [
        ("coordinator.coverage", _l("Coverage")),
        ("dashboards.dashboard", _l("Dashboard")),
        ("coordinator.at_risk", _l("Shifts at risk")),
        ("attendance.no_shows", _l("No-shows")),
        ("credentials.queue", _l("Credentials to verify")),
        ("matching.history", _l("Matching runs")),
        ("programmes.index", _l("Programmes")),
        ("monitoring.reports", _l("Monitoring reports")),
        ("dataio.index", _l("Import and export")),
        ("opportunities.browse", _l("Opportunities")),
        ("auth.account", _l("Account")),
    ],
    "admin": [
        ("coordinator.coverage", _l("Coverage")),
        ("dashboards.dashboard", _l("Dashboard")),
        ("coordinator.at_risk", _l("Shifts at risk")),
        ("attendance.no_shows", _l("No-shows")),
        ("credentials.queue", _l("Credentials to verify")),
        ("matching.history", _l("Matching runs")),
        ("programmes.index", _l("Programmes")),
        ("monitoring.reports", _l("Monitoring reports")),
        ("admin.users", _l("Staff accounts")),
        ("monitoring.roles", _l("Monitoring role")),
        ("sms.outbox", _l("Messages")),
        ("dataio.index", _l("Import and export")),
        ("manager.dashboard", _l("Institutions")),
        ("auth.account", _l("Account")),
    ],
}


def nav_links() -> list[tuple[str, str]]:
    """Links for the current user's role, keeping only endpoints the app has."""
    role = current_user.role if current_user.is_authenticated else "anonymous"
    views = current_app.view_functions
    return [
        (endpoint, str(label))
        for endpoint, label in _LINKS[role]
        if endpoint in views and _shown(endpoint)
    ]


def _shown(endpoint: str) -> bool:
    """Links only some users of a role may follow."""
    if endpoint == "monitoring.reports":
        return bool(getattr(current_user, "is_monitoring_coordinator", False))
    return True


def safe_next(target: str | None) -> str | None:
    """Return ``target`` when it is a path on this site, else ``None`` (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
