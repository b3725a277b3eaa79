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
     consent be skipped (T22), and every asked scope is selected in the pairing (T21); the
     API's step-up policy, for the scopes it names, finds the login strong enough (T45) and
     recent enough (T46), else ``insufficient_user_authentication`` (RFC 9470)
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
refresh token. Each profile is a class of ``exchange_profiles.py``; the checks below
are one sequence for both.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.grants import TokenEndpointMixin
from typing_extensions import override

from .. import clock
from ..errors import (
    AccessDenied,
    ConsentRequired,
    InsufficientUserAuthentication,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    ScopeBeyondSubjectToken,
    SubjectGrantRevoked,
)
from ..provider import idp
from ..tenant import OIDC_SCOPES, ApiPairing, ResourceServer
from ..token_verification import TokenRejected, verify_access_token
from ..tokens import ACCESS_TOKEN_TYPE, Issue, new_family, new_refresh_token, token_response
from .base import GrantOutcome, LogEvent, LogEvents, TenantGrant, api_of_audience, with_offline_access
from .exchange_profiles import PROFILES, ExchangeProfile

# Claims about the user, released only when the login granted them.
IDENTITY_SCOPES = ("profile", "email")


class TokenExchangeGrant(TenantGrant, TokenEndpointMixin):
    GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
    LOG_EVENTS = LogEvents(
        LogEvent("success_on_behalf_of_token_exchange", "Success On-Behalf-Of Token Exchange"),
        LogEvent("failed_on_behalf_of_token_exchange", "Failed On-Behalf-Of Token Exchange"),
    )
    RULES_PROTOCOL = "token_exchange"
    #: the refresh token's row, stored by store_with_log_entry (None: no refresh token)
    refresh_row: dict | None = None

    @override
    def client_may_use_grant(self, client) -> bool:
        tenant = idp().tenant()
        return PROFILES[tenant.token_exchange_profile].source_api(tenant, client.client_id) is not None

    @override
    def validate_token_request(self):
        tenant = idp().tenant()
        profile = PROFILES[tenant.token_exchange_profile]
        data = self.request.payload.data

        client = self.authenticate_token_endpoint_client()  # 1-2: T17, T16 (T40)
        source_api = profile.source_api(tenant, client.client_id)
        assert source_api is not None  # authenticate_token_endpoint_client checked the client may exchange
        limit = tenant.rate_limits.token_exchange
        idp().rate_limiter.hit(f"token_exchange:{client.client_id}", limit.limit, limit.window)  # 3: T28
        profile.check_parameters(data)  # 4: T27 (T41, T43)
        self.audience = audience = _exchange_parameters(data)  # 4-5: T26, T19, T20
        subject = self._subject(profile, data["subject_token"], source_api.identifier)  # 6: T23-T25, T39 (T42)
        act = profile.act(data, subject, client.client_id, audience, tenant)  # 6: (T43, T44)
        target, pairing = _paired_target(client.client_id, source_api, audience)  # 7: T20, T18, T22
        asked = _within_the_pairing(self.asked_scopes() or list(pairing.scopes), pairing.scopes)  # 7: T21
        _login_strong_enough(target, asked, subject)  # 7: T45, T46
        granted = str(subject.get("scope", "")).split()
        bounded = tenant.token_exchange_policy == "bounded"
        if bounded:
            _within_the_login(asked, granted)  # 8: T38
        user = tenant.user(subject["sub"])
        if user is None:
            raise InvalidRequest("subject_token subject is not a user of this tenant")

        # 9: identity claims only where the login granted them; what the profile issues; T07
        scopes = [s for s in dict.fromkeys(asked) if s not in IDENTITY_SCOPES or s in granted]
        scopes = [s for s in scopes if s not in profile.NOT_ISSUED]
        scopes, offline = with_offline_access(scopes, client.client, target)
        grant = new_family()
        self.outcome = GrantOutcome(
            Issue(
                client=client.client,
                subject=user.user_id,
                user=user,
                api=target,
                scopes=scopes,
                auth_time=subject.get("auth_time"),
                # How strongly the user logged in travels with the user (RFC 9470 step-up).
                acr=subject.get("acr") if isinstance(subject.get("acr"), str) else None,
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

    def _subject(self, profile: ExchangeProfile, token: str, source_api: str) -> dict:
        """The subject token's claims: it verifies, signed by this tenant (T24), unexpired
        (T23), issued for the exchanging API (T25), and its login is not revoked (T39)."""
        try:
            subject = verify_access_token(token, source_api, what="subject_token")
        except TokenRejected as rejected:
            raise profile.subject_refused(rejected.reason) from None
        self.user_id = subject["sub"]
        if subject.get("grant_id") and idp().storage.grant_revoked(subject["grant_id"]):
            raise profile.subject_revoked()
        return subject

    @override
    def create_token_response(self):
        # 9: run the rules, issue; the new grant is stored with the success log entry
        outcome = self.decided()
        issue = self.apply_rules(outcome.issue, outcome.subject_audience)
        refresh, self.refresh_row = new_refresh_token(issue) if issue.refresh_family else (None, None)
        return 200, token_response(issue, refresh), self.TOKEN_RESPONSE_HEADER

    @override
    def store_with_log_entry(self) -> None:
        """The new grant, linked to the login's so that revoking the login revokes it, and its
        refresh token: in the transaction of the success log entry, so all of it is stored
        with one commit, or none of it (a crash, a refusal)."""
        outcome = self.decided()
        grant_id = outcome.issue.grant_id
        assert grant_id is not None  # every exchange makes a grant of its own
        storage = idp().storage
        if outcome.derived_from and not storage.link_grant(grant_id, outcome.derived_from, clock.now()):
            raise SubjectGrantRevoked()  # revoked while this exchange ran (T39): its tokens are never answered
        if self.refresh_row:
            storage.save_refresh_token(**self.refresh_row)


def _exchange_parameters(data) -> str:
    """The parameters both profiles check (T26, T19, T20); the audience."""
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
    return audience


def _paired_target(client_id: str, source_api: ResourceServer, audience: str) -> tuple[ResourceServer, ApiPairing]:
    """The Target API: an API of the tenant (T20), paired with the source (T18), that lets
    consent be skipped (T22)."""
    target = api_of_audience(audience)
    pairing = idp().tenant().pairing(source_api.identifier, target.identifier)
    if pairing is None:
        raise AccessDenied(
            f"Client {client_id} ({source_api.identifier}) is not paired with "
            f"{target.identifier}: add a Source API/Target API pairing"
        )
    if not target.skip_consent_for_verifiable_first_party_clients:
        raise ConsentRequired("The target API does not allow skipping user consent")
    return target, pairing


def _within_the_pairing(asked: list[str], selected: tuple[str, ...]) -> list[str]:
    """Every asked scope is selected in the pairing, or one of OpenID Connect's (T21)."""
    outside = [s for s in asked if s not in selected and s not in OIDC_SCOPES]
    if outside:
        raise InvalidScope(f"Scope not selected in the API pairing: {' '.join(outside)}")
    return asked


def _login_strong_enough(target: ResourceServer, asked: list[str], subject: dict) -> None:
    """The Target API's step-up policy (RFC 9470): for the scopes it names, the subject
    token's login has one of its acr values (T45) and is at most max_age old (T46)."""
    policy = target.step_up
    if not set(asked) & set(policy.scopes):
        return
    if policy.acr_values and subject.get("acr") not in policy.acr_values:
        description = f"A stronger login is required (acr: {' or '.join(policy.acr_values)})"
        raise InsufficientUserAuthentication(description, policy.acr_values, policy.max_age)
    auth_time = subject.get("auth_time")
    # max_age=0 is a login of this very moment (OIDC Core 3.1.2.1): no exchange after it is one.
    too_old = not isinstance(auth_time, int) or policy.max_age == 0 or clock.now() - auth_time > (policy.max_age or 0)
    if policy.max_age is not None and too_old:
        description = f"A more recent login is required (within {policy.max_age} seconds)"
        raise InsufficientUserAuthentication(description, policy.acr_values, policy.max_age)


def _within_the_login(asked: list[str], granted: list[str]) -> None:
    """The ``bounded`` policy (T38): no scope beyond the subject token's. offline_access is
    granted only by this login: a consent given at an earlier login does not count."""
    beyond = [s for s in dict.fromkeys(asked) if s not in granted and s != "offline_access"]
    if beyond:
        raise ScopeBeyondSubjectToken(f"Scope not granted to the subject token: {' '.join(beyond)}")
    if "offline_access" in asked and "offline_access" not in granted:
        raise ScopeBeyondSubjectToken("Scope not granted at login: offline_access")
