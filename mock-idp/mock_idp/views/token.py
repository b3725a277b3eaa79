"""POST /oauth/token and POST /oauth/revoke."""

from flask import Blueprint

from ..provider import idp

bp = Blueprint("token", __name__)


@bp.route("/oauth/token", methods=["POST"])
def issue_token():
    return idp().server.create_token_response()


@bp.route("/oauth/revoke", methods=["POST"])
def revoke_token():
    return idp().server.create_endpoint_response("revocation")
