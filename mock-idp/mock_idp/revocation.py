"""POST /oauth/revoke (RFC 7009): a client revokes one of its refresh tokens.

Revoking a refresh token revokes its whole family (the grant of that login), as the
imitated provider does, and every grant a token exchange made from it (RFC 7009 2.1).
An unknown token is answered 200, as RFC 7009 asks; a token_type_hint that is unknown or
names a type this server does not revoke (its access tokens are JWTs) is ignored, and the
search covers every type it does (2.1).
"""

from __future__ import annotations

from typing import ClassVar

from authlib.oauth2.rfc7009 import RevocationEndpoint as Rfc7009RevocationEndpoint
from typing_extensions import override

from . import clock, tenant_log
from .errors import InvalidRequest, Unauthorized
from .oauth_adapters import TOKEN_ENDPOINT_AUTH_METHODS, RefreshToken
from .provider import idp
from .tokens import digest


class RevocationEndpoint(Rfc7009RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_ENDPOINT_AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("refresh_token",)

    @override
    def authenticate_endpoint_client(self, request):
        client = super().authenticate_endpoint_client(request)
        if client is None:
            raise Unauthorized()
        return client

    @override
    def check_params(self, request, client):
        # Authlib refuses an unsupported hint with a 401 unsupported_token_type; RFC 7009 2.1
        # says an invalid hint "is ignored by the authorization server".
        if not request.form.get("token"):
            raise InvalidRequest("Missing required parameter: token")

    @override
    def query_token(self, token_string, token_type_hint):
        row = idp().storage.refresh_token(digest(token_string))
        return RefreshToken(row) if row else None

    @override
    def revoke_token(self, token, request):
        derived = idp().storage.revoke_family(token.family_id, clock.now())
        tenant_log.record(
            "srrt",
            client_id=token.client_id,
            audience=token.audience,
            user_id=token.user_id,
            details={"derived_grants_revoked": derived},
        )
