"""GET /api/me (step 2), GET and POST /api/contacts (steps 3 and 4), DELETE
/api/login-tokens (the web app's logout), GET /healthz."""

from __future__ import annotations

import socket

from flask import Blueprint, Response, current_app, jsonify, request

from obo_common import current_claims, require_scope
from obo_common.bearer import bearer_token

from .problems import UpstreamRefused
from .services import services
from .target_api_client import TargetAnswer, TargetTokenRejected

bp = Blueprint("source_api", __name__)


def _user_token() -> str:
    # Validated by the bearer protector already; the raw value is what gets exchanged.
    return bearer_token(request.headers["Authorization"])


@bp.get("/api/me")
@require_scope("read:profile")
def me():
    return jsonify(sub=current_claims["sub"], claims=dict(current_claims))


@bp.get("/api/contacts")
@require_scope("read:contacts")
def contacts():
    return _call_target("GET", "/api/contacts")


@bp.post("/api/contacts")
# Writing needs the Source API's own write scope, which the user consented to at login
# (docs/apis.md, "Scopes and consent"); read:contacts alone never changes anything.
@require_scope("write:contacts")
def add_contact():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="invalid_request", error_description="Send JSON {name, email}."), 400
    return _call_target("POST", "/api/contacts", json=body)


def _call_target(method: str, path: str, json=None):
    service = services()
    user_token = _user_token()
    # The validated claims themselves, read, never changed: not copied key by key through
    # the request-local proxy.
    claims = current_claims._get_current_object()
    for attempt in (1, 2):
        lookup = service.target_tokens.get(user_token, claims=claims)
        try:
            answer = service.target_api.call(method, path, lookup.token.access_token, json=json)
            break
        except TargetTokenRejected as rejected:
            # The Target API no longer takes the cached token (e.g. its key was rotated
            # away): get a fresh one, once.
            service.target_tokens.forget(user_token, claims=claims)
            if attempt == 2:
                raise UpstreamRefused(
                    "The Target API refused the exchanged token",
                    step=4,
                    upstream="target-api",
                    upstream_error="invalid_token",
                    upstream_error_description=str(rejected) or None,
                ) from None
    settings = service.settings
    token = lookup.token
    via = {
        "target_token": lookup.source,
        "audience": settings.target_audience,
        "scope": token.scope,
        "client_id": settings.client_id,
        "expires_at": int(token.expires_at),
        "obtained_at": int(token.obtained_at),
        "refresh_token": token.refresh_token is not None,
    }
    return _with_via(answer, via), answer.status


def _with_via(answer: TargetAnswer, via: dict) -> Response:
    """The Target API's JSON object and ``via``. Its own bytes with ``via`` appended, when they
    are a UTF-8 object without a ``via``: the same object as parsing and encoding it again
    would give, for a fraction of the work."""
    data = answer.data.strip()
    if "via" in answer.body or not (data.startswith(b"{") and data.endswith(b"}")):
        return jsonify({**answer.body, "via": via})
    # As jsonify encodes it (the app's JSON provider, compact).
    appended = (b',"via":' if answer.body else b'"via":') + current_app.json.dumps(via, separators=(",", ":")).encode()
    return current_app.response_class(data[:-1] + appended + b"}\n", mimetype="application/json")


@bp.delete("/api/login-tokens")
# Any token of this API: the login is ending whatever its scopes.
@require_scope(None)
def forget_login_tokens():
    """The web app logs the user out: every Target API token cached for this login (on
    every replica, with the Redis cache) is dropped, so a copy of the user's token left
    somewhere gets no cached token; its next exchange meets the revoked login."""
    forgotten = services().target_tokens.forget_login(_user_token(), claims=dict(current_claims))
    return jsonify(forgotten=forgotten)


@bp.get("/healthz")
def healthz():
    # Which replica answered (behind a load balancer), and where its token cache is.
    instance = f"{socket.gethostname()}:{request.environ.get('SERVER_PORT', '')}"
    return jsonify(status="ok", instance=instance, **services().target_tokens.cache.health())
