"""Authorisation: role checks for views and the scope rules of managers and coordinators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from web.models import Institution, Programme, User

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str) -> Callable[[F], F]:
    """Require a logged-in user with one of ``roles`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def can_manage_institution(user: User, institution: Institution) -> bool:
    """Admins manage every institution; managers only theirs; coordinators those in scope."""
    if user.role == "admin":
        return True
    if user.role == "manager":
        return any(i.id == institution.id for i in user.managed_institutions)
    if user.role == "coordinator":
        scope = user.governorate_ids()
        return scope is None or institution.governorate_id in scope
    return False


def require_institution(user: User, institution: Institution | None) -> Institution:
    """404 for a missing institution, 403 for one the user may not manage."""
    if institution is None:
        abort(404)
    if not can_manage_institution(user, institution):
        abort(403)
    return institution


def can_manage_programme(user: User, programme: Programme) -> bool:
    """Admins manage every programme; coordinators those of a governorate in their scope."""
    if user.role == "admin":
        return True
    if user.role == "coordinator":
        scope = user.governorate_ids()
        return scope is None or programme.governorate_id in scope
    return False
