"""The gapspider dashboard: pages groups, their Gap pages, Fetch Data through scrapyd, and the results.

    flask --app dashboard run            # or `make dashboard`, which also starts the replica and scrapyd
    python -m dashboard.run --help
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, g, jsonify, redirect, request, session, url_for, flash
from flask_wtf.csrf import CSRFError, CSRFProtect

from gapspider import db

from dashboard import queries, settings
from dashboard.scrapyd import ScrapydClient
from dashboard.services import FetchChecker

csrf = CSRFProtect()
log = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app; configuration from the environment (dashboard.settings), then `overrides`."""
    app = Flask(__name__)
    app.config.update(settings.from_environment())
    if overrides:
        app.config.update(overrides)
    if app.config.get("SECRET_KEY_GENERATED") and not app.testing:
        log.warning(
            "DASHBOARD_SECRET_KEY is not set: using a random key, sessions end when the dashboard restarts"
        )

    csrf.init_app(app)

    app.extensions["gapspider_sessions"] = db.session_factory(app.config["DATABASE_URL"])
    client = ScrapydClient.from_config(app.config)
    app.extensions["scrapyd"] = client
    app.extensions["product_rows"] = queries.ProductRowsCache()
    checker = FetchChecker(
        app.extensions["gapspider_sessions"],
        client,
        interval=float(app.config["DASHBOARD_CHECK_INTERVAL"]),
        grace_seconds=float(app.config["DASHBOARD_SCHEDULE_GRACE"]),
    )
    app.extensions["fetch_checker"] = checker
    if app.config.get("DASHBOARD_BACKGROUND_CHECK"):
        checker.start_thread()

    from dashboard import filters
    from dashboard.views import api, auth, fetches, files, groups, pages

    filters.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(groups.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(fetches.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(api.bp)
    # The JSON API is exempt from form CSRF tokens: it only accepts JSON bodies (which a cross-site form cannot
    # send without a CORS preflight, and we answer none) and, when configured, a bearer token. See README.
    csrf.exempt(api.bp)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()

    @app.before_request
    def require_login():
        if not app.config.get("DASHBOARD_PASSWORD"):
            return None
        if request.endpoint in (None, "static", "auth.login") or session.get("logged_in"):
            return None
        if request.blueprint == "api":
            return None  # the API checks its own credentials (bearer token or session)
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; style-src-attr 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
            return jsonify(error=f"CSRF check failed: {exc.description}"), 400
        flash("The form had expired or came from elsewhere, nothing was changed. Please try again.", "error")
        return redirect(_safe_referrer() or url_for("groups.index")), 303

    @app.errorhandler(404)
    def not_found(exc):
        if request.blueprint == "api":
            return jsonify(error="not found"), 404
        from flask import render_template

        return render_template("error.html", code=404, message="This page does not exist (any more)."), 404

    @app.cli.command("check-fetches")
    def check_fetches_command():
        """Fail active fetches whose scrapyd job is gone (the periodic honest-state check, once)."""
        report = checker.run()
        print(report.as_dict())

    return app


def _safe_referrer() -> str | None:
    referrer = request.referrer
    if referrer and referrer.startswith(request.host_url):
        return referrer
    return None
