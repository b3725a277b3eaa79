"""authorization_code: log a user in (with PKCE) and exchange the code for tokens.

At /authorize, after Authlib's checks (client, exact redirect_uri (T01), response_type):
the audience names an API of the tenant -> the API lets this client log users in for it
(its user-flow policy) -> scopes are cut to what that API and OpenID Connect define, and
the client may have -> prompt is well formed -> PKCE S256 (T04, the extension in pkce.py).
Login, consent (T08) and prompt=none (T09) are the views' (views/authorize.py).

At /oauth/token the checks run in this order, each failing with the answer of the
troubleshooting table:

  1. the client authenticates (401, as T17) and may use this grant (T06)
  2. the code is present; it exists, was issued to this client, is unused and
     unexpired (T05: a reused code revokes the tokens issued from it)
  3. redirect_uri equals the one sent to /authorize (T02)
  4. code_verifier matches the code_challenge (T03)
  5. the user still exists
  6. offline_access is granted only where the client and the API allow it (T07)
  7. the tenant's rules run, then the tokens are issued; the grant is linked to the login
     session the code came from, so revoking the grant ends that session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import OAuth2Error, grants
from typing_extensions import override

from .. import clock
from ..errors import InvalidGrant, InvalidRequest
from ..oauth_adapters import AuthorizationCode
from ..provider import idp
from ..tenant import OIDC_SCOPES, ResourceServer
from ..tokens import Issue, digest, new_family
from .base import (
    GrantOutcome,
    LogEvent,
    LogEvents,
    TenantGrant,
    allowed_for_users,
    api_of_audience,
    with_offline_access,
)
from .pkce import PKCE

PROMPTS = {"none", "login", "consent"}


@dataclass(frozen=True)
class AuthorizeOutcome:
    """What /authorize's checks decided, which the views read to ask for a login and a
    consent."""

    #: the API the login is for (``audience``, else the tenant's default), or None
    audience: str | None
    api: ResourceServer | None
    #: the scopes asked, cut to what the API and OpenID Connect define and the client may have
    scopes: list[str]
    prompts: set[str]
    #: OIDC Core 3.1.2.1: the seconds allowed since the user last authenticated
    max_age: int | None
    #: OIDC Core 3.1.2.1: the authentication levels asked for, preferred first (RFC 9470 step-up)
    acr_values: list[str] = field(default_factory=list)


class AuthorizationCodeGrant(TenantGrant, grants.AuthorizationCodeGrant):
    GRANT_TYPE = "authorization_code"
    LOG_EVENTS = LogEvents(
        LogEvent("seacft", "Success Exchange (Authorization Code for Access Token)"),
        LogEvent("feacft", "Failed Exchange (Authorization Code for Access Token)"),
    )
    RULES_PROTOCOL = "oidc-basic-profile"
    EXTENSIONS = (PKCE,)

    #: /authorize: set by validate_authorization_request, read by the views
    authorization: AuthorizeOutcome | None = None
    #: /authorize: set by the views once the user is logged in, kept with the code
    auth_time: int | None = None
    #: /authorize: how strongly the user logged in (authn_context.py), kept with the code
    acr: str | None = None
    #: the login session the code's grant is linked to (revoking the grant ends it)
    login_session_id: str | None = None

    # -- /authorize ------------------------------------------------------------------

    @override
    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        data = self.request.payload.data
        try:
            audience, api, scopes = self._audience_and_scopes()
            self.authorization = AuthorizeOutcome(
                audience,
                api,
                scopes,
                _prompts(data.get("prompt")),
                _max_age(data.get("max_age")),
                _acr_values(data.get("acr_values")),
            )
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        self.request.scope = " ".join(scopes)  # what Authlib and the code keep
        return redirect_uri

    def _audience_and_scopes(self) -> tuple[str | None, ResourceServer | None, list[str]]:
        tenant = idp().tenant()
        audience = self.request.payload.data.get("audience") or tenant.default_audience or None
        api = api_of_audience(audience) if audience else None
        known = set(OIDC_SCOPES) | set(api.scope_values if api else ())
        requested = self.asked_scopes()
        if api is not None:
            requested = allowed_for_users(self.request.client.client, api, requested)
        return audience, api, list(dict.fromkeys(s for s in requested if s in known))

    @override
    def save_authorization_code(self, code, request):
        data = request.payload.data
        authorization = self.authorization
        assert authorization is not None  # a code is issued only after validate_authorization_request
        now = clock.now()
        idp().storage.save_code(
            code_hash=digest(code),
            client_id=request.client.client_id,
            user_id=request.user.user_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            audience=authorization.audience,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=self.auth_time,
            acr=self.acr,
            login_session_id=self.login_session_id,
            created_at=now,
            expires_at=now + idp().settings.authorization_code_lifetime,
        )

    # -- /oauth/token ----------------------------------------------------------------

    @override
    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        tenant = idp().tenant()

        value = self.request.form.get("code")
        if value is None:
            raise InvalidRequest("Missing 'code' in request.")
        code = self._redeem(value, client)
        if code.get_redirect_uri() and self.request.payload.redirect_uri != code.get_redirect_uri():
            raise InvalidGrant("Invalid 'redirect_uri' in request.")  # T02
        self.request.authorization_code = code  # what the PKCE check reads
        PKCE.validate_code_verifier(self, None)  # T03
        user = tenant.user(code.user_id)
        if user is None:
            raise InvalidGrant("The user of this authorization code no longer exists")

        api = tenant.resource_server(code.audience) if code.audience else None
        scopes, offline = with_offline_access(code.scope.split(), client.client, api)  # T07
        grant = new_family()
        self.login_session_id = code.login_session_id
        self.outcome = GrantOutcome(
            Issue(
                client=client.client,
                subject=user.user_id,
                user=user,
                api=api,
                scopes=scopes,
                nonce=code.nonce,
                auth_time=code.auth_time,
                acr=code.acr,
                id_token="openid" in scopes,
                refresh_family=grant if offline else None,
                code_hash=code.code_hash,
                grant_id=grant,
            )
        )

    def _redeem(self, value: str, client) -> AuthorizationCode:
        """The code, marked used: it exists, was issued to this client, was not used
        before (a reused code revokes the tokens issued from it) and is unexpired (T05)."""
        now = clock.now()
        storage = idp().storage
        row, used_before = storage.use_code(digest(value), now)
        if row is None or row["client_id"] != client.client_id:
            raise InvalidGrant("Invalid authorization code")
        self.user_id, self.audience = row["user_id"], row["audience"]
        if used_before:
            # RFC 6749 4.1.2: a code used twice revokes the tokens issued from it.
            storage.revoke_tokens_of_code(row["code_hash"], now)
            raise InvalidGrant("Invalid authorization code")
        code = AuthorizationCode(row)
        if code.is_expired():
            raise InvalidGrant("Invalid authorization code")
        return code

    @override
    def create_token_response(self):
        issue = self.apply_rules(self.decided().issue)
        if self.login_session_id and issue.grant_id:
            # Revoking this grant (logout, refresh token reuse) ends the session it came from.
            idp().storage.link_login_session(issue.grant_id, self.login_session_id, clock.now())
        return self.store_and_answer(issue)


def _prompts(value: str | None) -> set[str]:
    prompts = set((value or "").split())
    if not prompts <= PROMPTS:
        raise InvalidRequest(f"Unsupported prompt value: {' '.join(sorted(prompts - PROMPTS))}")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return prompts


def _max_age(value: str | None) -> int | None:
    # OIDC Core 3.1.2.1: the seconds allowed since the user last authenticated.
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise InvalidRequest("max_age must be a non-negative integer (seconds)")
    return int(value)


def _acr_values(value: str | None) -> list[str]:
    # Space-separated, preferred first; a value this tenant does not know is not an error
    # (acr is a voluntary claim unless asked as essential): the login offered is the strongest.
    if value is not None and len(value) > 1000:
        raise InvalidRequest("acr_values is too long")
    return list(dict.fromkeys((value or "").split()))
