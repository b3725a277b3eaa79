"""The second factor of a login: asked when /authorize's ``acr_values`` wants
``urn:mock:mfa`` and the session logged in with a password only (RFC 9470 step-up).

This local tenant has no authenticator app to pair: the page shows a demo one-time code,
new at each showing and valid for a few minutes, which the user types back. The cookie
keeps only its hash. Passing it raises the session to ``urn:mock:mfa`` and makes its
``auth_time`` now; the authorization request then continues.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import redirect, render_template, request, session

from . import authn_context, clock, tenant_log
from .forms import SecondFactorForm
from .login_session import step_up
from .provider import idp

CODE_LIFETIME = 300
SESSION_KEY = "second_factor"


def page(client, message: str | None = None, status: int = 200):
    """The second-factor page, with a fresh demo code."""
    code = f"{secrets.randbelow(10**6):06d}"
    session[SESSION_KEY] = {"hash": _digest(code), "expires_at": clock.now() + CODE_LIFETIME}
    form = SecondFactorForm()
    form.code.data = ""
    return render_template(
        "second_factor.html", client=client, form=form, demo_code=code, message=message, tenant=idp().tenant()
    ), status


def submit(client, audience: str | None, user):
    """The code posted: right and unexpired raises the session; anything else asks again."""
    form = SecondFactorForm()
    expected = session.pop(SESSION_KEY, None)  # one try per code
    if not form.validate_on_submit():
        return page(client, "Enter the 6-digit code.", 400)
    if not isinstance(expected, dict) or expected.get("expires_at", 0) <= clock.now():
        return page(client, "That code expired: here is a new one.", 400)
    if not hmac.compare_digest(_digest(form.code.data), str(expected.get("hash", ""))):
        tenant_log.record(
            "gd_auth_failed",
            "Wrong one-time code.",
            client_id=client.client_id,
            audience=audience,
            user_id=user.user_id,
        )
        return page(client, "Wrong code: enter the new one shown.", 401)
    step_up(authn_context.MFA)
    tenant_log.record("gd_auth_succeed", client_id=client.client_id, audience=audience, user_id=user.user_id)
    return redirect(request.full_path)  # post/redirect/get: the same authorization request


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()
