"""GET /healthz: 200 once the database answers and a signing key exists."""

from flask import Blueprint, jsonify

from ..provider import idp

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    provider = idp()
    keys = provider.storage.signing_keys(states=("current",))
    if not keys:
        return jsonify(status="starting"), 503
    return jsonify(status="ok", issuer=provider.issuer)
