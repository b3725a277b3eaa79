"""mock-idp: an OAuth 2.0 / OpenID Connect authorization server imitating the tutorial's
provider, with the tenant settings each step of the On-Behalf-Of flow depends on."""

from __future__ import annotations

import logging
import os
import secrets

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from . import allowed_hosts
from .keys import SigningKeys
from .management_auth import ApiError, render_api_error
from .provider import MockIdpState
from .rate_limits import RateLimiter
from .rules import RuleRunner
from .server import create_server
from .session_cookie import SessionCookies
from .settings import Settings
from .storage import Storage
from .tenant import Tenant, TenantError
from .tenant_file import load_tenant
from .tenant_store import TenantStore

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, tenant: Tenant | None = None) -> Flask:
    settings = settings or Settings()
    if settings.issuer.startswith("http://"):
        # A plain-http issuer is a local demo; Authlib otherwise refuses non-TLS requests
        # that do not come to "localhost" (e.g. http://mock-idp:9000 inside compose).
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    tenant = tenant or load_tenant(settings.tenant_file, settings.issuer)
    rules = RuleRunner(settings.tenant_file)
    if missing := rules.missing_scripts(tenant):
        raise TenantError("invalid tenant: " + "; ".join(missing))
    storage = Storage(settings.database)
    keys = SigningKeys(storage)
    keys.ensure_current()

    app = Flask(__name__)
    allowed_hosts.init_app(app, allowed_hosts.allowed_hosts("mock-idp", [settings.issuer], settings.allowed_hosts))
    app.config.update(
        # Shared by every worker and kept across restarts, so sessions survive both.
        SECRET_KEY=storage.setting("session_secret", lambda: secrets.token_hex(32)),
        SESSION_COOKIE_NAME="idp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=settings.login_session_lifetime,
        MAX_CONTENT_LENGTH=64 * 1024,
        WTF_CSRF_TIME_LIMIT=3600,
    )
    app.session_interface = SessionCookies()
    provider = MockIdpState(
        settings=settings,
        storage=storage,
        keys=keys,
        tenants=TenantStore(storage, settings.issuer, tenant, settings.password_hash_cost),
        rate_limiter=RateLimiter(storage),
        rules=rules,
    )
    app.extensions["mock_idp"] = provider
    provider.server = create_server(app)

    from .views import authorize, discovery, health, logout, logs, management, token, userinfo

    for module in (discovery, authorize, token, userinfo, logout, health, management, logs):
        app.register_blueprint(module.bp)

    # Browsers ask every site for /favicon.ico: an icon, not a 404 line in the terminal.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
    if not request.path.startswith(("/.well-known/", "/static/")):
        # Tokens, forms with CSRF tokens, personal data: never kept by a cache. Every answer
        # of the token and revocation endpoints, errors and 405s included.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _http_error(error: HTTPException):
    if request.path.startswith("/api/v2/"):
        # An unknown path or method of the Management API (e.g. /api/v2/clients/ with no id):
        # answered in its own error format, as every other error there (docs/management-api.md).
        response = render_api_error(ApiError(error.code or 500, error.description or error.name))
        if allow := error.get_response().headers.get("Allow"):  # a 405 still says what is allowed
            response.headers["Allow"] = allow
        return response
    name = (error.name or "error").lower().replace(" ", "_")
    return jsonify(error=name, error_description=error.description), error.code


def _unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return jsonify(error="server_error", error_description="The server could not handle this request."), 500
