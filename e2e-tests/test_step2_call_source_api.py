"""Step 2: the application calls the Source API with the user's access token.

The Source API validates the token before anything else: signature against the identity
provider's JWKS, issuer, audience (its own identifier), expiry, algorithm, type and the
endpoint's scope. Everything else is refused as RFC 6750 says.
"""

import pytest
from backend_client import call_source, exchange, login, signing_keys, verify
from demo_tenant import ALICE, BOB, SOURCE_API
from joserfc import jwt
from joserfc.jwk import RSAKey

REALM = f'realm="{SOURCE_API}"'


def challenge(response) -> str:
    return response.headers.get("WWW-Authenticate", "")


def assert_invalid_token(response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["error_description"]
    assert challenge(response).startswith(f'Bearer {REALM}, error="invalid_token"'), challenge(response)


@pytest.mark.parametrize("user", [ALICE, BOB], ids=["alice", "bob"])
def test_the_source_api_reads_the_users_validated_token(stack, user):
    email, user_id = user
    tokens = login(stack, email)

    response = call_source(stack, "/api/me", tokens["access_token"])

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"]
    body = response.json()
    assert body["sub"] == user_id
    # The claims it read are exactly those of the token the identity provider signed.
    assert body["claims"] == verify(tokens["access_token"], signing_keys(stack), typ="at+jwt").claims
    assert (body["claims"]["aud"][0], body["claims"]["iss"]) == (SOURCE_API, stack.issuer)


def test_without_a_token_the_answer_is_a_bare_bearer_challenge(stack):
    response = call_source(stack, "/api/me", None)

    assert response.status_code == 401, response.text
    # RFC 6750 3.1: a request without credentials gets no error code.
    assert challenge(response) == f"Bearer {REALM}"
    assert "error" not in response.json()


def test_an_authorization_header_that_is_not_bearer_is_a_bad_request(stack):
    tokens = login(stack)

    response = call_source(stack, "/api/me", None, headers={"Authorization": f"Token {tokens['access_token']}"})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def test_the_id_token_is_not_an_access_token(stack):
    tokens = login(stack)

    response = call_source(stack, "/api/me", tokens["id_token"])

    assert_invalid_token(response, "typ must be at+jwt")


@pytest.mark.parametrize("path", ["/api/me", "/api/contacts"])
def test_a_target_api_token_is_refused(stack, path):
    tokens = login(stack)
    exchanged = exchange(stack, tokens["access_token"])
    assert exchanged.status_code == 200, exchanged.text

    response = call_source(stack, path, exchanged.json()["access_token"])

    assert_invalid_token(response, "not issued for this API")


def test_a_token_signed_with_a_foreign_key_is_refused(stack):
    tokens = login(stack)
    genuine = verify(tokens["access_token"], signing_keys(stack), typ="at+jwt")
    # The same header (kid included) and claims, signed with a key the provider never
    # published. (A made-up kid would also be refused, "unknown key", but it would make
    # the Source API wait 30 s before it looks up unknown keys again: a test that rotates
    # the signing key in that time would see its new tokens refused.)
    forged = jwt.encode(genuine.header, genuine.claims, RSAKey.generate_key(2048))

    response = call_source(stack, "/api/me", forged)

    assert_invalid_token(response, "signature is invalid")
    # The genuine token still works: only the signature made the difference.
    assert call_source(stack, "/api/me", tokens["access_token"]).status_code == 200


def test_a_token_without_the_endpoints_scope_is_forbidden(stack):
    # A login that asks for read:contacts only, not read:profile.
    tokens = login(stack, scope="openid read:contacts")
    assert tokens["scope"] == "openid read:contacts"

    response = call_source(stack, "/api/me", tokens["access_token"])

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["scope"] == "read:profile"
    assert challenge(response).startswith(f'Bearer {REALM}, error="insufficient_scope"'), challenge(response)
    assert challenge(response).endswith('scope="read:profile"'), challenge(response)
    # The token itself is valid: the endpoint that needs read:contacts takes it.
    assert call_source(stack, "/api/contacts", tokens["access_token"]).status_code == 200
