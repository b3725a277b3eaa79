"""One call that makes a Flask app a resource server of the identity provider.

Both APIs do the same: find the provider's endpoints (at the back-channel address when
there is one), cache its keys, validate tokens for their own audience, answer per RFC
6750, and number every request.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from flask import Flask

from . import json_errors, request_id
from .access_token_validator import AccessTokenProfile, AccessTokenValidator
from .bearer_protector import BearerProtector
from .idp_endpoints import IdentityProviderEndpoints, Timeout
from .jwks_cache import JWKSCache


@dataclass
class ResourceServer:
    idp: IdentityProviderEndpoints
    jwks: JWKSCache


def protect_api(
    app: Flask,
    *,
    issuer: str,
    audience: str,
    session: requests.Session,
    idp_internal_url: str | None = None,
    leeway: int = 30,
    unknown_kid_interval: float = 30.0,
    timeout: Timeout = (3.05, 5),
    profile: AccessTokenProfile = "rfc9068",
    jwks_max_age: float = 300.0,
) -> ResourceServer:
    idp = IdentityProviderEndpoints(issuer, idp_internal_url, session, timeout=timeout)
    jwks = JWKSCache(
        lambda: idp.endpoint("jwks_uri"),
        session,
        timeout=timeout,
        unknown_kid_interval=unknown_kid_interval,
        max_age=jwks_max_age,
    )
    BearerProtector(AccessTokenValidator(issuer, audience, jwks, leeway=leeway, profile=profile)).init_app(app)
    request_id.init_app(app)
    json_errors.init_app(app)
    return ResourceServer(idp, jwks)
