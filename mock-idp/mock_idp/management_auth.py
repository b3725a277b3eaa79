"""Authentication and errors of the Management API (``/api/v2/``), in its own format.

A caller needs a Bearer token from the client_credentials grant for the Management API
audience, carrying the scope each endpoint names. Errors are
``{"statusCode": ..., "error": ..., "message": ..., "errorCode": ...}``.
"""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from flask import g, jsonify, request

from .bearer import bearer_challenge, bearer_token
from .provider import idp
from .token_verification import TokenRejected, verify_access_token


class ApiError(Exception):
    def __init__(self, status: int, message: str, error_code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code


def render_api_error(error: ApiError):
    response = jsonify(
        statusCode=error.status,
        error=HTTPStatus(error.status).phrase,
        message=error.message,
        errorCode=error.error_code or HTTPStatus(error.status).phrase.lower().replace(" ", "_"),
    )
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = bearer_challenge(idp().management_audience)
    return response


def requires_scope(scope: str):
    """Protect a Management API view: a valid management token with ``scope``."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header:
                raise ApiError(401, "Missing authentication")
            token = bearer_token(header)
            if token is None:
                raise ApiError(401, "Bad HTTP authentication header format")
            try:
                claims = verify_access_token(token, idp().management_audience, what="token")
            except TokenRejected as rejected:
                raise ApiError(401, f"Invalid token: the {rejected.reason}", "invalid_token") from None
            if scope not in str(claims.get("scope", "")).split():
                raise ApiError(403, f"Insufficient scope, expected any of: {scope}", "insufficient_scope")
            g.management_client_id = claims.get("client_id")  # who made a change (management_log)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def json_object() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: Flask's silent only covers ValueError
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "Payload validation error: the body must be a JSON object", "invalid_body")
    return body


def only_fields(body: dict, allowed: set[str]) -> dict:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(
            400,
            f"Payload validation error: additional properties not allowed: {', '.join(unknown)}",
            "invalid_body",
        )
    return body
