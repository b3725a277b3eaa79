"""The authorization server: Authlib's, with the tenant's grants registered on it.

What this server supports is the list of ``grants/registry.py``. Two things are added
around Authlib: every token request leaves a tenant log entry, and errors raised inside
Authlib are given the imitated provider's answer (``errors.normalise``).
"""

from __future__ import annotations

import re
from functools import cached_property

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Error, OAuth2Request
from flask import request as flask_request
from typing_extensions import override

from . import tenant_log
from .errors import InvalidClient, InvalidRequest, Unauthorized, normalise
from .grants import registry
from .grants.base import TenantGrant
from .oauth_adapters import OAuthClient
from .provider import idp
from .revocation import RevocationEndpoint


class AuthorizationServer(FlaskAuthorizationServer):
    @override
    def query_client(self, client_id):
        client = idp().tenant().client(client_id)
        return OAuthClient(client) if client else None

    @override
    def create_oauth2_request(self, request):
        return _OAuth2Request(flask_request)

    @override
    def save_token(self, token, request):
        pass  # tokens are stored where they are minted (tokens.py)

    @override
    def authenticate_client(self, request, methods, endpoint="token"):
        _reject_two_authentication_methods(request)
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except (InvalidClientError, UnicodeError, ValueError):
            # UnicodeError, ValueError: an Authorization: Basic header that is not base64 of UTF-8.
            raise Unauthorized() from None
        request.client = client  # the refusals below are logged under the client that authenticated
        _check_how_the_client_authenticated(request, client)
        return client

    @override
    def get_authorization_grant(self, request):
        _reject_malformed_parameters(request)
        return super().get_authorization_grant(request)

    @override
    def create_token_response(self, request=None):
        request = self.create_oauth2_request(request)
        grant = None
        try:
            # The grant first (Authlib echoes grant_type, so its characters are checked before),
            # so every later refusal is logged as that grant's; a grant_type refused before
            # that is logged as a failed code exchange (``_log_refused_grant_type``).
            _reject_malformed_parameters(request, ("grant_type",))
            grant = self.get_token_grant(request)
            _reject_repeated_parameters(request)
            _reject_malformed_parameters(request)
            grant.validate_token_request()
            status, body, headers = grant.create_token_response()
            # What the grant stores and its success entry: one transaction, one commit.
            with idp().storage.transaction():
                grant.store_with_log_entry()
                _log(request, grant, grant.LOG_EVENTS.success.code, None, issued=body)
        except OAuth2Error as error:
            error = normalise(error)
            if grant is None:
                _log_refused_grant_type(request, error)
            else:
                _log(
                    request,
                    grant,
                    getattr(error, "log_type", None) or grant.LOG_EVENTS.failure.code,
                    getattr(error, "log_description", None) or error.description,
                    reason=getattr(error, "log_reason", None),
                )
            return self.handle_error_response(request, error)
        return self.handle_response(status, body, headers)

    @override
    def handle_error_response(self, request, error):
        return super().handle_error_response(request, normalise(error))


class _OAuth2Request(FlaskOAuth2Request):
    """Authlib's request wrapper, without building the full URL for every request: only its
    transport check reads it at once, and that check needs just the scheme and the host.
    The URL is made when something asks for it."""

    def __init__(self, request):
        # The request itself, not Flask's proxy to it: every read through the proxy looks
        # the request up again, and the parameters are read a few dozen times a request.
        request = request._get_current_object()
        OAuth2Request.__init__(self, request.method, f"{request.scheme}://{request.host}/", headers=request.headers)
        self._request = request
        self.payload = _Payload(request)

    @property
    def uri(self) -> str:
        return self._request.url

    @uri.setter
    def uri(self, value: str) -> None:
        pass  # always the request's own URL


class _Payload(FlaskOAuth2Payload):
    """The request's parameters (query and body, as Flask's ``request.values``), looked up
    once: Authlib reads ``data`` on every parameter it checks."""

    @cached_property
    def data(self):
        request = self._request
        # Without a query string, ``values`` of a POST is just its form: read it directly.
        return request.form if request.method != "GET" and not request.args else request.values


