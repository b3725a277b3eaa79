"""Log in (step 1), the callback, and log out."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, request, session, url_for

from . import logout_report, step_up, token_store
from .failures import Failure
from .provider_client import PROVIDER
from .services import services
from .troubleshooting_cases import CALLBACK

bp = Blueprint("auth", __name__)
# state and code are opaque, but never long and never anything but visible ASCII.
_PLAUSIBLE = re.compile(r"^[\x21-\x7e]{1,512}$")


@bp.get("/login")
def login():
    session.pop(step_up.PENDING, None)  # a login of the user's own: no call waits for it
    return services().provider.login_redirect()


@bp.get("/callback")
def callback():
    provider = services().provider
    state = request.args.get("state", "")
    # Checked before anything else, the error included: an answer to a login this browser did
    # not start is refused without a token request.
    if not _PLAUSIBLE.match(state) or not provider.started_here(state):
        raise Failure(
            400,
            "This login answer does not belong to a login started here",
            step="1",
            detail="Its state parameter is missing or unknown, so its code was not redeemed. Start again "
            "with the Log in button; a callback page cannot be reloaded or bookmarked.",
        )
    provider.trace_authorization(state, request.args.to_dict())
    if error := request.args.get("error"):
        provider.forget_login(state)
        raise Failure(
            403 if error == "access_denied" else 400,
            "The identity provider did not log you in",
            where=CALLBACK,
            step="1",
            error=error[:100],
            description=request.args.get("error_description", "")[:500] or None,
            reported_by=PROVIDER,
        )
    if not _PLAUSIBLE.match(request.args.get("code", "")):
        provider.forget_login(state)
        raise Failure(400, "The login answer carries no authorization code", step="1")
    token, claims = provider.finish_login()
    token_store.save_login(token, claims)
    # A new session id at login: an id planted before login is worth nothing after it.
    current_app.session_interface.regenerate(session)
    if step_up.waiting():  # a login the Target API asked for: its call is sent again once
        return redirect(url_for("step_up.retry"))
    return redirect(url_for("pages.home"))


@bp.post("/logout")
def logout():
    provider = services().provider
    id_token = token_store.id_token() if token_store.logged_in() else None
    revoked = False
    if token_store.logged_in():
        services().source_api.forget_login(token_store.access_token())
    if token_store.logged_in() and (refresh_token := token_store.refresh_token()):
        provider.revoke(refresh_token)
        revoked = True
    token_store.clear()
    if revoked and services().demo_tools.enabled():
        logout_report.record()
    return redirect(provider.logout_url(id_token))
