"""GET/POST /v2/logout: end the session at the identity provider, then go back if allowed.

It is discovery's ``end_session_endpoint`` too, so it takes OpenID Connect RP-Initiated
Logout's parameters (``client_id``, ``post_logout_redirect_uri``, ``id_token_hint``,
``state``, given back on the redirect) beside the provider's own ``returnTo``.

The provider's logout is a plain GET, and relying parties keep using it. So that any page
on the web cannot end a live session by linking here, a GET ends one at once only with a
valid ``id_token_hint`` for the session's user; otherwise the person is asked, in a POST
form with a CSRF token (RP-Initiated Logout 1.0, section 2: the OP "SHOULD ask the End-User
whether to log out"). A session already ended (the client revoked its grant first, as the
web app does) or absent needs no question: the cookie is cleared and the browser goes back.
"""

from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import tenant_log
from ..forms import LogoutForm
from ..login_session import current_user, log_out
from ..provider import idp
from ..token_verification import verify_id_token_hint

bp = Blueprint("logout", __name__)


@bp.get("/v2/logout")
def logout():
    client_id = request.args.get("client_id")
    return_to = request.args.get("returnTo") or request.args.get("post_logout_redirect_uri")
    state = request.args.get("state")
    user, _ = current_user()
    if user is not None and not verify_id_token_hint(request.args.get("id_token_hint"), user.user_id, client_id):
        form = LogoutForm(client_id=client_id, return_to=return_to, state=state)
        return _confirmation_page(form, None, 200)
    return _log_out_and_return(client_id, return_to, state)


@bp.post("/v2/logout")
def confirm_logout():
    form = LogoutForm(formdata=request.form)  # a form post only: Flask-WTF would read JSON too
    if not form.validate_on_submit():
        return _confirmation_page(form, "The form expired; please decide again.", 400)
    if form.decision.data == "cancel":
        return render_template("logout_kept.html", tenant=idp().tenant(), message=None)
    return _log_out_and_return(form.client_id.data or None, form.return_to.data or None, form.state.data or None)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    # A page, as every answer of this endpoint (its form is a few hundred bytes).
    message = "The logout request was too large to read."
    return render_template("logout_kept.html", tenant=idp().tenant(), message=message), 413


def _log_out_and_return(client_id: str | None, return_to: str | None, state: str | None):
    tenant = idp().tenant()
    user_id = log_out()
    client = tenant.client(client_id)
    tenant_log.record("slo", client_id=client.client_id if client else None, user_id=user_id)
    if not return_to:
        return render_template("logged_out.html", message=None)
    # Exact match against the client's Allowed Logout URLs (any client's, when none is named).
    allowed = client.allowed_logout_urls if client else [u for c in tenant.clients for u in c.allowed_logout_urls]
    if return_to not in allowed:
        message = f"The returnTo URL {return_to} is not in the Allowed Logout URLs of the application."
        return render_template("logged_out.html", message=message), 400
    if state:
        return_to += ("&" if "?" in return_to else "?") + urlencode({"state": state})
    return redirect(return_to)


def _confirmation_page(form: LogoutForm, message: str | None, status: int):
    tenant = idp().tenant()
    client = tenant.client(form.client_id.data or None)
    return render_template("logout.html", tenant=tenant, client=client, form=form, message=message), status
