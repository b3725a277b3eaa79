"""target-api: a resource server that accepts only tokens issued for itself (step 4)."""

from __future__ import annotations

import requests
from flask import Flask

from obo_common import allowed_hosts, protect_api

from .contacts import ContactBook
from .services import Services
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    allowed_hosts.init_app(
        app,
        allowed_hosts.allowed_hosts("target-api", [settings.issuer, settings.idp_internal_url], settings.allowed_hosts),
    )
    protected = protect_api(
        app,
        issuer=settings.issuer,
        audience=settings.audience,
        session=requests.Session(),
        idp_internal_url=settings.idp_internal_url,
        leeway=settings.leeway,
        unknown_kid_interval=settings.unknown_kid_interval,
        profile=settings.access_token_profile,
        jwks_max_age=settings.jwks_max_age,
    )
    app.extensions["target_api"] = Services.of(
        settings, ContactBook(settings.database, settings.seed_file), protected.jwks
    )

    from .views import bp

    app.register_blueprint(bp)
    return app
