"""The identity provider's endpoints, as a back end reaches them.

The issuer is one URL everywhere (it is in every token). A back end may reach the
provider at another address (``http://mock-idp:9000/`` inside compose, while browsers use
``http://localhost:9000/``): discovery is fetched there, and the back-channel endpoints
it lists are moved to that address. Browser-facing endpoints are left as they are.
"""

from __future__ import annotations

import requests

#: requests' (connect, read) timeouts, in seconds
Timeout = tuple[float, float]

BACK_CHANNEL = ("token_endpoint", "jwks_uri", "userinfo_endpoint", "revocation_endpoint")


class IdentityProviderUnavailable(Exception):
    """The provider could not be reached or answered nonsense; ``timed_out`` if too slow."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class IdentityProviderEndpoints:
    def __init__(self, issuer: str, internal_url: str | None, session: requests.Session, timeout: Timeout = (3.05, 5)):
        self.issuer = issuer
        self.internal_url = (internal_url or issuer).rstrip("/") + "/"
        self.session = session
        self.timeout = timeout
        self._metadata: dict | None = None

    def back_channel(self, url: str) -> str:
        """A URL under the issuer, rewritten to the back-channel address."""
        if url.startswith(self.issuer):
            return self.internal_url + url[len(self.issuer) :]
        return url

    def metadata(self) -> dict:
        """Discovery, fetched once; raises IdentityProviderUnavailable until it succeeds."""
        if self._metadata is None:
            url = self.internal_url + ".well-known/openid-configuration"
            try:
                response = self.session.get(url, timeout=self.timeout)
                response.raise_for_status()
                document = response.json()
            except (requests.RequestException, ValueError) as error:
                timed_out = isinstance(error, requests.Timeout)
                raise IdentityProviderUnavailable(f"discovery at {url} failed: {error}", timed_out) from None
            if not isinstance(document, dict):
                raise IdentityProviderUnavailable(f"discovery at {url} is not a JSON object")
            if document.get("issuer") != self.issuer:
                raise IdentityProviderUnavailable(
                    f"discovery at {url} names issuer {document.get('issuer')!r}, expected {self.issuer!r}"
                )
            for name in BACK_CHANNEL:
                if name in document:
                    document[name] = self.back_channel(document[name])
            self._metadata = document
        return self._metadata

    def endpoint(self, name: str) -> str:
        return self.metadata()[name]
