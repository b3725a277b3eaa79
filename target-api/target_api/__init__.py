"""target-api: a resource server that accepts only tokens issued for itself (step 4)."""

from __future__ import annotations

import requests
from flask import Flask

from obo_common import (
    AccessTokenValidator,
    BearerProtector,
    IdentityProviderEndpoints,
    JWKSCache,
    json_errors,
    request_id,
)

from .contacts import ContactBook
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    session = requests.Session()
    idp = IdentityProviderEndpoints(settings.issuer, settings.idp_internal_url, session)
    jwks = JWKSCache(lambda: idp.endpoint("jwks_uri"), session, unknown_kid_interval=settings.unknown_kid_interval)
    validator = AccessTokenValidator(settings.issuer, settings.audience, jwks, leeway=settings.leeway)
    app.extensions["target_api"] = {
        "settings": settings,
        "contacts": ContactBook(settings.database, settings.seed_file),
        "jwks": jwks,
    }
    BearerProtector(validator).init_app(app)
    request_id.init_app(app)

    from .views import bp

    app.register_blueprint(bp)
    json_errors.init_app(app)
    return app
