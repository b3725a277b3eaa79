"""The provider's own SDK for APIs, ``auth0-api-python``, against mock-idp served over https.

The SDK takes a tenant domain and speaks only https (``https://<domain>/``), so these tests
use the suite's https stack (conftest ``https_stack``). Unchanged, it must:

- verify the Source API's tokens (discovery, the JWKS, RS256, ``iss`` checked twice,
  ``aud``, ``exp``, ``iat``) and refuse a token for another API, a tampered one, an ID token;
- perform the current On-Behalf-Of exchange with the Source API's client under the tenant's
  ``current`` profile (``get_token_on_behalf_of``: RFC 8693, access token to access token,
  client authentication by HTTP Basic, the client set to it), the Target API accepting the
  result; under the file's `client_secret_post` it is refused;
- report the provider's refusals as its ``ApiError`` with the provider's error code and
  description and the HTTP status.

Where it and mock-idp disagreed, docs/mock-idp.md (The provider's SDK) says which side was
wrong and why.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from auth0_api_python import ApiClient, ApiClientOptions
from auth0_api_python.errors import ApiError, VerifyAccessTokenError
from backend_client import call_target, login
from demo_tenant import ALICE, SOURCE_API, SOURCE_CLIENT, TARGET_API
from tenant_admin import Management


def run(call):
    """Await one of the SDK's calls (it is async only), in a fresh event loop of its own
    thread: the browser tests' Playwright keeps an event loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, call).result()


def api_client(stack, audience: str = SOURCE_API, **options) -> ApiClient:
    """The SDK as an API configures it: the tenant's domain (host and port) and its audience."""
    return ApiClient(ApiClientOptions(domain=urlsplit(stack.issuer).netloc, audience=audience, **options))


def source_api_client(stack, secret: str = SOURCE_CLIENT["client_secret"]) -> ApiClient:
    """The Source API with its own client's credentials, as the SDK's exchange needs."""
    return api_client(stack, client_id=SOURCE_CLIENT["client_id"], client_secret=secret)


@pytest.fixture(scope="module")
def user_token(https_stack) -> str:
    return login(https_stack)["access_token"]


@pytest.fixture
def current(https_stack):
    """The tenant under the current On-Behalf-Of profile, and the Source API's client set to
    authenticate by HTTP Basic as the SDK does, both put back to the file's state after."""
    management = Management(https_stack)
    settings = management.patch("/tenants/settings", {"token_exchange_profile": "current"})
    assert settings["token_exchange_profile"] == "current"
    client = management.patch(
        f"/clients/{SOURCE_CLIENT['client_id']}", {"token_endpoint_auth_method": "client_secret_basic"}
    )
    assert client["token_endpoint_auth_method"] == "client_secret_basic"
    try:
        yield management
    finally:
        Management(https_stack).reset()


# -- verification ----------------------------------------------------------------------------


def test_the_sdk_verifies_the_source_apis_token(https_stack, user_token):
    claims = run(api_client(https_stack).verify_access_token(user_token))

    assert claims["iss"] == https_stack.issuer
    assert claims["sub"] == ALICE[1]
    assert SOURCE_API in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    assert "read:contacts" in claims["scope"].split()


def test_the_sdk_verifies_a_bearer_request(https_stack, user_token):
    claims = run(api_client(https_stack).verify_request({"Authorization": f"Bearer {user_token}"}))
    assert claims["sub"] == ALICE[1]


def test_the_sdk_refuses_a_token_for_another_api(https_stack, user_token):
    with pytest.raises(VerifyAccessTokenError, match="Audience mismatch"):
        run(api_client(https_stack, audience=TARGET_API).verify_access_token(user_token))


def test_the_sdk_refuses_a_tampered_token(https_stack, user_token):
    header, payload, signature = user_token.split(".")
    tampered = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with pytest.raises(VerifyAccessTokenError, match="Signature verification failed"):
        run(api_client(https_stack).verify_access_token(tampered))


def test_the_sdk_refuses_an_id_token_as_an_access_token(https_stack):
    id_token = login(https_stack)["id_token"]
    with pytest.raises(VerifyAccessTokenError, match="Audience mismatch"):
        run(api_client(https_stack).verify_access_token(id_token))


# -- the On-Behalf-Of exchange (current profile) ---------------------------------------------


def test_the_sdk_exchanges_on_behalf_of_the_user_and_the_target_api_accepts(https_stack, current):
    user_token = login(https_stack)["access_token"]

    result = run(source_api_client(https_stack).get_token_on_behalf_of(user_token, TARGET_API, "read:contacts"))

    assert result["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert result["token_type"].lower() == "bearer"
    assert result["scope"].split() == ["read:contacts"]
    assert result["expires_in"] > 0
    # The SDK itself verifies the result for the Target API, and the Target API serves it.
    claims = run(api_client(https_stack, audience=TARGET_API).verify_access_token(result["access_token"]))
    assert claims["sub"] == ALICE[1]
    answer = call_target(https_stack, "/api/contacts", result["access_token"])
    assert answer.status_code == 200, answer.text


def test_the_sdk_reports_a_scope_the_pairing_does_not_allow(https_stack, current):
    user_token = login(https_stack)["access_token"]
    with pytest.raises(ApiError) as refused:
        run(source_api_client(https_stack).get_token_on_behalf_of(user_token, TARGET_API, "write:contacts"))
    assert refused.value.code in ("invalid_scope", "access_denied"), vars(refused.value)
    assert refused.value.status_code in (400, 403)
    assert "write:contacts" in str(refused.value)


def test_a_client_registered_for_the_body_method_is_refused_the_sdks_basic(https_stack, user_token):
    # The demo tenant's file registers the Source API's client for client_secret_post; the
    # provider holds a client to its registered method, so the SDK's Basic is refused.
    management = Management(https_stack)
    management.patch("/tenants/settings", {"token_exchange_profile": "current"})
    try:
        with pytest.raises(ApiError) as refused:
            run(source_api_client(https_stack).get_token_on_behalf_of(user_token, TARGET_API, "read:contacts"))
    finally:
        management.reset()
    assert refused.value.code == "invalid_client"
    assert refused.value.status_code == 401
    assert str(refused.value) == "The client must authenticate with client_secret_post"


def test_the_sdk_reports_a_wrong_client_secret(https_stack, current):
    user_token = login(https_stack)["access_token"]
    with pytest.raises(ApiError) as refused:
        run(source_api_client(https_stack, secret="wrong").get_token_on_behalf_of(user_token, TARGET_API))
    # The provider's answer to bad client credentials (T17), passed on by the SDK as it came.
    assert refused.value.code == "access_denied"
    assert refused.value.status_code == 401


def test_the_sdk_reports_a_subject_token_the_provider_did_not_issue(https_stack, current, user_token):
    header, payload, signature = user_token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with pytest.raises(ApiError) as refused:
        run(source_api_client(https_stack).get_token_on_behalf_of(forged, TARGET_API, "read:contacts"))
    # RFC 8693 section 2.2.2: an invalid subject token is invalid_request; 401 under the
    # current profile (T42).
    assert refused.value.code == "invalid_request"
    assert refused.value.status_code == 401
    assert str(refused.value) == "subject_token signature could not be verified"
