"""Token exchange (RFC 8693), On-Behalf-Of: a Source API trades the user's access token
for one issued to a Target API, for the same user. Impersonation only.

Authlib 1.9 ships no RFC 8693 grant; this is one, registered like the others. The checks
run in this order, each failing with the answer of the troubleshooting table:

  1. the client authenticates (T17)
  2. it is the Token Exchange client of an API with exchange enabled (T16)
  3. it is within its rate limit (T28)
  4. no actor token (T27), subject_token_type is an access token (T26), and so is
     requested_token_type when sent (T26: the only type this server issues)
  5. subject_token and audience are present (T19); a ``resource`` (RFC 8707), when sent,
     names the same API as ``audience`` (T20: invalid_target)
  6. the subject token verifies: signed by this tenant (T24), unexpired (T23), issued
     for the exchanging API (T25); the login it belongs to is not revoked (T39)
  7. the audience is an API of the tenant (T20), paired with the source (T18), that lets
     consent be skipped (T22), and every asked scope is selected in the pairing (T21)
  8. under the tenant's ``bounded`` policy (docs/security.md): every asked scope is one
     the subject token carries, and offline_access one the user granted at login (T38)
  9. offline_access is granted only where the client and the Target API allow it (T07);
     the tenant's rules run (protocol ``token_exchange``), then the tokens are issued;
     under ``bounded`` none expires after the subject token.

Under either policy, ``profile`` and ``email`` are issued only when the subject token
carries them: the user granted those claims at login, or never (OIDC Core 5.4).

Under the tenant's ``current`` profile (the provider's current On-Behalf-Of setup,
docs/mock-idp.md) steps 2, 4, 6 and 9 differ: 2. the client is a Custom API client
(T40); 4. subject_token, subject_token_type, requested_token_type and audience are
required (T41, T19, T26), and an actor_token is the client's own (T43, ``delegation``);
6. a subject or actor token that does not verify is 401 (T42, T43), then the ``act``
chain is built (T43 may_act, T44 depth); 9. an access token only: no ID token, no
refresh token.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.grants import TokenEndpointMixin
from typing_extensions import override

from .. import clock
from ..errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    NotCustomApiClient,
    ScopeBeyondSubjectToken,
    SubjectGrantRevoked,
    TokenRefused,
)
from ..provider import idp
from ..tenant import OIDC_SCOPES
from ..token_verification import TokenRejected, verify_access_token
from ..tokens import ACCESS_TOKEN_TYPE, Issue, new_family
from . import delegation
from .base import GrantOutcome, LogEvent, LogEvents, TenantGrant, api_of_audience, with_offline_access

# Claims about the user, released only when the login granted them.
IDENTITY_SCOPES = ("profile", "email")
# Scopes of tokens the ``current`` profile never issues (an ID token, a refresh token).
NOT_ISSUED_BY_CURRENT = ("openid", "offline_access")


class TokenExchangeGrant(TenantGrant, TokenEndpointMixin):
    GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
    LOG_EVENTS = LogEvents(
        LogEvent("success_on_behalf_of_token_exchange", "Success On-Behalf-Of Token Exchange"),
        LogEvent("failed_on_behalf_of_token_exchange", "Failed On-Behalf-Of Token Exchange"),
    )
    RULES_PROTOCOL = "token_exchange"

    @override
    def client_may_use_grant(self, client) -> bool:
        tenant = idp().tenant()
        if tenant.token_exchange_profile == "current":
            if tenant.custom_api_of(client.client_id) is None:
                raise NotCustomApiClient()  # T40
            return True
        return tenant.exchange_api_of(client.client_id) is not None

    @override
    def validate_token_request(self):  # noqa: C901  (the exchange's checks, in the order of its cases)
        # 1-3: the client, its API, its rate limit
        client = self.authenticate_token_endpoint_client()  # T17, T16
        tenant = idp().tenant()
        current = tenant.token_exchange_profile == "current"
        source_api = tenant.custom_api_of(client.client_id) if current else tenant.exchange_api_of(client.client_id)
        data = self.request.payload.data
        limit = tenant.rate_limits.token_exchange
        idp().rate_limiter.hit(f"token_exchange:{client.client_id}", limit.limit, limit.window)  # T28

        # 4-5: the parameters
        if current:
            delegation.require_parameters(data)  # T41, T19, T26, T43
        elif data.get("actor_token") or data.get("actor_token_type"):
            raise InvalidRequest("actor_token is not supported: impersonation only")  # T27
        if data.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            raise InvalidRequest("Unsupported subject_token_type")  # T26
        if data.get("requested_token_type") not in (None, ACCESS_TOKEN_TYPE):
            raise InvalidRequest("Unsupported requested_token_type: this server issues access tokens only")  # T26
        if not data.get("subject_token"):
            raise InvalidRequest("Missing required parameter: subject_token")  # T19
        audience = data.get("audience")
        if not audience:
            raise InvalidRequest("Missing required parameter: audience")  # T19
        if data.get("resource") not in (None, audience):  # T20
            raise InvalidTarget("resource and audience must name the same API: send the Target API's identifier")
        self.audience = audience

        # 6: the subject token and its login
        try:
            subject = verify_access_token(data["subject_token"], source_api.identifier, what="subject_token")
        except TokenRejected as rejected:
            raise (TokenRefused if current else InvalidRequest)(rejected.reason) from None  # T23-T25, T42
        self.user_id = subject["sub"]
        if subject.get("grant_id") and idp().storage.grant_revoked(subject["grant_id"]):
            revoked = SubjectGrantRevoked()  # T39
            revoked.status_code = 401 if current else revoked.status_code
            raise revoked
        act = None
        if current:
            actor = delegation.actor_of(data.get("actor_token"), client.client_id, audience)  # T43
            act = delegation.act_claim(subject, actor, tenant.token_exchange_delegation_depth)  # T43, T44

        # 7: the target and the pairing
        target = api_of_audience(audience)  # T20
        pairing = tenant.pairing(source_api.identifier, target.identifier)
        if pairing is None:  # T18
            raise AccessDenied(
                f"Client {client.client_id} ({source_api.identifier}) is not paired with "
                f"{target.identifier}: add a Source API/Target API pairing"
            )
        if not target.skip_consent_for_verifiable_first_party_clients:
            raise ConsentRequired("The target API does not allow skipping user consent")  # T22
        asked = self.asked_scopes() or list(pairing.scopes)
        outside = [s for s in asked if s not in pairing.scopes and s not in OIDC_SCOPES]
        if outside:
            raise InvalidScope(f"Scope not selected in the API pairing: {' '.join(outside)}")  # T21

        # 8: the bounded policy
        granted = str(subject.get("scope", "")).split()
        bounded = tenant.token_exchange_policy == "bounded"
        if bounded:
            _within_the_login(asked, granted)  # T38
        user = tenant.user(subject["sub"])
        if user is None:
            raise InvalidRequest("subject_token subject is not a user of this tenant")

        scopes = [s for s in dict.fromkeys(asked) if s not in IDENTITY_SCOPES or s in granted]
        if current:
            scopes = [s for s in scopes if s not in NOT_ISSUED_BY_CURRENT]
        scopes, offline = with_offline_access(scopes, client.client, target)  # T07
        grant = new_family()
        self.outcome = GrantOutcome(
            Issue(
                client=client.client,
                subject=user.user_id,
                user=user,
                api=target,
                scopes=scopes,
                auth_time=subject.get("auth_time"),
                id_token="openid" in scopes,
                refresh_family=grant if offline else None,
                issued_token_type=ACCESS_TOKEN_TYPE,
                grant_id=grant,
                not_after=subject["exp"] if bounded else None,
                extra_access_claims={"act": act} if act else {},
            ),
            derived_from=subject.get("grant_id"),
            subject_audience=source_api.identifier,
        )

    @override
    def create_token_response(self):
        # 9: link the new grant to the login's, run the rules, issue
        outcome = self.outcome
        issue = outcome.issue
        if outcome.derived_from and not idp().storage.link_grant(issue.grant_id, outcome.derived_from, clock.now()):
            raise SubjectGrantRevoked()  # revoked while this exchange ran (T39)
        issue = self.apply_rules(issue, outcome.subject_audience)
        return self.store_and_answer(issue)


def _within_the_login(asked: list[str], granted: list[str]) -> None:
    """The ``bounded`` policy (T38): no scope beyond the subject token's. offline_access is
    granted only by this login: a consent given at an earlier login does not count."""
    beyond = [s for s in dict.fromkeys(asked) if s not in granted and s != "offline_access"]
    if beyond:
        raise ScopeBeyondSubjectToken(f"Scope not granted to the subject token: {' '.join(beyond)}")
    if "offline_access" in asked and "offline_access" not in granted:
        raise ScopeBeyondSubjectToken("Scope not granted at login: offline_access")
