"""The negative-token matrix: every JWT attack of the usual lists, at every place that
takes a token, against the running services.

Places (ENDPOINTS): the Source API and the Target API (a protected route each), the
provider's /userinfo, its Management API, and the token exchange's ``subject_token``
(the Source API's own client). The APIs, userinfo and the Management API must answer
401 ``invalid_token``; the exchange 400 ``invalid_request`` (troubleshooting T24, T25).

Variations (VARIATIONS) change one thing each. Those that change a claim or a header
field are signed with the provider's own current key (read from its storage, see
forged_tokens), so the signature is valid and only the check under test can refuse
them; ``test_the_forger_signs_as_the_provider`` proves that such a token, unchanged,
is accepted everywhere. Each refusal must also come from the right check: its
description names it (``REASONS``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import demo_tenant as tenant
import pytest
import requests
from backend_client import bearer, call_source, call_target, exchange, login, post_token
from demo_tenant import SOURCE_API, TARGET_API, TIMEOUT
from expectations import assert_bearer_error, assert_token_error
from forged_tokens import (
    Attacker,
    AttackerHost,
    ProviderKey,
    altered_signature,
    attacker_host,
    decode_part,
    hs256_with_public_key,
    with_claims_keeping_signature,
)


@dataclass(frozen=True)
class RealTokens:
    """Tokens the provider really issued: a login's, an exchanged one, a Management API one."""

    user: dict  # access_token (Source API and userinfo), id_token, refresh_token
    target: str
    management: str


@pytest.fixture(scope="module")
def real_tokens(stack) -> RealTokens:
    user = login(stack)
    exchanged = exchange(stack, user["access_token"])
    assert exchanged.status_code == 200, exchanged.text
    management = post_token(
        stack, grant_type="client_credentials", audience=stack.management_api + "/", **tenant.MANAGEMENT_CLIENT
    )
    assert management.status_code == 200, management.text
    return RealTokens(user, exchanged.json()["access_token"], management.json()["access_token"])


@pytest.fixture(scope="module")
def provider_key(stack) -> ProviderKey | None:
    """The provider's current key, when this suite started it (None: E2E_EXTERNAL)."""
    if not stack["mock-idp"].controllable:
        return None
    return ProviderKey.read(Path(stack["mock-idp"].service.env["MOCK_IDP_DATABASE"]))


@pytest.fixture(scope="module")
def attacker() -> Attacker:
    return Attacker()


@pytest.fixture(scope="module")
def attacker_site(attacker) -> AttackerHost:
    with attacker_host(attacker) as host:
        yield host


# -- where tokens are taken ----------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    token: Callable[[RealTokens], str]  # the real token this place accepts
    other_api: Callable[[RealTokens], str]  # a real token of another API
    call: Callable[..., requests.Response]  # (stack, token) -> the answer
    family: str  # "api" (obo_common) or "idp" (mock-idp's token_verification)


def _refused_by_api(realm: str):
    return lambda stack, response: assert_bearer_error(response, 401, "invalid_token", realm)["error_description"]


def _refused_by_userinfo(stack, response) -> str:
    return assert_bearer_error(response, 401, "invalid_token", stack.userinfo)["error_description"]


