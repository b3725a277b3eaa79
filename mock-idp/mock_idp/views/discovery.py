"""OpenID Connect discovery and the JWKS."""

from flask import Blueprint, jsonify

from .. import authn_context
from ..grants import registry
from ..provider import idp
from ..tenant import OIDC_SCOPES

bp = Blueprint("discovery", __name__)


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    provider = idp()
    url = provider.settings.url
    tenant = provider.tenant()
    api_scopes = {s for api in tenant.resource_servers if not api.is_system for s in api.scope_values}
    return jsonify(
        issuer=provider.issuer,
        authorization_endpoint=url("authorize"),
        token_endpoint=url("oauth/token"),
        userinfo_endpoint=url("userinfo"),
        jwks_uri=url(".well-known/jwks.json"),
        revocation_endpoint=url("oauth/revoke"),
        end_session_endpoint=url("v2/logout"),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=list(registry.GRANT_TYPES),
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=["client_secret_post", "client_secret_basic"],
        revocation_endpoint_auth_methods_supported=["client_secret_post", "client_secret_basic"],
        code_challenge_methods_supported=["S256"],
        scopes_supported=[*OIDC_SCOPES, *sorted(api_scopes)],
        claims_supported=[
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",
            "nonce",
            "azp",
            "name",
            "given_name",
            "family_name",
            "nickname",
            "email",
            "email_verified",
        ],
        acr_values_supported=list(authn_context.LEVELS),
        request_parameter_supported=False,
        # Says "this is the project's mock": the other services turn their demo tools on
        # for DEMO_TOOLS=auto only when the provider says so (obo_common/demo_tools.py).
        obo_demo_provider=True,
    )


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(idp().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
