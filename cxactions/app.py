"""The application factory: settings, extensions, blueprints and CLI commands."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from cxactions import models  # noqa: F401  (every table registered before migrations look)
from cxactions.audit.views import bp as audit_bp
from cxactions.auth.cli import user_group
from cxactions.auth.loader import configure_login
from cxactions.auth.views import bp as auth_bp
from cxactions.config import (
    CONTENT_SECURITY_POLICY,
    PROJECT_ROOT,
    check_secret_key,
    default_instance_path,
    normalise_database_url,
    settings_from_environment,
)
from cxactions.crowd.views import bp as crowd_bp
from cxactions.demo.cli import demo_command
from cxactions.drivers.cli import drivers_command
from cxactions.drivers.views import bp as drivers_bp
from cxactions.foundations import i18n
from cxactions.foundations.extensions import csrf, db, login_manager, mail, migrate
from cxactions.impact.cli import impact_command, refresh_impact_command
from cxactions.impact.views import bp as impact_bp
from cxactions.imports.cli import import_command
from cxactions.imports.views import bp as imports_bp
from cxactions.library.views import bp as library_bp
from cxactions.plans.cli import reminders_command
from cxactions.plans.export_cli import plans_group
from cxactions.plans.rollup_views import bp as plans_rollup_bp
from cxactions.plans.views import bp as plans_bp
from cxactions.priorities.cli import challenges_command
from cxactions.search import sync
from cxactions.search.cli import reindex_command, search_command
from cxactions.search.views import bp as search_bp
from cxactions.surveys.views import bp as surveys_bp
from cxactions.taxonomy.views import bp as taxonomy_bp
from cxactions.units.views import bp as units_bp
from cxactions.users.views import bp as users_bp
from cxactions.web.cli import init_command
from cxactions.web.errors import register_error_handlers
from cxactions.web.rendering import register_template_helpers
from cxactions.web.views import bp as web_bp


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints and CLI commands. Nothing else.

    Raises ``cxactions.config.ConfigError`` (one line naming the variable) for a bad setting.
    """

    instance_path = str((config or {}).get("INSTANCE_PATH") or default_instance_path())
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(settings_from_environment())
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path}/cxactions.sqlite3"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config.setdefault("SEARCH_INDEX_PATH", os.path.join(instance_path, "search-index"))
    check_secret_key(app.config)
    if app.config["PROXY_COUNT"]:
        # Behind N reverse proxies, the client's address and scheme come from their headers
        # (sign-in throttling counts per address; HSTS and secure cookies need https).
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "cxactions" / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    login_manager.init_app(app)
    mail.init_app(app)
    configure_login(login_manager)
    sync.install()  # the search index follows every commit (idempotent)
    _init_security_headers(app)

    register_template_helpers(app)


def _init_security_headers(app: Flask) -> None:
    """Flask-Talisman sets the security headers on every response: a Content-Security-Policy
    with no inline script or style, no framing, nosniff, a referrer policy and, in production,
    HSTS. One instance per app: Talisman keeps its settings on the instance."""

    app.extensions["talisman"] = Talisman(
        app,
        # TLS ends at the reverse proxy; HSTS (below) keeps browsers on https.
        force_https=False,
        strict_transport_security=app.config["HSTS"],
        strict_transport_security_include_subdomains=False,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )


def _register_blueprints(app: Flask) -> None:

    for blueprint in (
        web_bp,
        auth_bp,
        taxonomy_bp,
        library_bp,
        units_bp,
        plans_bp,
        plans_rollup_bp,
        search_bp,
        surveys_bp,
        impact_bp,
        drivers_bp,
        imports_bp,
        audit_bp,
        users_bp,
        crowd_bp,
    ):
        app.register_blueprint(blueprint)
    register_error_handlers(app)


def _register_cli(app: Flask) -> None:

    for command in (
        init_command,
        demo_command,
        import_command,
        impact_command,
        refresh_impact_command,
        drivers_command,
        challenges_command,
        user_group,
        reindex_command,
        search_command,
        reminders_command,
        plans_group,
    ):
        app.cli.add_command(command)
