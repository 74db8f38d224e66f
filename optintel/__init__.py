"""Opt-Intel Event Tracking: the application factory."""
import os
from pathlib import Path

from flask import Flask

from . import keys, server_log
from .config import ROOT, Config
from .ids import IdConverter


def create_app(config=None):
    """Build the app: configuration, keys, extensions, blueprints, error pages, CLI. Raises
    keys.KeySetupError, before any database connection, when the keys are missing or unusable."""
    config = config or Config
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"),
                instance_path=str(Path(config.OPTINTEL_INSTANCE).absolute()))
    # Every <int:...> of a route is an id the databases can hold (set before any route exists).
    app.url_map.converters["int"] = IdConverter
    app.config.from_object(config)
    keys.init_app(app)
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    server_log.configure(app)

    from . import models  # noqa: F401  (tables must be known before migrate binds)
    from .extensions import api, csrf, db, login, migrate
    db.init_app(app)
    from . import database
    database.init_app(app, db)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login.init_app(app)
    api.init_app(app)

    from . import errors, request_input, security_headers, template_helpers
    errors.init_app(app)
    request_input.init_app(app)
    security_headers.init_app(app)
    template_helpers.init_app(app)

    from . import (api_keys, auth, campaigns, dashboard, lists, logs, mailers, public, settings,
                   tracking, users)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(campaigns.bp, url_prefix="/campaigns")
    app.register_blueprint(lists.bp, url_prefix="/lists")
    app.register_blueprint(mailers.bp, url_prefix="/mailers")
    app.register_blueprint(settings.bp, url_prefix="/settings")
    app.register_blueprint(logs.bp, url_prefix="/logs")
    app.register_blueprint(users.bp, url_prefix="/users")
    app.register_blueprint(api_keys.bp, url_prefix="/api-keys")
    app.register_blueprint(tracking.bp, url_prefix="/tracking")
    from . import rate_limits
    rate_limits.init_app(app)
    auth.throttling.init_app(app)
    public.init_app(app)

    from .api import register as register_api
    register_api(app, api)

    from .commands import register as register_commands
    register_commands(app)
    return app
