"""GET/POST /userinfo: the user's claims for an access token that has the openid scope."""

from flask import Blueprint, jsonify, request

from ..provider import idp
from ..token_verification import TokenRejected, verify_access_token

bp = Blueprint("userinfo", __name__)


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    provider = idp()
    header = request.headers.get("Authorization", "")
    if not header:
        return _challenge(401)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _challenge(400, "invalid_request", "Malformed Authorization header")
    try:
        claims = verify_access_token(token.strip(), provider.userinfo_url, what="access token")
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
    parts = [f'realm="{idp().issuer}userinfo"']
    body = {}
    if error:
        parts += [f'error="{error}"', f'error_description="{description}"']
        body = {"error": error, "error_description": description}
    if scope:
        parts.append(f'scope="{scope}"')
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(parts)
    return response
