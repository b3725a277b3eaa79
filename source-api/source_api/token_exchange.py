"""Step 3 and step 5 (second leg): Target API tokens for the user, exchanged and cached.

``TargetTokens.get(user_token)`` answers from the cache while the cached token has more
than ``renew_margin`` seconds to live; near expiry it refreshes with the Target API
refresh token when one was issued, and otherwise (or when that fails) exchanges the
user's token again. Simultaneous first calls for the same user token wait for one
exchange instead of each making their own. Each real exchange is counted against the
user's budget (exchange_budget.py); answers from the cache are not. An identity provider
that cannot be reached is a 503, one too slow a 504 (T32).

Where the tokens are kept, and how single flight holds across processes, is the token
cache's business (token_cache.py: in this process, or in Redis for every replica). A login
that ended (the web app's logout, ``forget_login``) or whose grant the provider revoked
loses every cached token at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from joserfc import jws
from joserfc.errors import JoseError

from obo_common import IdentityProviderEndpoints, IdentityProviderUnavailable, http_trace, request_id
from obo_common.step_up import ERROR as STEP_UP_ERROR
from obo_common.step_up import StepUpRequirement

from . import stale_connections
from .exchange_budget import ExchangeBudgetSpent, budget_for
from .problems import StepUpDownstream, UpstreamRefused, UpstreamTimeout, UpstreamUnavailable, UserTokenRefused
from .token_cache import EntryKey, TargetToken, TokenCache, token_cache_for

log = logging.getLogger(__name__)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
IDP = "identity-provider"
# How the flow inspector names the two calls (see obo_common/http_trace.py).
EXCHANGE_HOP = {"step": "3", "title": "Token exchange", "caller": "source-api", "callee": "identity provider"}
REFRESH_HOP = {
    "step": "5",
    "title": "Source API refreshes its Target API token",
    "caller": "source-api",
    "callee": "identity provider",
}
# Masked in the trace: the Source API's own credentials. The Target API refresh token and
# the client-credentials actor token are not the user's (one actor token serves everyone).
SECRETS = {
    "client_secret": "SOURCE_API_CLIENT_SECRET",
    "refresh_token": "TARGET_API_REFRESH_TOKEN",
    "actor_token": "SOURCE_API_ACTOR_TOKEN",
}


@dataclass
class Lookup:
    token: TargetToken
    source: str  # "cache", "exchange" or "refresh"


class TargetTokens:
    def __init__(
        self,
        settings,
        idp: IdentityProviderEndpoints,
        session: requests.Session,
        clock=time.time,
        profile=None,
        cache: TokenCache | None = None,
    ):
        self.settings = settings
        self.idp = idp
        self.session = session
        self.clock = clock
        self.cache = cache or token_cache_for(settings, clock)
        self.budget = budget_for(settings, self.cache, clock)
        # The tenant profile's extra parameters (exchange_profile.ExchangeProfile); none: legacy.
        self.profile = profile

    def get(self, user_token: str, user: str | None = None, claims: Mapping[str, Any] | None = None) -> Lookup:
        """``user`` (the token's ``sub``) is whose exchange budget a real exchange spends;
        ``claims``, the validated token's, say whose login the cached token belongs to."""
        key = self.key(user_token, user, claims)
        if user is None and claims:
            user = claims.get("sub")
        cached = self.cache.get(key)
        if cached is not None and self._usable(cached):
            # The common case answers without waiting on the single flight's lock.
            return self._hit(cached)
        with self.cache.single_flight(key):
            cached = self.cache.get(key)
            if cached is not None and self._usable(cached):
                return self._hit(cached)
            try:
                token = self._refresh(cached) if cached and cached.refresh_token else None
                if token is None:
                    if user is not None:
                        self.budget.spend(user)
                    token = self._exchange(user_token)
            except (UpstreamUnavailable, UpstreamTimeout, ExchangeBudgetSpent):
                # An outage (or a spent budget) while renewing early: the cached token still
                # works until it expires.
                if cached and cached.expires_at > self.clock():
                    self._trace_hit(cached, "the identity provider could not renew it, so it is used until then")
                    return Lookup(cached, "cache")
                raise
            except UserTokenRefused as refused:
                if "revoked" in refused.description:
                    # A login the provider revoked (a logout, a reused refresh token): whatever
                    # any replica cached for it goes too, and nothing is stored for it again.
                    self.cache.forget_login(key.login, _exp(claims))
                raise
            self._store(key, token, claims)
            return Lookup(token, token.obtained_by)

    def key(self, user_token: str, user: str | None = None, claims: Mapping[str, Any] | None = None) -> EntryKey:
        if claims is None and user is not None:
            claims = {"sub": user}
        return EntryKey.of(user_token, claims, self.settings)

    def forget(self, user_token: str, user: str | None = None, claims: Mapping[str, Any] | None = None) -> None:
        """Drop a cached token the Target API no longer accepts."""
        self.cache.forget(self.key(user_token, user, claims))

    def forget_login(self, user_token: str, claims: Mapping[str, Any] | None = None) -> int:
        """Drop every cached token of the login this user token belongs to (a logout)."""
        return self.cache.forget_login(self.key(user_token, claims=claims).login, _exp(claims))

    def forget_all(self) -> int:
        """Drop every cached token (the demo panel changed the tenant); answers how many."""
        return self.cache.forget_all()

    def _usable(self, cached: TargetToken) -> bool:
        return cached.expires_at - self.settings.renew_margin > self.clock()

    def _hit(self, cached: TargetToken) -> Lookup:
        self._trace_hit(cached, "no exchange needed")
        return Lookup(cached, "cache")

    # -- the two requests to the token endpoint -----------------------------------------

    def _exchange(self, user_token: str) -> TargetToken:
        body = self._post(
            {
                "grant_type": TOKEN_EXCHANGE,
                "subject_token": user_token,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "audience": self.settings.target_audience,
                "scope": self.settings.exchange_scope,
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
                **(self.profile.form() if self.profile else {}),
            }
        )
        log.info("exchanged the user's token for a %s token", self.settings.target_audience)
        return self._target_token(body, "exchange")

    def _refresh(self, cached: TargetToken) -> TargetToken | None:
        try:
            body = self._post(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": cached.refresh_token,
                    "client_id": self.settings.client_id,
                    "client_secret": self.settings.client_secret,
                }
            )
        except UpstreamRefused as refused:
            # A revoked or expired Target API refresh token: exchange again instead.
            log.info("target refresh refused (%s); exchanging again", refused.upstream_error)
            return None
        log.info("refreshed the %s token", self.settings.target_audience)
        token = self._target_token(body, "refresh")
        token.refresh_token = token.refresh_token or cached.refresh_token  # non-rotating
        return token

    def _post(self, form: dict) -> dict:
        grant = "token exchange" if form["grant_type"] == TOKEN_EXCHANGE else "refresh"
        step = 3 if form["grant_type"] == TOKEN_EXCHANGE else 5
        hop = EXCHANGE_HOP if step == 3 else REFRESH_HOP
        url = self.idp.internal_url  # for the trace, until discovery names the token endpoint
        try:
            url = self.idp.endpoint("token_endpoint")
            response = self._send(url, form)
        except (requests.Timeout, IdentityProviderUnavailable) as error:
            timed_out = isinstance(error, requests.Timeout) or error.timed_out
            http_trace.record_failure("POST", url, error="timed out" if timed_out else str(error), **hop)
            if timed_out:
                raise UpstreamTimeout(
                    f"The identity provider did not answer the {grant} in time", step=step, upstream=IDP
                ) from None
            raise UpstreamUnavailable(
                f"The identity provider cannot be reached for the {grant}", step=step, upstream=IDP
            ) from None
        except requests.ConnectionError:
            http_trace.record_failure("POST", url, error="could not connect", **hop)
            raise UpstreamUnavailable(
                f"The identity provider cannot be reached for the {grant}", step=step, upstream=IDP
            ) from None
        # Only a cache miss comes here: no usable Target API token was held.
        http_trace.record(response, secrets=SECRETS, cache="miss", **hop)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return body
        refusal = body.get("error") if isinstance(body, dict) else None
        description = body.get("error_description") if isinstance(body, dict) else None
        if response.status_code == 429:
            raise UpstreamUnavailable(
                f"The identity provider rate-limited the {grant}",
                step=step,
                upstream=IDP,
                upstream_error=refusal,
                upstream_error_description=description,
                retry_after=_seconds(response.headers.get("Retry-After")),
            )
        if refusal == STEP_UP_ERROR:  # the provider's step-up policy (RFC 9470): T45, T46
            required = StepUpRequirement.from_values(body.get("acr_values"), body.get("max_age"))
            raise StepUpDownstream(required, description or "A stronger login is required", upstream=IDP)
        if refusal == "invalid_request" and (description or "").startswith("subject_token"):
            raise UserTokenRefused(f"The identity provider refused the access token: {description}")
        if response.status_code >= 500 or not refusal:
            raise UpstreamRefused(
                f"The identity provider failed the {grant} (HTTP {response.status_code})",
                step=step,
                upstream=IDP,
            )
        raise UpstreamRefused(
            f"The identity provider refused the {grant}: {refusal}",
            step=step,
            upstream=IDP,
            upstream_error=refusal,
            upstream_error_description=description,
        )

    def _send(self, url: str, form: dict) -> requests.Response:
        headers = request_id.outgoing_headers()
        stale_connections.begin()
        try:
            return self.session.post(url, data=form, headers=headers, timeout=self.settings.timeout)
        except requests.ConnectionError as error:
            if not stale_connections.never_reached(error):
                raise
        # The provider closed an idle pooled connection as this POST reused it: the request
        # never reached it, so it is sent once more, on a new connection.
        log.info("the identity provider closed a pooled connection as it was reused; sending again on a new one")
        with requests.Session() as fresh:
            return fresh.post(url, data=form, headers=headers, timeout=self.settings.timeout)

    def _trace_hit(self, cached: TargetToken, why: str) -> None:
        if http_trace.enabled():
            note = (
                f"Target API token held until {_utc(cached.expires_at)} (obtained by {cached.obtained_by} at "
                f"{_utc(cached.obtained_at)}; renewed {self.settings.renew_margin} s before it expires): {why}"
            )
            http_trace.record_cache(step="3", title="Token exchange", caller="source-api", note=note)

    # -- the cache ----------------------------------------------------------------------

    def _target_token(self, body: dict, obtained_by: str) -> TargetToken:
        now = self.clock()
        return TargetToken(
            access_token=body["access_token"],
            expires_at=now + _lifetime(body),
            scope=body.get("scope", ""),
            obtained_at=now,
            obtained_by=obtained_by,
            refresh_token=body.get("refresh_token"),
        )

    def _store(self, key: EntryKey, token: TargetToken, claims: Mapping[str, Any] | None) -> None:
        keep_until = token.expires_at - self.settings.renew_margin
        # The refresh token is worth keeping while the user's token can still call: a later
        # call of the same login renews with it instead of exchanging.
        renew_until = max(keep_until, _exp(claims))
        self.cache.put(key, token, keep_until, renew_until)


def _exp(claims: Mapping[str, Any] | None) -> float:
    """The user token's expiry (0 when unknown)."""
    exp = (claims or {}).get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else 0


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 5


def _lifetime(body: dict) -> int:
    """expires_in of a token response; the token's own exp when the answer lacks it."""
    if isinstance(body.get("expires_in"), int):
        return body["expires_in"]
    try:
        claims = json.loads(jws.extract_compact(body["access_token"].encode()).payload)
        return max(int(claims["exp"]) - int(time.time()), 0)
    except (JoseError, ValueError, KeyError, TypeError):
        return 0
