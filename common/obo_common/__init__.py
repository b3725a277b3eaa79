"""What the project's services share, so it exists once.

- ``IdentityProviderEndpoints``: the provider's endpoints as a back end reaches them.
- ``JWKSCache``: the provider's signing keys, fetched once, fetched again (throttled)
  when a token names an unknown ``kid``.
- ``AccessTokenValidator``: RFC 9068 access tokens, strictly: RS256 only,
  ``typ: at+jwt``, exact ``iss``, ``aud`` containing the API, ``exp``/``nbf``/``iat`` with
  a small leeway, scopes per endpoint.
- ``BearerProtector``: Authlib's Flask resource protector answering per RFC 6750.
- ``request_id``: one id per request, carried across services and into every log line.
- ``protect_api``: all of the above wired into a Flask app, for each API.
"""

from .access_token_validator import AccessTokenValidator
from .api_protection import protect_api
from .bearer_protector import BearerProtector, current_claims, require_scope
from .idp_endpoints import IdentityProviderEndpoints, IdentityProviderUnavailable
from .jwks_cache import JWKSCache, JWKSUnavailable

__all__ = [
    "AccessTokenValidator",
    "BearerProtector",
    "IdentityProviderEndpoints",
    "IdentityProviderUnavailable",
    "JWKSCache",
    "JWKSUnavailable",
    "current_claims",
    "protect_api",
    "require_scope",
]
