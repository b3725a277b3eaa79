"""Helpers for the unit tests of obo_common and the app services (never for the end-to-end
suite, which talks to the real services). A package of its own, ``obo-testing``, installed by
the Makefile's virtual environment and by no Dockerfile: it signs tokens of any shape,
``alg=none`` included, which no image may carry.

- ``TokenFactory`` (tokens.py): an RSA signing key and the access tokens it signs: valid
  RS256 ``typ: at+jwt`` tokens by default, or tokens that are wrong in exactly one way.
- ``Clock`` (tokens.py): a clock that only moves when a test moves it.
- ``FakeNetwork`` (network.py): the one way the unit suites fake HTTP. A requests transport
  under every session (the code's own, Authlib's): answers by URL (canned answers or
  callables) or by host (a WSGI app), fails like the network does, and records each request
  as it was sent (``Call``).
- ``unmarked_overrides`` (overrides.py): methods overriding a library's without ``@override``.
- ``serve_identity_provider`` (provider.py): discovery and JWKS of a fake provider on a
  FakeNetwork.
- ``unmarked_overrides`` (overrides.py): methods that override a library's without saying so.
"""

from .network import Call, FakeNetwork, response
from .provider import ProviderUrls, serve_identity_provider
from .tokens import AUDIENCE, CLIENT_ID, ISSUER, SUBJECT, Clock, TokenFactory

__all__ = [
    "AUDIENCE",
    "CLIENT_ID",
    "ISSUER",
    "SUBJECT",
    "Call",
    "Clock",
    "FakeNetwork",
    "ProviderUrls",
    "TokenFactory",
    "response",
    "serve_identity_provider",
]
