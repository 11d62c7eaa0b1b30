"""Admin pages: every account (filter, search), new staff accounts, scopes and deactivation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from babel.lists import format_list
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from web.authz import role_required
from web.blueprints.auth import attach_error, role_label
from web.extensions import db
from web.forms.admin import ScopeForm, StaffForm, UserFilterForm
from web.forms.auth import PostForm
from web.forms.fields import parse_int_arg
from web.models import Institution, User
from web.services import accounts

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "role_label": role_label,
        "min_password": accounts.PASSWORD_MIN,
        "join_names": join_names,
    }


def join_names(names: Iterable[str]) -> str:
    """Join names as a list in the active language ("a, b and c" / "أ و ب و ج")."""
    items = [str(name) for name in names]
    return format_list(items, locale=get_locale() or "ar") if items else ""


def _offer_scope_choices(form: ScopeForm) -> None:
    institutions = db.session.execute(sa.select(Institution)).scalars()
    form.institutions.choices = [
        (str(i.id), f"{i.name} · {i.governorate.name}")
        for i in sorted(institutions, key=lambda i: (i.governorate.name, i.name))
    ]
    form.governorates.choices = [(g.code, g.name) for g in accounts.governorates_by_name()]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@role_required("admin")
def users() -> tuple[str, int]:
    """Every account, newest first, filtered by role and a search."""
    form = UserFilterForm(request.args)
    valid = form.validate()
    page = parse_int_arg(request.args.get("page")) or 1
    result = accounts.search_users(
        role=form.role.data if valid else None,
        query=form.q.data if valid else None,
        page=page,
    )
    return (
        render_template("admin/users.html", form=form, result=result, action_form=PostForm()),
        200 if valid else 400,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def user_new() -> Response | tuple[str, int]:
    """Create a manager, coordinator or admin account."""
    form = StaffForm()
    _offer_scope_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_staff(
                current_user,
                role=form.role.data,
                full_name=form.full_name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
                institution_ids=form.institution_ids(),
                governorate_codes=form.governorates.data or [],
                national=bool(form.national.data),
                locale=form.locale.data or None,
            )
        except accounts.AccountError as exc:
            attach_error(form, exc)
            status = exc.status
        else:
            flash(_("The account of %(name)s has been created.", name=user.full_name), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    elif request.method == "POST":
        status = 400
    return render_template("admin/user_new.html", form=form), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_edit(user_id: int) -> Response | tuple[str, int]:
    """One account: its details, and for managers and coordinators the scope (a POST saves it)."""
    user = _user_or_404(user_id)
    has_scope = user.role in ("manager", "coordinator")
    form = ScopeForm(
        # Explicit, so that deselecting everything still counts as a submitted form.
        formdata=request.form if request.method == "POST" else None,
        institutions=[str(i.id) for i in user.managed_institutions],
        governorates=[g.code for g in user.governorates],
        national=user.national_scope,
    )
    _offer_scope_choices(form)
    status = 200
    if request.method == "POST":
        if not has_scope:
            abort(400)
        if form.validate_on_submit():
            try:
                accounts.update_staff_scope(
                    current_user,
                    user,
                    institution_ids=form.institution_ids(),
                    governorate_codes=form.governorates.data or [],
                    national=bool(form.national.data),
                )
            except accounts.AccountError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status
            else:
                flash(_("The scope has been saved."), "success")
                return redirect(url_for("admin.user_edit", user_id=user.id))
        else:
            status = 400
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            form=form if has_scope else None,
            action_form=PostForm(formdata=None),
        ),
        status,
    )


def _set_active(user_id: int, active: bool) -> Response | tuple[str, int]:
    user = _user_or_404(user_id)
    try:
        accounts.set_active(current_user, user, active)
    except accounts.AccountError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    if active:
        flash(_("%(name)s can log in again.", name=user.full_name), "success")
    else:
        flash(_("%(name)s can no longer log in.", name=user.full_name), "success")
    target = request.form.get("next")
    if target == "list":
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@role_required("admin")
def user_deactivate(user_id: int) -> Response | tuple[str, int]:
    """Deactivate an account: no more log-ins, open sessions end."""
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@role_required("admin")
def user_reactivate(user_id: int) -> Response | tuple[str, int]:
    """Let a deactivated account log in again."""
    return _set_active(user_id, True)
