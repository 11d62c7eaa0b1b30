"""The Flask application factory: configuration, extensions, blueprints, errors and CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from web.config import ROOT, load_config
from web.extensions import babel, csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides what the environment says (tests pass theirs here)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, config))
    configure_instance_folder(app)
    configure_proxy(app)
    configure_logging(app)
    configure_security(app)
    configure_extensions(app)
    configure_templates(app)
    configure_blueprints(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_instance_folder(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* from TRUSTED_PROXIES hops, so URLs (and Twilio signatures) match."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def configure_security(app: Flask) -> None:
    """Headers and body limits; first, so its hooks run before the extensions read a body."""
    from web import security

    security.init_app(app)


def configure_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    import web.models  # noqa: F401 - every table on the metadata before migrations look
    from web.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flashed in the visitor's language (a lazy string cannot go into the session as is).
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.localize_callback = str
    login_manager.session_protection = "strong"

    from web.services.accounts import load_user

    login_manager.user_loader(load_user)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _configure_sqlite(app)


def _configure_sqlite(app: Flask) -> None:
    """Foreign keys on, WAL for concurrent readers, and a busy timeout for writers."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            if ":memory:" not in str(engine.url):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()


def configure_templates(app: Flask) -> None:
    from web import i18n
    from web.navigation import nav_links

    app.jinja_env.globals.update(
        text_direction=i18n.text_direction,
        current_language=i18n.current_language,
        list_separator=i18n.list_separator,
        format_local=i18n.format_local,
        format_local_date=i18n.format_local_date,
        format_local_time=i18n.format_local_time,
        format_km=i18n.format_km,
        nav_links=nav_links,
    )
    # {% trans %} blocks; Flask-Babel installs the gettext functions.
    app.jinja_env.add_extension("jinja2.ext.i18n")


def configure_blueprints(app: Flask) -> None:
    from web.blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def configure_errors(app: Flask) -> None:
    from web.errors import register_error_handlers

    register_error_handlers(app)


def configure_cli(app: Flask) -> None:
    from web.cli import register_commands

    register_commands(app)
