"""Where each part of a running stack answers, from its services' base URLs.

The suite's stack (conftest), a `make up` beside it (local_up) and `make bench` all hand
these to the helpers, so no helper builds an identity provider URL or the web app's
callback of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    url: str  # no trailing slash


class StackUrls:
    """The URLs the tests use; a subclass answers ``self[name].url`` for each service."""

    def __getitem__(self, name: str) -> Where:
        raise NotImplementedError

    @property
    def issuer(self) -> str:
        return self["mock-idp"].url + "/"

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "oauth/token"

    @property
    def revocation_endpoint(self) -> str:
        return self.issuer + "oauth/revoke"

    @property
    def userinfo(self) -> str:
        """The userinfo endpoint, which is also the second audience of a token with ``openid``."""
        return self.issuer + "userinfo"

    @property
    def jwks_uri(self) -> str:
        return self.issuer + ".well-known/jwks.json"

    @property
    def management_api(self) -> str:
        """The Management API's base URL; with a trailing slash it is also its audience."""
        return self.issuer + "api/v2"

    @property
    def callback(self) -> str:
        """The web app's callback, as the tenant lists it."""
        return self["web-app"].url + "/callback"


@dataclass
class Addresses(StackUrls):
    """A stack known only by its services' base URLs."""

    urls: dict[str, str]

    def __getitem__(self, name: str) -> Where:
        return Where(self.urls[name])
