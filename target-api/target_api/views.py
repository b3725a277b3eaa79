"""GET and POST /api/contacts, and GET /healthz."""

from __future__ import annotations

import re
from functools import wraps

from flask import Blueprint, jsonify, request

from obo_common import current_claims, require_scope
from obo_common.token_display import act_chain

from .services import services
from .step_up import step_up_for

bp = Blueprint("target_api", __name__)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")


def actor_when_required(view):
    """With TARGET_API_REQUIRE_ACTOR, only a delegated token (one naming an actor in ``act``,
    RFC 8693 4.1) is accepted. Placed under ``require_scope``: the token is checked first."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if services().settings.require_actor and not isinstance(current_claims.get("act"), dict):
            description = "This API accepts only delegated tokens: the token names no actor (act)"
            return jsonify(error="access_denied", error_description=description), 403
        return view(*args, **kwargs)

    return guarded


@bp.get("/api/contacts")
@require_scope("read:contacts")
@step_up_for("read:contacts")
@actor_when_required
def list_contacts():
    # The claims themselves, not the proxy: each read through it looks the token up again.
    claims = current_claims._get_current_object()
    owner = claims["sub"]
    return jsonify(owner=owner, contacts=services().contacts.of(owner), **acted_for(claims))


def acted_for(claims: dict) -> dict:
    """Who acted for the user, when the token is delegated: the current actor (the outermost
    ``act``, the one to authorise by) and the whole chain, newest first."""
    chain = act_chain(claims)
    if not chain:
        return {}
    return {"actor": chain[0], "actor_chain": chain}


@bp.post("/api/contacts")
@require_scope("write:contacts")
@step_up_for("write:contacts")
@actor_when_required
def add_contact():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"name", "email"}:
        return jsonify(error="invalid_request", error_description="Send JSON {name, email}."), 400
    name, email = body["name"], body["email"]
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        return jsonify(error="invalid_request", error_description="name must be 1 to 100 characters."), 400
    if not isinstance(email, str) or not EMAIL.fullmatch(email):
        return jsonify(error="invalid_request", error_description="email must be an email address."), 400
    contact = services().contacts.add(current_claims["sub"], name.strip(), email)
    return jsonify(contact), 201


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")
