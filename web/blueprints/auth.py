"""Account pages: volunteer sign-up, log-in and log-out, language and password of the account."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from web.extensions import limiter
from web.forms.auth import (
    ROLE_LABELS,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetCodeForm,
    ResetLinkForm,
)
from web.i18n import current_language
from web.models import User
from web.navigation import safe_next
from web.services import accounts, password_reset

bp = Blueprint("auth", __name__)

# Where each role lands after logging in, first endpoint the app has wins.
LANDING = {
    "volunteer": ("volunteer.shifts", "volunteer.profile", "opportunities.browse"),
    "manager": ("manager.dashboard",),
    "coordinator": ("coordinator.coverage",),
    "admin": ("admin.users",),
}


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"min_password": accounts.PASSWORD_MIN, "role_label": role_label}


def role_label(role: str) -> str:
    """The translated name of a role."""
    return str(ROLE_LABELS.get(role, role))


def first_endpoint(*endpoints: str) -> str:
    """The URL of the first of ``endpoints`` the app has, else the home page."""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("public.index")


def landing_for(user: User) -> str:
    """The page a user starts on after logging in."""
    return first_endpoint(*LANDING.get(user.role, ()))


def attach_error(form: FlaskForm, error: accounts.AccountError) -> None:
    """Show a service error beside the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def _start_session(user: User) -> None:
    session.permanent = True  # the cookie lasts PERMANENT_SESSION_LIFETIME, renewed on each visit
    if user.locale:
        session["locale"] = user.locale


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"])
def register() -> Response | tuple[str, int]:
    """Volunteer self sign-up; logs the new volunteer in."""
    if current_user.is_authenticated:
        return redirect(landing_for(current_user))
    form = RegisterForm()
    form.governorate.choices = [("", _("Choose…"))] + [
        (g.id, g.name) for g in accounts.governorates_by_name()
    ]
    if request.method == "GET":
        form.locale.data = current_language()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.register_volunteer(
                full_name=form.full_name.data,
                phone=form.phone.data,
                email=form.email.data,
                password=form.password.data,
                locale=form.locale.data,
                governorate_id=form.governorate.data,
                sms_consent=form.sms_consent.data,
            )
        except accounts.AccountError as exc:
            attach_error(form, exc)
            status = exc.status
        else:
            login_user(user)
            _start_session(user)
            with force_locale(user.locale or current_language()):
                flash(_("Welcome! Your account is ready."), "success")
            return redirect(first_endpoint("sms.verify", "volunteer.profile"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/register.html", form=form), status


def account_key() -> str:
    """Rate-limit key of the account a form names (phone or email), whatever the address.

    Mobile carriers put many phones behind one address, so the per-address limits are generous;
    this key keeps guessing at one account slow from any number of addresses.
    """
    return "account:" + accounts.login_key(request.form.get("identifier"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=account_key,
    scope="login-account",
)
def login() -> Response | tuple[str, int]:
    """Log in with phone or email and password; ``next`` may only be a local path."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or landing_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.identifier.data, form.password.data)
        except accounts.AuthenticationError as exc:
            form.form_errors.append(str(exc.message))
            status = 400
        else:
            login_user(user, remember=bool(form.remember.data))
            _start_session(user)
            return redirect(next_url or landing_for(user))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
def logout() -> Response:
    """Log out (POST only, CSRF-protected like every form)."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        logout_user()
        accounts.record_logout(user)
    return redirect(url_for("public.index"))


def _render_account(
    language_form: LanguageForm, password_form: ChangePasswordForm, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "auth/account.html", language_form=language_form, password_form=password_form
        ),
        status,
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response | tuple[str, int]:
    """The account page; a POST here saves the preferred language."""
    form = LanguageForm(locale=current_user.locale or current_language())
    if form.validate_on_submit():
        accounts.set_locale(current_user, form.locale.data)
        session["locale"] = form.locale.data
        with force_locale(form.locale.data):
            flash(_("Your language has been saved."), "success")
        return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return _render_account(form, ChangePasswordForm(formdata=None), status)


@bp.post("/account/password")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def change_password() -> Response | tuple[str, int]:
    """Change the password of the logged-in user (the current one is required)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.old_password.data, form.new_password.data)
        except accounts.AccountError as exc:
            attach_error(form, exc)
        else:
            # The change ended every session (User.session_version); keep this one.
            login_user(current_user._get_current_object(), fresh=True)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    language_form = LanguageForm(formdata=None, locale=current_user.locale or current_language())
    return _render_account(language_form, form, 400)


# --- forgotten password -------------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=account_key,
    scope="reset-account",
)
def forgot_password() -> Response | tuple[str, int]:
    """Ask for a code by SMS or a link by email; the answer never tells if the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.identifier.data)
        flash(
            _(
                "If an account has this phone number or email, we sent it a code (SMS) or a "
                "link (email). It works for %(num)d minutes.",
                num=password_reset.minutes(),
            ),
            "success",
        )
        session["reset_identifier"] = form.identifier.data
        if "@" in form.identifier.data:
            return redirect(url_for("auth.login"))
        return redirect(url_for("auth.reset_password"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=account_key,
    scope="reset-code-account",
)
def reset_password() -> Response | tuple[str, int]:
    """Choose a new password with the code from the SMS (phone or email, code, password)."""
    form = ResetCodeForm()
    if request.method == "GET":
        form.identifier.data = session.get("reset_identifier")
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.reset_with_code(form.identifier.data, form.code.data, form.password.data)
        except accounts.AccountError as exc:
            attach_error(form, exc)
            status = exc.status
        else:
            return _after_reset()
    elif request.method == "POST":
        status = 400
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def reset_with_link(token: str) -> Response | tuple[str, int]:
    """Choose a new password from the link sent by email (works once, for a limited time)."""
    form = ResetLinkForm()
    valid = password_reset.link_reset(token) is not None
    status = 200 if valid else 404
    if valid and form.validate_on_submit():
        try:
            password_reset.reset_with_link(token, form.password.data)
        except accounts.AccountError as exc:
            attach_error(form, exc)
            status = exc.status
        else:
            return _after_reset()
    elif valid and request.method == "POST":
        status = 400
    return render_template("auth/reset_link.html", form=form, valid=valid), status


def _after_reset() -> Response:
    session.pop("reset_identifier", None)
    if current_user.is_authenticated:
        logout_user()
    flash(_("Your password has been changed. Log in with the new one."), "success")
    return redirect(url_for("auth.login"))
