"""What the exchange sends for the tenant's On-Behalf-Of profile (docs/configuration.md).

``legacy`` (the tutorial's setup): RFC 8693's core parameters only. ``current`` (the
provider's current setup): ``requested_token_type`` too, and, with
``SOURCE_API_SEND_ACTOR_TOKEN``, an ``actor_token``: the Source API's own
client-credentials token for the Target API, so the exchanged token names the Source API
in ``act`` (RFC 8693 4.1). That token is cached until shortly before it expires.
"""

from __future__ import annotations

import threading
import time

import requests

from obo_common import IdentityProviderEndpoints, IdentityProviderUnavailable, request_id

from .problems import UpstreamRefused, UpstreamUnavailable
from .token_exchange import ACCESS_TOKEN_TYPE, IDP


class ExchangeProfile:
    def __init__(self, settings, idp: IdentityProviderEndpoints, session: requests.Session, clock=time.time):
        self.settings = settings
        self.idp = idp
        self.session = session
        self.clock = clock
        self._actor: tuple[str, float] | None = None  # the token, when it is renewed
        self._guard = threading.Lock()

    def form(self) -> dict[str, str]:
        """The exchange's parameters beyond the core ones, for the configured profile."""
        if self.settings.exchange_profile != "current":
            return {}
        fields = {"requested_token_type": ACCESS_TOKEN_TYPE}
        if self.settings.send_actor_token:
            fields.update(actor_token=self.actor_token(), actor_token_type=ACCESS_TOKEN_TYPE)
        return fields

    def actor_token(self) -> str:
        with self._guard:
            if self._actor and self._actor[1] > self.clock():
                return self._actor[0]
            token, expires_in = self._client_credentials()
            self._actor = (token, self.clock() + max(expires_in - self.settings.renew_margin, 0))
            return token

    def _client_credentials(self) -> tuple[str, int]:
        form = {
            "grant_type": "client_credentials",
            "audience": self.settings.target_audience,
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        unreachable = "The identity provider cannot be reached for the Source API's actor token"
        try:
            response = self.session.post(
                self.idp.endpoint("token_endpoint"),
                data=form,
                headers=request_id.outgoing_headers(),
                timeout=self.settings.timeout,
            )
        except (requests.RequestException, IdentityProviderUnavailable):
            raise UpstreamUnavailable(unreachable, step=3, upstream=IDP) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code == 200 and body.get("access_token"):
            expires_in = body.get("expires_in")
            return body["access_token"], expires_in if isinstance(expires_in, int) else 0
        raise UpstreamRefused(
            f"The identity provider refused the Source API's actor token (HTTP {response.status_code})",
            step=3,
            upstream=IDP,
            upstream_error=body.get("error"),
            upstream_error_description=body.get("error_description"),
        )