def _refused_by_management(stack, response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer "), response.headers
    body = response.json()
    assert body["errorCode"] == "invalid_token", body
    return body["message"]


def _refused_by_exchange(stack, response) -> str:
    return assert_token_error(response, 400, "invalid_request")["error_description"]


def _get(url: Callable[..., str]):
    return lambda stack, token: requests.get(url(stack), headers=bearer(token), timeout=TIMEOUT)


ENDPOINTS = {
    "source-api": Endpoint(
        lambda t: t.user["access_token"], lambda t: t.target, lambda s, tok: call_source(s, "/api/me", tok), "api"
    ),
    "target-api": Endpoint(
        lambda t: t.target, lambda t: t.user["access_token"], lambda s, tok: call_target(s, "/api/contacts", tok), "api"
    ),
    "userinfo": Endpoint(lambda t: t.user["access_token"], lambda t: t.management, _get(lambda s: s.userinfo), "idp"),
    "management-api": Endpoint(
        lambda t: t.management, lambda t: t.user["access_token"], _get(lambda s: s.management_api + "/clients"), "idp"
    ),
    "token-exchange": Endpoint(lambda t: t.user["access_token"], lambda t: t.target, exchange, "idp"),
}
REFUSED = {
    "source-api": _refused_by_api(SOURCE_API),
    "target-api": _refused_by_api(TARGET_API),
    "userinfo": _refused_by_userinfo,
    "management-api": _refused_by_management,
    "token-exchange": _refused_by_exchange,
}


# -- what is tried -------------------------------------------------------------------------


@dataclass
class Forge:
    """What a variation builds its token from, for one endpoint."""

    real: str  # the endpoint's real token
    tokens: RealTokens
    other_api: str
    attacker: Attacker
    site: AttackerHost
    _provider: ProviderKey | None

    @property
    def provider(self) -> ProviderKey:
        if self._provider is None:
            pytest.skip("E2E_EXTERNAL: the provider's key is not readable, no validly signed variation")
        return self._provider

    @property
    def claims(self) -> dict:
        """A fresh copy of the real token's claims."""
        return decode_part(self.real, 1)

    def changed(self, **changes) -> str:
        """The real token's claims with ``changes`` (a None value removes the claim), signed by the provider."""
        claims = {**self.claims, **changes}
        return self.provider.token({}, {k: v for k, v in claims.items() if v is not None})

    def header(self, alg: str = "RS256", **header) -> str:
        """The real claims under another header (a None value removes a field), signed by the provider."""
        return self.provider.token(header, self.claims, alg)


def _issuer(forge: Forge) -> str:
    return forge.claims["iss"]


def _later(seconds: int) -> int:
    return int(time.time()) + seconds


# Each variation: (name, the check that must refuse it, how the token is made).
VARIATIONS: list[tuple[str, str, Callable[[Forge], str]]] = [
    # the algorithm
    ("alg-none", "alg", lambda f: f.header("none", kid=None)),
    ("alg-none-with-kid", "alg", lambda f: f.header("none")),
    ("alg-None-capitalised", "alg", lambda f: f.header("None")),
    ("hs256-public-key-as-secret", "alg", lambda f: hs256_with_public_key(f.provider, f.claims)),
    ("rs384-provider-key", "alg", lambda f: f.header("RS384")),
    ("rs512-provider-key", "alg", lambda f: f.header("RS512")),
    ("ps256-provider-key", "alg", lambda f: f.header("PS256")),
    ("es256-attacker-key-provider-kid", "alg", lambda f: f.attacker.token({"kid": f.provider.kid}, f.claims, "ES256")),
    # the key
    ("unknown-kid-attacker-key", "key", lambda f: f.attacker.token({}, f.claims)),
    ("unknown-kid-provider-signature", "key", lambda f: f.header(kid="no-such-key")),
    ("kid-missing-attacker-key", "key", lambda f: f.attacker.token({"kid": None}, f.claims)),
    ("provider-kid-attacker-key", "signature", lambda f: f.attacker.token({"kid": f.provider.kid}, f.claims)),
    ("jku-attacker-jwks", "key", lambda f: f.attacker.token({"jku": f.site.jwks_uri}, f.claims)),
    ("jwk-embedded-attacker-key", "key", lambda f: f.attacker.token({"jwk": f.attacker.public_jwk}, f.claims)),
    (
        "jwk-embedded-attacker-key-provider-kid",
        "signature",
        lambda f: f.attacker.token({"kid": f.provider.kid, "jwk": f.attacker.public_jwk}, f.claims),
    ),
    ("x5u-attacker-certificate", "key", lambda f: f.attacker.token({"x5u": f.site.certificate_url}, f.claims)),
    ("x5c-attacker-certificate", "key", lambda f: f.attacker.token({"x5c": f.attacker.x5c}, f.claims)),
    (
        "crit-unknown-extension",
        "crit",
        lambda f: f.header(crit=["urn:example:must-understand"], **{"urn:example:must-understand": True}),
    ),
    # the token type
    ("typ-missing", "typ", lambda f: f.header(typ=None)),
    ("typ-JWT", "typ", lambda f: f.header(typ="JWT")),
    (
        "id-token-for-this-audience",
        "typ",
        lambda f: f.provider.token(
            {"typ": "JWT"}, {**decode_part(f.tokens.user["id_token"], 1), "aud": f.claims["aud"]}
        ),
    ),
    # the signature
    ("signature-stripped", "signature", lambda f: f.real.rpartition(".")[0] + "."),
    ("signature-altered", "signature", lambda f: altered_signature(f.real)),
    (
        "claims-altered-signature-kept",
        "signature",
        lambda f: with_claims_keeping_signature(f.real, {"sub": tenant.BOB[1]}),
    ),
    # the issuer
    ("iss-wrong", "iss", lambda f: f.changed(iss="https://attacker.example/")),
    ("iss-missing", "iss", lambda f: f.changed(iss=None)),
    ("iss-without-trailing-slash", "iss", lambda f: f.changed(iss=_issuer(f).rstrip("/"))),
    ("iss-double-trailing-slash", "iss", lambda f: f.changed(iss=_issuer(f) + "/")),
    ("iss-https-instead-of-http", "iss", lambda f: f.changed(iss=_issuer(f).replace("http://", "https://"))),
    # the audience
    ("aud-wrong", "aud", lambda f: f.changed(aud="https://attacker.example.com")),
    ("aud-missing", "aud", lambda f: f.changed(aud=None)),
    ("aud-array-of-wrong-ones", "aud", lambda f: f.changed(aud=["https://a.example.com", "https://b.example.com"])),
    ("aud-empty-array", "aud", lambda f: f.changed(aud=[])),
    # the times
    ("exp-past", "exp", lambda f: f.changed(exp=_later(-3600))),
    ("exp-missing", "exp", lambda f: f.changed(exp=None)),
    ("exp-non-numeric", "exp", lambda f: f.changed(exp="tomorrow")),
    ("exp-huge", "exp", lambda f: f.changed(exp=10**20)),
    ("exp-beyond-the-longest-lifetime", "exp", lambda f: f.changed(exp=f.claims["iat"] + 2592000 + 3600)),
    ("exp-NaN", "exp", lambda f: f.changed(exp=float("nan"))),
    ("exp-Infinity", "exp", lambda f: f.changed(exp=float("inf"))),
    ("nbf-NaN", "nbf", lambda f: f.changed(nbf=float("nan"))),
    ("iat-NaN", "iat", lambda f: f.changed(iat=float("nan"))),
    ("iat-missing", "iat", lambda f: f.changed(iat=None)),
    ("iat-non-numeric", "iat", lambda f: f.changed(iat="yesterday")),
    ("nbf-future", "nbf", lambda f: f.changed(nbf=_later(3600))),
    ("iat-future", "iat", lambda f: f.changed(iat=_later(3600))),
    # claims of the wrong type, or missing
    ("scope-array", "claims", lambda f: f.changed(scope=f.claims.get("scope", "").split())),
    ("scope-number", "claims", lambda f: f.changed(scope=42)),
    ("sub-number", "claims", lambda f: f.changed(sub=42)),
    ("sub-missing", "claims", lambda f: f.changed(sub=None)),
    ("client-id-missing", "claims", lambda f: f.changed(client_id=None)),
    # real tokens of another kind
    ("token-of-another-api", "aud", lambda f: f.other_api),
    ("id-token", "aud", lambda f: f.tokens.user["id_token"]),
    ("refresh-token", "malformed", lambda f: f.tokens.user["refresh_token"]),
    # not a JWT
    ("two-parts", "malformed", lambda f: f.real.rpartition(".")[0]),
    ("four-parts", "malformed", lambda f: f.real + "." + f.real.rpartition(".")[2]),
    ("non-base64", "malformed", lambda f: "eyJ+/~.eyJ+/~.sig+/~"),
    ("very-long", "malformed", lambda f: "eyJ" + "A" * 6000 + ".eyJ" + "B" * 1000 + "." + "C" * 342),
]


# The check that must refuse each variation, as the description names it: obo_common's
# validator at the APIs, mock-idp's token_verification at the provider (which reports
# every failure of its JWS library, alg and key included, as the signature's).
UNVERIFIED = "signature could not be verified"
REASONS = {
    "api": {
        "alg": ("must be signed with RS256",),
        "key": ("signed with an unknown key", "is malformed"),
        "signature": ("signature is invalid", "is malformed"),
        "crit": ("signature is invalid",),
        # typ JWT with this API's audience reads as the provider's default profile: the
        # answer says which profile the API expects (ACCESS_TOKEN_PROFILE).
        "typ": ("not an access token", "typ must be at+jwt"),
        "iss": ("expected issuer", "lacks the iss claim"),
        "aud": ("not issued for this API", "lacks the aud claim", "not an access token"),
        "exp": ("expired", "exp claim", "lives longer"),
        "nbf": ("not valid yet", "nbf claim"),
        "iat": ("issued in the future", "iat claim"),
        "claims": ("invalid scope claim", "invalid sub claim", "lacks the sub claim", "lacks the client_id claim"),
        "malformed": ("is malformed",),
    },
    "idp": {
        "alg": (UNVERIFIED,),
        "key": (UNVERIFIED,),
        "signature": (UNVERIFIED,),
        "crit": (UNVERIFIED,),
        "typ": ("is not an access token",),
        "iss": ("not issued by this tenant",),
        "aud": ("audience does not match",),
        "exp": ("expired", "has invalid claims", "lives longer"),
        "nbf": ("has invalid claims",),
        "iat": ("has invalid claims",),
        "claims": ("has invalid claims",),
        "malformed": ("is not a JWT", "is malformed", UNVERIFIED),
    },
}


@pytest.fixture
def forge(request, real_tokens, provider_key, attacker, attacker_site) -> Forge:
    endpoint = ENDPOINTS[request.node.callspec.params["endpoint"]]
    return Forge(
        endpoint.token(real_tokens), real_tokens, endpoint.other_api(real_tokens), attacker, attacker_site, provider_key
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_forger_signs_as_the_provider(stack, endpoint, forge):
    """The control: the real claims under the provider's key are accepted, so every
    refusal below is the doing of the one thing its variation changed."""
    answer = ENDPOINTS[endpoint].call(stack, forge.provider.token({}, forge.claims))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("variation", "check", "make"), VARIATIONS, ids=[v[0] for v in VARIATIONS])
def test_forged_token_is_refused(stack, endpoint, variation, check, make, forge):
    answer = ENDPOINTS[endpoint].call(stack, make(forge))
    description = REFUSED[endpoint](stack, answer)
    expected = REASONS[ENDPOINTS[endpoint].family][check]
    assert any(reason in description for reason in expected), (check, description)
    assert forge.site.requests == [], "a service fetched the key a jku or x5u header named"
