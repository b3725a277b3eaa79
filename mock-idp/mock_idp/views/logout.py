"""GET /v2/logout: end the session at the identity provider, then go back if allowed.

It is discovery's ``end_session_endpoint`` too, so it takes OpenID Connect RP-Initiated
Logout's parameters (``client_id``, ``post_logout_redirect_uri``, ``id_token_hint``,
``state``, given back on the redirect) beside the provider's own ``returnTo``.
"""

from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request

from .. import tenant_log
from ..login_session import log_out
from ..provider import idp

bp = Blueprint("logout", __name__)


@bp.get("/v2/logout")
def logout():
    tenant = idp().tenant()
    client_id = request.args.get("client_id")
    return_to = request.args.get("returnTo") or request.args.get("post_logout_redirect_uri")
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
    if state := request.args.get("state"):
        return_to += ("&" if "?" in return_to else "?") + urlencode({"state": state})
    return redirect(return_to)
