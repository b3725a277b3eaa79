"""authorization_code: log a user in (with PKCE) and exchange the code for tokens.

At /authorize, after Authlib's checks (client, exact redirect_uri, response_type):
the audience names an API of the tenant -> scopes are cut to what that API and OpenID
Connect define -> prompt is well formed -> PKCE S256 (extension).
At /oauth/token: the client authenticates -> may use this grant -> the code exists,
is unused, unexpired and was issued to this client (a reused code revokes what it
produced) -> redirect_uri equals the one sent to /authorize -> code_verifier matches.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error, grants

from .. import clock
from ..errors import AccessDenied, InvalidGrant, InvalidRequest
from ..oauth_adapters import AuthorizationCode
from ..provider import idp
from ..tenant import OIDC_SCOPES
from ..tokens import Issue, digest, new_family, token_response
from .base import TenantGrant

PROMPTS = {"none", "login", "consent"}


class AuthorizationCodeGrant(TenantGrant, grants.AuthorizationCodeGrant):
    LOG_EVENTS = ("seacft", "feacft")

    # -- /authorize ------------------------------------------------------------------

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        try:
            self._resolve_audience_and_scope()
            self.prompts = _prompts(self.request.payload.data.get("prompt"))
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def _resolve_audience_and_scope(self):
        tenant = idp().tenant()
        audience = self.request.payload.data.get("audience") or tenant.default_audience or None
        api = tenant.resource_server(audience) if audience else None
        if audience and (api is None or api.is_system):
            raise AccessDenied(f"Service not enabled within domain: {audience}")
        known = set(OIDC_SCOPES) | set(api.scope_values if api else ())
        requested = (self.request.payload.scope or "").split()
        self.request.api = api
        self.request.audience = audience
        self.request.scope = " ".join(dict.fromkeys(s for s in requested if s in known))

    def save_authorization_code(self, code, request):
        data = request.payload.data
        now = clock.now()
        idp().storage.save_code(
            code_hash=digest(code),
            client_id=request.client.client_id,
            user_id=request.user.user_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            audience=request.audience,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=request.auth_time,
            created_at=now,
            expires_at=now + idp().settings.authorization_code_lifetime,
        )

    # -- /oauth/token ----------------------------------------------------------------

    def query_authorization_code(self, code, client):
        now = clock.now()
        storage = idp().storage
        row, used_before = storage.use_code(digest(code), now)
        if row is None or row["client_id"] != client.client_id:
            raise InvalidGrant("Invalid authorization code")
        self.request.user_id = row["user_id"]
        self.request.audience = row["audience"]
        if used_before:
            # RFC 6749 4.1.2: a code used twice revokes the tokens issued from it.
            storage.revoke_tokens_of_code(row["code_hash"], now)
            raise InvalidGrant("Invalid authorization code")
        code = AuthorizationCode(row)
        if code.is_expired():
            raise InvalidGrant("Invalid authorization code")
        return code

    def delete_authorization_code(self, authorization_code):
        pass  # codes are marked used when redeemed and kept, so a replay can be detected

    def authenticate_user(self, authorization_code):
        return idp().tenant().user(authorization_code.user_id)

    def create_token_response(self):
        code = self.request.authorization_code
        client = self.request.client.client
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrant("The user of this authorization code no longer exists")
        self.request.user = user
        api = idp().tenant().resource_server(code.audience) if code.audience else None
        scopes = code.scope.split()
        offline = "offline_access" in scopes and "refresh_token" in client.grant_types
        offline = offline and (api is None or api.allow_offline_access)
        if not offline and "offline_access" in scopes:
            scopes.remove("offline_access")
        grant = new_family()
        issue = Issue(
            client=client,
            subject=user.user_id,
            user=user,
            api=api,
            scopes=scopes,
            nonce=code.nonce,
            auth_time=code.auth_time,
            id_token="openid" in scopes,
            refresh_family=grant if offline else None,
            code_hash=code.code_hash,
            grant_id=grant,
        )
        issue = self.apply_rules(issue)
        return 200, token_response(issue), self.TOKEN_RESPONSE_HEADER


def _prompts(value: str | None) -> set[str]:
    prompts = set((value or "").split())
    if not prompts <= PROMPTS:
        raise InvalidRequest(f"Unsupported prompt value: {' '.join(sorted(prompts - PROMPTS))}")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return prompts
