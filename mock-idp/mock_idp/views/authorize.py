"""GET/POST /authorize: the login page, the consent page, and the redirect back.

Authlib validates the request. A request whose client or redirect_uri cannot be trusted
gets an error page here and is never redirected; every other error goes back to the
client's redirect_uri with ``error`` and ``state``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import AccessDeniedError, OAuth2Error
from flask import Blueprint, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import authn_context, clock, login_throttle, second_factor, tenant_log
from ..consent import consent_needed, describe_scopes, remember_consent
from ..errors import ConsentRequired, LoginRequired, normalise
from ..forms import ConsentForm, LoginForm
from ..grants.authorization_code import AuthorizeOutcome
from ..login_session import check_password, current_acr, current_session_id, current_user, log_in
from ..provider import idp

bp = Blueprint("authorize", __name__)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    server = idp().server
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _fail(server, error)

    oauth_request = grant.request
    asked = grant.authorization  # what the grant's checks decided
    client = oauth_request.client.client
    api = asked.api
    scopes = asked.scopes
    action = request.form.get("action") if request.method == "POST" else None

    if action == "login":
        return _submit_login(client, asked.audience)

    user, auth_time = current_user()
    if why := _login_needed(asked, user, auth_time):
        if "none" in asked.prompts:
            return _fail(server, LoginRequired(why, redirect_uri=grant.redirect_uri))
        return _login_page(client, LoginForm(), None, 200)
    assert user is not None  # without one, _login_needed asks for a login
    acr = current_acr()
    if not authn_context.satisfies(acr, asked.acr_values):  # RFC 9470 step-up: a second factor
        return _second_factor(server, grant, user, action)

    if action == "consent":
        form = ConsentForm()
        if not form.validate_on_submit():
            return _consent_page(client, api, scopes, form, "The form expired; please decide again.", 400)
        if form.decision.data == "deny":
            return _fail(
                server,
                AccessDeniedError("User did not authorize the request", redirect_uri=grant.redirect_uri),
                user_id=user.user_id,
            )
        remember_consent(user, client, api, scopes)
    elif consent_needed(user, client, api, scopes, forced="consent" in asked.prompts):
        if "none" in asked.prompts:
            return _fail(
                server,
                ConsentRequired("Consent required", redirect_uri=grant.redirect_uri),
                user_id=user.user_id,
            )
        return _consent_page(client, api, scopes, ConsentForm(), None, 200)

    grant.auth_time = auth_time
    grant.acr = acr
    grant.login_session_id = current_session_id()  # the code's grant ends this session when revoked
    response = server.create_authorization_response(request=oauth_request, grant_user=user, grant=grant)
    tenant_log.record("s", client_id=client.client_id, audience=asked.audience, user_id=user.user_id)
    return response


def _login_needed(asked: AuthorizeOutcome, user, auth_time) -> str | None:
    """Why the user must log in (first, again, or more recently), or None."""
    if user is None:
        return "The user is not logged in"
    if "login" in asked.prompts:
        return "prompt=login asks for a new login"
    # max_age=0 is prompt=login (OIDC Core 3.1.2.1), even within the login's own second.
    if asked.max_age is not None and (asked.max_age == 0 or clock.now() - auth_time > asked.max_age):
        return "The login is older than max_age"
    return None


def _second_factor(server, grant, user, action):
    """acr_values asks for more than this session's login: the second factor, asked or checked."""
    asked, client = grant.authorization, grant.request.client.client
    if action == "second_factor":
        return second_factor.submit(client, asked.audience, user)
    if "none" in asked.prompts:
        why = f"acr_values asks for {' '.join(asked.acr_values)}: the user must log in again"
        return _fail(server, LoginRequired(why, redirect_uri=grant.redirect_uri), user_id=user.user_id)
    return second_factor.page(client)


def _submit_login(client, audience):
    """The login form posted: refused while throttled, a wrong password counted, or logged in."""
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(client, form, "Enter your email and password.", 400)
    email, address = form.email.data, request.remote_addr
    if until := login_throttle.blocked_until(email, address):
        return _throttled(client, form, audience, email, until)
    user = check_password(email, form.password.data)
    if user is None:
        tenant_log.record("f", "Wrong email or password.", client_id=client.client_id, audience=audience)
        if login_throttle.record_failure(email, address):
            known = idp().tenant().user_by_email(email)
            tenant_log.record(
                "limit_wc",
                client_id=client.client_id,
                user_id=known.user_id if known else None,
                details={"reason": "too_many_attempts"},
            )
        return _login_page(client, form, "Wrong email or password.", 401)
    log_in(user)
    # Post/redirect/get: continue the same authorization request, now logged in (so
    # without prompt=login or max_age, which this login has just satisfied). The browser
    # is known to this account from now on: guessing elsewhere does not slow it down.
    return login_throttle.remember_device(redirect(_authorize_url(drop_prompt="login")), email)


def _throttled(client, form, audience, email, until):
    """429 while this attempt must wait: the same page whether the account exists."""
    known = idp().tenant().user_by_email(email)
    tenant_log.record(
        "f",
        "Too many failed login attempts.",
        client_id=client.client_id,
        audience=audience,
        user_id=known.user_id if known else None,
        details={"reason": "too_many_attempts"},
    )
    wait = max(until - clock.now(), 1)
    at = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
    message = (
        f"Too many failed attempts. Logins are paused here for a while: try again after {at} "
        f"(in {wait} second{'s' if wait > 1 else ''})."
    )
    page, status = _login_page(client, form, message, 429)
    return page, status, {"Retry-After": str(wait)}


def _fail(server, error: OAuth2Error, user_id: str | None = None):
    error = normalise(error)
    error.state = request.values.get("state")
    client_id = request.values.get("client_id")
    tenant_log.record(
        "f",
        error.description or error.error,
        client_id=client_id if idp().tenant().client(client_id) else None,
        audience=request.values.get("audience"),
        user_id=user_id,
        details={"error": error.error, "redirect_uri": request.values.get("redirect_uri")},
    )
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    # No trusted redirect_uri: say so here, never redirect to an unlisted URL.
    return render_template("error.html", error=error.error, description=error.description), 400


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    # A page, as every answer of this endpoint to a browser (its forms are a few hundred bytes).
    return render_template("error.html", error="invalid_request", description="The request is too large to read."), 413


def _authorize_url(drop_prompt: str) -> str:
    params = []
    for name, value in request.args.items(multi=True):
        if name == "max_age":
            continue
        if name == "prompt":
            value = " ".join(p for p in value.split() if p != drop_prompt)
            if not value:
                continue
        params.append((name, value))
    return request.path + "?" + urlencode(params)


def _login_page(client, form, message, status):
    return render_template("login.html", client=client, form=form, message=message, tenant=idp().tenant()), status


def _consent_page(client, api, scopes, form, message, status):
    return render_template(
        "consent.html",
        client=client,
        api=api,
        scopes=describe_scopes(api, scopes),
        form=form,
        message=message,
        tenant=idp().tenant(),
    ), status