def _reject_two_authentication_methods(request):
    # RFC 6749 2.3: "The client MUST NOT use more than one authentication method in each
    # request." Otherwise a failing method would be ignored when the other one passes.
    basic = request.headers.get("Authorization", "").lower().startswith("basic ")
    in_body = [name for name in ("client_secret", "client_assertion") if request.payload.data.get(name) is not None]
    if len(in_body) + basic > 1:
        raise InvalidRequestError("More than one client authentication method in the request")


def _check_how_the_client_authenticated(request, client) -> None:
    """The body's ``client_id`` must not contradict the client of the Authorization header
    (which would otherwise win unnoticed), and the client must use the method it is
    registered for, as the provider enforces ``token_endpoint_auth_method``."""
    claimed = request.payload.data.get("client_id")
    if request.auth_method == "client_secret_basic" and claimed is not None and claimed != client.client_id:
        raise InvalidClient(
            "client_id does not name the client of the Authorization header",
            f"client_id '{claimed}' in the body; '{client.client_id}' in the Authorization header",
        )
    registered = client.token_endpoint_auth_method
    if request.auth_method != registered:
        raise InvalidClient(
            f"The client must authenticate with {registered}",
            f"authenticated with {request.auth_method}; registered for {registered}",
        )


def _reject_repeated_parameters(request):
    # RFC 6749 3.2: parameters must not be included more than once.
    for name, values in request.payload.datalist.items():
        if len(values) > 1:  # InvalidRequest: a name may hold characters a description may not
            raise InvalidRequest(f"Repeated parameter: {name}")


# RFC 6749 Appendix A: the characters each of its parameters may hold. Authlib echoes some
# of them in error descriptions, which may not carry other characters (e.g. a quote).
_VSCHAR = re.compile(r"[\x20-\x7e]*")
_SYNTAX = {
    "client_id": _VSCHAR,
    "state": _VSCHAR,
    "code": _VSCHAR,
    "refresh_token": _VSCHAR,
    "response_type": re.compile(r"[A-Za-z0-9_ ]*"),
    "scope": re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*"),
    "grant_type": re.compile(r"[\x21-\x7e]*"),
    # A URI-reference (RFC 3986 section 4.1): unreserved, reserved and percent-encoded
    # characters only. Authlib quotes a refused one in its error, which may not hold a
    # backslash, a quote or a control character (RFC 6749 section 5.2).
    "redirect_uri": re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*"),
}


def _reject_malformed_parameters(request, names=tuple(_SYNTAX)):
    data = request.payload.data
    for name in names:
        # ``in`` first: a werkzeug MultiDict's ``get`` of a missing name raises and catches
        # an exception, and most of these parameters are absent from any one request.
        if name not in data:
            continue
        value = data.get(name)
        if value is not None and not _SYNTAX[name].fullmatch(value):
            raise InvalidRequestError(f"Malformed parameter: {name} holds characters RFC 6749 does not allow")


def _log(
    request, grant: TenantGrant, event_type: str, description: str | None, issued: dict | None = None, reason=None
) -> None:
    client = request.client
    details = {"grant_type": request.payload.grant_type, "scope": request.payload.scope}
    if reason:
        details["reason"] = reason
    if issued:
        # What was issued, never the tokens themselves.
        details["issued"] = {
            "scope": issued.get("scope"),
            "expires_in": issued.get("expires_in"),
            "id_token": "id_token" in issued,
            "refresh_token": "refresh_token" in issued,
        }
    tenant_log.record(
        event_type,
        description,
        client_id=client.client_id if client else request.payload.client_id,
        audience=grant.audience,
        user_id=grant.user_id,
        details=details,
    )


def _log_refused_grant_type(request, error: OAuth2Error) -> None:
    # A missing, malformed or unsupported grant_type: no grant to name the event, so the
    # token endpoint's most common one, the failed code exchange, with the error as reason.
    client_id = request.payload.client_id
    tenant_log.record(
        "feacft",
        error.description or error.error,
        client_id=client_id if idp().tenant().client(client_id) else None,
        details={"grant_type": request.payload.grant_type, "reason": error.error},
    )


def create_server(app) -> AuthorizationServer:
    server = AuthorizationServer()
    server.init_app(app)
    for grant in registry.GRANTS:
        server.register_grant(grant, list(grant.EXTENSIONS))
    server.register_endpoint(RevocationEndpoint)
    return server
