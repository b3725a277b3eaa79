"""Authlib's Flask resource protector, answering as RFC 6750 asks.

- no Authorization header: 401 and ``WWW-Authenticate: Bearer realm="..."``, no error
  code (T10);
- a header that is not ``Bearer <token>``: 400 ``invalid_request`` (T10);
- a token that fails validation: 401 ``invalid_token`` with the reason;
- a token without the endpoint's scope: 403 ``insufficient_scope`` naming the scope;
- the provider's keys cannot be had: 503 with ``Retry-After``.
Bodies are JSON and repeat the error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

from authlib.integrations.flask_oauth2 import ResourceProtector, token_authenticated
from authlib.integrations.flask_oauth2 import current_token as current_claims
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError
from flask import Flask, Response, abort, current_app, g, jsonify, request
from typing_extensions import override

from .access_token_validator import AccessTokenValidator
from .bearer import bearer_challenge
from .jwks_cache import JWKSUnavailable

__all__ = ["BearerProtector", "View", "current_claims", "require_scope"]

#: a Flask view function, as the decorators here take and return it
View = Callable[..., Any]


def require_scope(scope: str | None) -> Callable[[View], View]:
    """Guard a view: a valid access token for this API carrying ``scope`` (None: any
    valid token for this API).

    The protector is the app's own (``BearerProtector.init_app``), so an app factory can
    build as many apps as it likes, each validating for its own audience.
    """

    def decorator(view: View) -> View:
        scopes = [scope] if scope else None

        @wraps(view)
        def protected(*args: Any, **kwargs: Any) -> Any:
            protector = current_app.extensions["bearer_protector"]
            try:
                protector.acquire_token(scopes)
            except OAuth2Error as error:
                protector.raise_error_response(error)
            return view(*args, **kwargs)

        return protected

    return decorator


class BearerProtector(ResourceProtector):
    def __init__(self, validator: AccessTokenValidator):
        super().__init__()
        self.register_token_validator(validator)
        self.realm = validator.realm

    def init_app(self, app: Flask) -> None:
        app.extensions["bearer_protector"] = self

    @override
    def parse_request_authorization(self, request: Any) -> tuple[Any, str]:
        validator, token = super().parse_request_authorization(request)
        # RFC 6750: "Bearer" and one token68; anything else is a malformed request.
        # (str.split splits on exactly what str.isspace calls whitespace, in C, not per character.)
        words = token.split()
        if len(words) != 1:
            raise UnsupportedTokenTypeError(self._default_auth_type, self._default_realm)
        return validator, words[0]

    @override
    def acquire_token(self, scopes: list[str] | None = None, **kwargs: Any) -> Any:
        # Authlib's own acquire_token wraps the request in an object built from its full
        # URL, which nothing here reads: the validators look at the Authorization header only.
        if isinstance(scopes, str):
            scopes = [scopes]
        try:
            token = self.validate_request(scopes, _HeadersOnly(request.headers), **kwargs)
        except JWKSUnavailable:
            body = {
                "error": "temporarily_unavailable",
                "error_description": "The identity provider's keys cannot be fetched",
            }
            abort(self._answer(503, body, extra_headers={"Retry-After": "5"}))
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token
        return token

    @override
    def raise_error_response(self, error: OAuth2Error) -> NoReturn:
        if isinstance(error, MissingAuthorizationError):
            abort(self._answer(401, {"error_description": "An access token is required"}))
        if isinstance(error, UnsupportedTokenTypeError):
            description = "The Authorization header must be: Bearer <access token>"
            abort(self._answer(400, {"error": "invalid_request", "error_description": description}))
        body = {"error": error.error, "error_description": error.get_error_description()}
        scope = getattr(error, "required_scope", None)
        abort(self._answer(error.status_code, body, scope=scope))

    def _answer(
        self, status: int, body: dict, scope: str | None = None, extra_headers: dict[str, str] | None = None
    ) -> Response:
        # A 503 is the provider's outage, not a fault of the token: no error in the challenge.
        error = body.get("error") if status != 503 else None
        challenge = bearer_challenge(self.realm, error, body.get("error_description") if error else None, scope)
        if scope:
            body = {**body, "scope": scope}
        response = jsonify(body)
        response.status_code = status
        response.headers["WWW-Authenticate"] = challenge
        response.headers["Cache-Control"] = "no-store"
        for name, value in (extra_headers or {}).items():
            response.headers[name] = value
        return response


class _HeadersOnly:
    """What Authlib's token validators read of a request."""

    def __init__(self, headers: Any) -> None:
        self.headers = headers
