"""GET/POST /userinfo: the user's claims for an access token that has the openid scope."""

from flask import Blueprint, jsonify, request

from ..bearer import bearer_challenge, bearer_token
from ..provider import idp
from ..token_verification import TokenRejected, verify_access_token

bp = Blueprint("userinfo", __name__)


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    provider = idp()
    header = request.headers.get("Authorization", "")
    if not header:
        return _challenge(401)
    token = bearer_token(header)
    if token is None:
        return _challenge(400, "invalid_request", "Malformed Authorization header")
    try:
        claims = verify_access_token(token, provider.userinfo_url, what="access token")
    except TokenRejected as rejected:
        return _challenge(401, "invalid_token", f"The {rejected.reason}")
    scopes = set(str(claims.get("scope", "")).split())
    if "openid" not in scopes:
        return _challenge(403, "insufficient_scope", "The access token lacks the openid scope", scope="openid")
    user = provider.tenant().user(claims["sub"])
    if user is None:
        return _challenge(401, "invalid_token", "The user no longer exists")
    return jsonify(sub=user.user_id, **user.profile_claims(scopes))


def _challenge(status: int, error: str | None = None, description: str | None = None, scope: str | None = None):
    """An RFC 6750 answer: WWW-Authenticate names the error, the JSON body repeats it."""
    body = {"error": error, "error_description": description} if error else {}
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = bearer_challenge(f"{idp().issuer}userinfo", error, description, scope)
    return response
