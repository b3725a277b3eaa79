"""GET and POST /api/contacts, and GET /healthz."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

from obo_common import current_claims, require_scope

from .services import services

bp = Blueprint("target_api", __name__)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")


@bp.get("/api/contacts")
@require_scope("read:contacts")
def list_contacts():
    owner = current_claims["sub"]
    return jsonify(owner=owner, contacts=services().contacts.of(owner))


@bp.post("/api/contacts")
@require_scope("write:contacts")
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
