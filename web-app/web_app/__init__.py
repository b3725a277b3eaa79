"""web-app: the regular web app of the tutorial. The user logs in (step 1) and the app calls
the Source API on their behalf (step 2), refreshing the tokens when needed (step 5)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Flask, request
from flask_wtf import CSRFProtect

from obo_common import allowed_hosts, request_id
from obo_common.demo_tools import DemoTools

from . import error_pages, session_secret, session_store, token_store
from .outgoing_http import OutgoingSession
from .provider_client import ProviderClient
from .services import Services
from .settings import Settings
from .source_api_client import SourceApiClient


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    data_dir = settings.data_dir.resolve()
    app = Flask(__name__, instance_path=str(data_dir))
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    app.config.update(
        SECRET_KEY=session_secret.load_or_create(data_dir, secret),
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        # Written only when changed: a page loading alongside a refresh must not put back
        # the tokens the refresh replaced (the rotated refresh token would then be reused).
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_COOKIE_NAME="web_app_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # a form is good for as long as its session
        MAX_CONTENT_LENGTH=16 * 1024,
    )
    allowed_hosts.init_app(
        app,
        allowed_hosts.allowed_hosts(
            "web-app",
            [settings.issuer, settings.idp_internal_url, settings.base_url, settings.source_api_url],
            settings.allowed_hosts,
        ),
    )
    request_id.init_app(app)  # first, so even a refused form's page and log line carry the id
    # Server-side sessions: the browser holds only the session id; the tokens stay here, in
    # files shared by both gunicorn workers, or in a Redis shared by web app replicas
    # (WEB_APP_SESSION_URL): session_store/.
    app.session_interface = session_store.for_settings(app, settings)
    csrf = CSRFProtect(app)

    http = OutgoingSession(settings.source_api_timeouts)
    provider = ProviderClient(app, settings, http)
    operator_secret = settings.load_operator_secret()
    app.extensions["web_app"] = Services(
        settings=settings,
        provider=provider,
        source_api=SourceApiClient(settings.source_api_url, http, operator_secret),
        demo_tools=DemoTools(settings.demo_tools, provider.endpoints),
        operator_secret=operator_secret,
    )

    from . import auth, inspector, inspector_export, pages, panel, step_up, troubleshooting_page
    from .operator import operator_blueprint

    for module in (auth, pages, step_up, troubleshooting_page, inspector, inspector_export, panel):
        app.register_blueprint(module.bp)
    app.register_blueprint(csrf.exempt(operator_blueprint(app.extensions["web_app"])))
    from . import try_exchange

    app.register_blueprint(try_exchange.bp)
    error_pages.init_app(app)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"logged_in": token_store.logged_in(), "request_id": request_id.current()})
    app.add_template_filter(_when, "when")
    # Browsers ask every site for /favicon.ico: an icon, not a 404 line in the terminal.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    return app


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"  # pages show personal data
    return response


def _when(epoch: int | None) -> str:
    """An epoch time as UTC, with how far it is from now."""
    if epoch is None:
        return "unknown"
    moment = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    seconds = int(epoch - time.time())
    if seconds == 0:
        return f"{moment} (now)"
    # Seconds count under a minute: a 60 s token is "in 59 s", not "now".
    left = abs(seconds) if abs(seconds) < 60 else abs(seconds) // 60 * 60
    minutes, secs = divmod(left, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s"))
    span = " ".join(f"{n} {unit}" for n, unit in parts if n)
    return f"{moment} ({'in ' + span if seconds > 0 else span + ' ago'})"
