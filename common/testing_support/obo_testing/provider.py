"""A fake identity provider's discovery and JWKS, on a FakeNetwork."""

from __future__ import annotations

from dataclasses import dataclass

from .network import FakeNetwork
from .tokens import TokenFactory


@dataclass
class ProviderUrls:
    """The URLs a back end uses at the fake provider (at ``internal_url``)."""

    issuer: str
    internal_url: str
    discovery_url: str
    jwks_uri: str
    token_endpoint: str
    # Says it is the project's mock, as mock-idp's discovery does (DEMO_TOOLS=auto asks).
    demo_provider: bool = True

    def discovery(self) -> dict:
        return {
            **({"obo_demo_provider": True} if self.demo_provider else {}),
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "authorize",
            "token_endpoint": self.issuer + "oauth/token",
            "jwks_uri": self.issuer + ".well-known/jwks.json",
            "userinfo_endpoint": self.issuer + "userinfo",
            "end_session_endpoint": self.issuer + "oidc/logout",
        }


def serve_identity_provider(
    network: FakeNetwork, factory: TokenFactory, internal_url: str | None = None
) -> ProviderUrls:
    """Route discovery and the JWKS (always ``factory``'s current keys) on ``network``.

    Discovery names the issuer's own URLs, as the provider does; a back end with
    ``internal_url`` must reach them at that address instead.
    """
    base = (internal_url or factory.issuer).rstrip("/") + "/"
    idp = ProviderUrls(
        issuer=factory.issuer,
        internal_url=base,
        discovery_url=base + ".well-known/openid-configuration",
        jwks_uri=base + ".well-known/jwks.json",
        token_endpoint=base + "oauth/token",
    )
    network.route("GET", idp.discovery_url, lambda call: idp.discovery())
    network.route("GET", idp.jwks_uri, lambda call: factory.jwks())
    return idp
