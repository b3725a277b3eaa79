"""source-api: validates the user's token (step 2), exchanges it for a Target API token
(step 3), calls the Target API with it (step 4) and renews it (step 5)."""

from __future__ import annotations

import requests
from flask import Flask, jsonify, request

from obo_common import JWKSCache, allowed_hosts, protect_api
from obo_common.access_token_validator import UNKNOWN_KEY, kid_of
from obo_common.bearer import bearer_token
from obo_common.demo_tools import DemoTools, OperatorSecret

from . import stale_connections, trace
from .exchange_profile import ExchangeProfile
from .problems import InsufficientScopeDownstream, Problem, StepUpDownstream, UserTokenRefused
from .services import Services
from .settings import Settings
from .target_api_client import CallerInputRefused, TargetApi
from .token_exchange import TargetTokens


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024
    allowed_hosts.init_app(
        app,
        allowed_hosts.allowed_hosts(
            "source-api", [settings.issuer, settings.idp_internal_url, settings.target_url], settings.allowed_hosts
        ),
    )
    # One pooled session for the calls to the identity provider, its connections reused
    # across requests (the Target API client keeps its own pool: target_api_client.py).
    session = requests.Session()
    session.mount("http://", stale_connections.TrackedAdapter(pool_connections=4, pool_maxsize=16))
    session.mount("https://", stale_connections.TrackedAdapter(pool_connections=4, pool_maxsize=16))
    protected = protect_api(
        app,
        issuer=settings.issuer,
        audience=settings.audience,
        session=session,
        idp_internal_url=settings.idp_internal_url,
        leeway=settings.leeway,
        unknown_kid_interval=settings.unknown_kid_interval,
        profile=settings.access_token_profile,
        jwks_max_age=settings.jwks_max_age,
        timeout=settings.timeout,
    )
    app.extensions["source_api"] = Services(
        settings=settings,
        target_tokens=TargetTokens(
            settings, protected.idp, session, profile=ExchangeProfile(settings, protected.idp, session)
        ),
        target_api=TargetApi(settings.target_url, settings.timeout),
        jwks=protected.jwks,
        demo_tools=DemoTools(settings.demo_tools, protected.idp),
        operator=OperatorSecret(settings.load_operator_secret()),
    )

    trace.init_app(app)

    from .operator import operator_blueprint
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(operator_blueprint(app.extensions["source_api"]))
    app.register_error_handler(Problem, lambda problem: problem.response())
    app.register_error_handler(UserTokenRefused, lambda refused: _user_token_refused(refused, protected.jwks, settings))
    app.register_error_handler(InsufficientScopeDownstream, lambda denied: denied.response(settings.audience))
    app.register_error_handler(StepUpDownstream, lambda step_up: step_up.response(settings.audience))
    app.register_error_handler(CallerInputRefused, lambda refused: (jsonify(refused.body), 400))
    return app


def _user_token_refused(refused: UserTokenRefused, jwks: JWKSCache, settings: Settings):
    """The exchange refused the user's token. Refused for its signature, the token's key was
    retired after this API cached it (T14): with the JWKS fetched again, this API says what it
    will say from now on for every token of that key."""
    if "signature could not be verified" in refused.description:
        kid = kid_of(bearer_token(request.headers.get("Authorization", "")) or "")
        if not jwks.still_published(kid):
            refused = UserTokenRefused(UNKNOWN_KEY)
    return refused.response(settings.audience)
