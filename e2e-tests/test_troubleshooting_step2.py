"""Troubleshooting T10-T15, step 2 (call the Source API) and its twin at step 4 (the
Target API), against the four running services.

The APIs answer these cases alone: the identity provider is not involved, so each test
checks that nothing reached it (no exchange in the tenant log) besides the answer itself.

How each case is made:
- T10, T11: crafted requests, with real tokens of the wrong kind;
- T12, T15: the identity provider's clock moved through the Management API
  (``clock_skew``), so it issues tokens that are already expired, or from the future;
- T13: real tokens changed, unsigned, or signed with HS256 or another key; for a wrong
  ``iss`` or ``typ`` with a valid signature, the tokens are signed with the identity
  provider's own key, read from the database of a stack this suite started (skipped on an
  external stack);
- T14: real key rotations through the Management API, and the identity provider stopped.
  The Source API is restarted before and after, so its key cache starts empty: no kid
  remembered as missing, and none of its five fetches for unknown kids per 30 s used up
  by earlier tests; and no other test inherits what these tests leave in it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import sqlite3

import pytest
import requests
from backend_client import assert_flow_works, call_api, call_source, call_target, exchange, login
from browser_user import guide_links, page_text, web_app_call, web_app_sign_in
from demo_tenant import ALICE, BOB, SOURCE_API, TARGET_API, TIMEOUT
from expectations import assert_bearer_error, assert_problem
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from tenant_admin import Management, log_marker, logs_since

EMAIL, ALICE_ID = ALICE
REALM = {"source-api": SOURCE_API, "target-api": TARGET_API}
ENDPOINTS = [("source-api", "/api/me"), ("source-api", "/api/contacts"), ("target-api", "/api/contacts")]
EXPIRED = "The access token expired"


# -- helpers ---------------------------------------------------------------------------------


def call(stack, service: str, path: str, token: str | None = None, **headers: str) -> requests.Response:
    """A GET of ``service`` with ``token`` as Bearer token, or with ``headers`` as they are
    (T10 sends malformed Authorization headers)."""
    return call_api(stack[service].url + path, token, headers=headers)


def assert_nothing_reached_the_idp(stack, marker) -> None:
    """The Source API neither exchanged nor refreshed anything since ``marker``."""
    assert logs_since(stack, marker, client_id="source-api") == []


def token_for(stack, service: str, tokens: dict) -> str:
    """A valid access token for ``service``: the user's own, or one exchanged for the Target API."""
    if service == "source-api":
        return tokens["access_token"]
    exchanged = exchange(stack, tokens["access_token"])
    assert exchanged.status_code == 200, exchanged.text
    return exchanged.json()["access_token"]


@contextlib.contextmanager
def provider_clock(stack, skew: int):
    """The identity provider's clock moved by ``skew`` seconds while the block runs."""
    management = Management(stack)
    assert management.patch("/tenants/settings", {"clock_skew": skew})["clock_skew"] == skew
    try:
        yield
    finally:
        management.patch("/tenants/settings", {"clock_skew": 0})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict) -> str:
    return _b64(json.dumps(value).encode())


def _decode(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def parts(token: str) -> tuple[dict, dict, str]:
    header, claims, signature = token.split(".")
    return _decode(header), _decode(claims), signature


def claims_changed(token: str) -> str:
    """The provider's signature over claims changed afterwards (another user's ``sub``)."""
    header, claims, signature = parts(token)
    return ".".join((_json_b64(header), _json_b64({**claims, "sub": BOB[1]}), signature))


def another_key(token: str) -> str:
    """The same header (the provider's kid) and claims, signed by a key that is not the provider's."""
    header, claims, _ = parts(token)
    return jwt.encode(header, claims, RSAKey.generate_key(2048, private=True))


def alg_none(token: str) -> str:
    header, claims, _ = parts(token)
    return ".".join((_json_b64({**header, "alg": "none"}), _json_b64(claims), ""))


def hs256_with_the_public_key(stack, token: str) -> str:
    """The algorithm confusion attack: HS256, the provider's public key as the secret."""
    header, claims, _ = parts(token)
    keys = requests.get(stack.jwks_uri, timeout=TIMEOUT).json()
    public = KeySet.import_key_set(keys).get_by_kid(header["kid"])
    signing_input = f"{_json_b64({**header, 'alg': 'HS256'})}.{_json_b64(claims)}"
    secret = public.as_pem(private=False)
    return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def signed_by_the_provider(stack, token: str, header: dict | None = None, claims: dict | None = None) -> str:
    """``token`` re-signed with the identity provider's own current key, with changes.

    The key is read from the identity provider's database: only on a stack this suite
    started. Nothing but the changed field differs from a token the provider issues.
    """
    stack.controllable()
    database = stack["mock-idp"].service.env["MOCK_IDP_DATABASE"]
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        (private_jwk,) = db.execute("SELECT private_jwk FROM signing_keys WHERE state = 'current'").fetchone()
    key = RSAKey.import_key(json.loads(private_jwk))
    original_header, original_claims, _ = parts(token)
    assert original_header["kid"] == key.kid, "the token was not signed with the current key"
    return jwt.encode({**original_header, **(header or {})}, {**original_claims, **(claims or {})}, key)


def kid_of(token: str) -> str:
    return parts(token)[0]["kid"]


# -- T10 no Authorization header, or a malformed one ----------------------------------------


@pytest.mark.parametrize(("service", "path"), ENDPOINTS)
def test_T10_no_authorization_header_is_a_401_challenge_without_an_error_code(stack, service, path):
    marker = log_marker(stack)

    answer = call(stack, service, path)

    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{REALM[service]}"'
    assert answer.json() == {"error_description": "An access token is required"}
    assert answer.headers["Cache-Control"] == "no-store"
    assert_nothing_reached_the_idp(stack, marker)
    assert_flow_works(stack)


@pytest.mark.parametrize(("service", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "value",
    ["Basic d2ViLWFwcDpzZWNyZXQ=", "Bearer", "Token {token}", "{token}"],
    ids=["basic", "bearer-alone", "other-scheme", "no-scheme"],
)
def test_T10_a_malformed_authorization_header_is_invalid_request(stack, service, path, value):
    token = token_for(stack, service, login(stack))
    marker = log_marker(stack)

    answer = call(stack, service, path, Authorization=value.format(token=token))

    assert_bearer_error(
        answer, 400, "invalid_request", REALM[service], "The Authorization header must be: Bearer <access token>"
    )
    assert_nothing_reached_the_idp(stack, marker)
    # The same token, sent as the tutorial says, is accepted.
    assert call(stack, service, path, token).status_code == 200


# -- T11 an ID token, or a token for another audience, sent to the Source API ---------------


@pytest.mark.parametrize("path", ["/api/me", "/api/contacts"])
@pytest.mark.parametrize(
    ("which", "description"),
    [
        ("id_token", "The token is not an access token (typ must be at+jwt)"),
        ("target_api_token", "The access token was not issued for this API"),
        ("management_api_token", "The access token was not issued for this API"),
    ],
)
def test_T11_a_token_that_is_not_an_access_token_for_the_source_api_is_refused(stack, path, which, description):
    tokens = login(stack)
    sent = {
        "id_token": tokens["id_token"],
        "target_api_token": token_for(stack, "target-api", tokens),
        "management_api_token": Management(stack).headers["Authorization"].split()[1],
    }[which]
    marker = log_marker(stack)

    answer = call_source(stack, path, sent)

    assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, description)
    assert_nothing_reached_the_idp(stack, marker)
    assert call_source(stack, path, tokens["access_token"]).status_code == 200


# -- T12 the access token has expired -------------------------------------------------------


def test_T12_an_expired_access_token_is_refused_by_the_source_api(stack, tenant_as_found):
    marker = log_marker(stack)
    with provider_clock(stack, -90000):  # a day and an hour back: tokens expired an hour ago
        expired = login(stack)["access_token"]

    for path in ("/api/me", "/api/contacts"):
        assert_bearer_error(call_source(stack, path, expired), 401, "invalid_token", SOURCE_API, EXPIRED)
    assert_nothing_reached_the_idp(stack, marker)
    assert_flow_works(stack)


def test_T12_an_expired_target_api_token_is_refused_by_the_target_api(stack, management, tenant_as_found):
    management.patch("/resource-servers/target-api", {"token_lifetime": 60})
    marker = log_marker(stack)
    with provider_clock(stack, -100):  # Target API tokens expired 40 s ago; the user's live a day
        user_token = login(stack)["access_token"]
        target_token = token_for(stack, "target-api", {"access_token": user_token})
        directly = call_target(stack, "/api/contacts", target_token)
        through_the_source_api = call_source(stack, "/api/contacts", user_token)

    assert_bearer_error(directly, 401, "invalid_token", TARGET_API, EXPIRED)
    # The Source API got a new Target API token once; refused too, it says so with a 502.
    assert_problem(through_the_source_api, 502, 4, "target-api", "invalid_token", EXPIRED)
    exchanges = logs_since(stack, marker, type="success_on_behalf_of_token_exchange", user_id=ALICE_ID)
    assert len(exchanges) == 3, exchanges  # ours, and the Source API's two
    # With the clock right, the same user token gets the contacts.
    answer = call_source(stack, "/api/contacts", user_token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["via"]["target_token"] == "exchange"


def test_T12_the_web_app_refreshes_once_and_calls_again(stack, management, tenant_as_found):
    management.patch("/resource-servers/source-api", {"token_lifetime": 60})
    browser = requests.Session()
    with provider_clock(stack, -600):  # the access token expired 9 minutes ago; the ID token is fine
        signed_in = web_app_sign_in(stack, browser)
    assert signed_in.status_code == 302, signed_in.text
    marker = log_marker(stack)

    page = web_app_call(stack, browser)

    assert page.status_code == 200, page.text
    text = page_text(page)
    assert "Your access token had expired. The app refreshed it once" in text, text
    assert "Carol Chen" in text, text
    refreshes = logs_since(stack, marker, type="sertft", client_id="web-app")
    assert len(refreshes) == 1, refreshes
    assert refreshes[0]["user_id"] == ALICE_ID, refreshes
    assert len(logs_since(stack, marker, type="success_on_behalf_of_token_exchange", user_id=ALICE_ID)) == 1
    # The next call uses the refreshed token: no refresh this time.
    marker = log_marker(stack)
    again = web_app_call(stack, browser)
    assert again.status_code == 200
    assert "refreshed it once" not in page_text(again)
    assert logs_since(stack, marker, type="sertft") == []


def test_T12_the_web_app_asks_for_a_new_login_when_the_refreshed_token_is_refused_too(
    stack, management, tenant_as_found
):
    management.patch("/resource-servers/source-api", {"token_lifetime": 60})
    browser = requests.Session()
    marker = log_marker(stack)
    with provider_clock(stack, -600):  # every token issued meanwhile, the refreshed one too, is expired
        signed_in = web_app_sign_in(stack, browser)
        page = web_app_call(stack, browser)

    assert signed_in.status_code == 302, signed_in.text
    assert page.status_code == 401, page.text
    text = page_text(page)
    for expected in (
        "Your access token was refused: log in again",
        "The Source API refused the access token even after a refresh.",
        "invalid_token",
        EXPIRED,
    ):
        assert expected in text, text
    assert guide_links(page) == ["t12"], guide_links(page)
    assert 'href="/login"' in page.text
    # One refresh, one retry, and nothing was exchanged.
    assert len(logs_since(stack, marker, type="sertft", client_id="web-app", user_id=ALICE_ID)) == 1
    assert_nothing_reached_the_idp(stack, marker)
    # The tokens were dropped; a new login with the clock right works.
    assert browser.get(stack["web-app"].url + "/call", timeout=TIMEOUT).status_code == 401
    assert web_app_sign_in(stack, browser).status_code == 302
    assert web_app_call(stack, browser).status_code == 200


def test_T12_without_a_refresh_token_the_web_app_asks_for_a_new_login(stack, management, tenant_as_found):
    management.patch("/resource-servers/source-api", {"token_lifetime": 60, "allow_offline_access": False})
    browser = requests.Session()
    with provider_clock(stack, -600):
        signed_in = web_app_sign_in(stack, browser)
    assert signed_in.status_code == 302, signed_in.text
    marker = log_marker(stack)

    page = web_app_call(stack, browser)

    assert page.status_code == 401, page.text
    assert "There is no refresh token to renew it with (see T07)." in page_text(page)
    assert guide_links(page) == ["t12"], guide_links(page)
    assert logs_since(stack, marker, type="sertft") == []
    assert logs_since(stack, marker, type="fertft") == []
    assert_flow_works(stack)


# -- T13 bad signature, alg none, HS256, wrong iss, wrong typ -------------------------------


FORGERIES = {
    "claims-changed": (lambda stack, token: claims_changed(token), "The access token signature is invalid"),
    "another-key": (lambda stack, token: another_key(token), "The access token signature is invalid"),
    "alg-none": (lambda stack, token: alg_none(token), "The access token must be signed with RS256"),
    "hs256": (hs256_with_the_public_key, "The access token must be signed with RS256"),
    "wrong-iss": (
        lambda stack, token: signed_by_the_provider(stack, token, claims={"iss": "https://idp.example.com/"}),
        "The access token was not issued by the expected issuer",
    ),
    "wrong-typ": (
        # typ JWT and this API's audience: the provider's default profile, named as such.
        lambda stack, token: signed_by_the_provider(stack, token, header={"typ": "JWT"}),
        "The access token has the provider's default profile, not RFC 9068 (typ must be at+jwt, "
        "ACCESS_TOKEN_PROFILE=rfc9068): turn on the API's RFC 9068 profile at the provider, or set "
        "ACCESS_TOKEN_PROFILE=provider-default",
    ),
}


@pytest.mark.parametrize(("service", "path"), ENDPOINTS)
@pytest.mark.parametrize("forgery", FORGERIES)
def test_T13_a_token_that_does_not_validate_is_invalid_token(stack, service, path, forgery):
    forge, description = FORGERIES[forgery]
    token = token_for(stack, service, login(stack))
    forged = forge(stack, token)
    marker = log_marker(stack)

    answer = call(stack, service, path, forged)

    assert_bearer_error(answer, 401, "invalid_token", REALM[service], description)
    assert_nothing_reached_the_idp(stack, marker)
    assert call(stack, service, path, token).status_code == 200


def test_T13_a_token_re_signed_unchanged_with_the_providers_key_is_accepted(stack):
    # The control for wrong-iss and wrong-typ: their signing is right, so only the changed
    # field can be what the APIs refuse.
    tokens = login(stack)
    for service, path in ENDPOINTS:
        resigned = signed_by_the_provider(stack, token_for(stack, service, tokens))
        assert call(stack, service, path, resigned).status_code == 200


# -- T14 the kid is unknown: the signing key was rotated ------------------------------------


@pytest.fixture
def fresh_source_api(stack):
    """The Source API restarted before and after the test: its key cache holds no miss."""
    stack.controllable()
    stack["source-api"].restart()
    yield
    stack["source-api"].restart()


def rotate(stack) -> str:
    rotated = Management(stack).call("POST", "/keys/signing/rotate")
    assert rotated.status_code == 201, rotated.text
    return rotated.json()["kid"]


def test_T14_after_a_rotation_the_apis_fetch_the_new_key_and_refuse_a_retired_one(stack, fresh_source_api):
    old = login(stack)["access_token"]
    assert call_source(stack, "/api/me", old).status_code == 200  # the Source API caches the keys
    rotate(stack)
    new_kid = rotate(stack)  # the key that signed `old` is retired: out of the JWKS
    new = login(stack)
    assert kid_of(new["access_token"]) == new_kid != kid_of(old)
    marker = log_marker(stack)

    me = call_source(stack, "/api/me", new["access_token"])
    contacts = call_source(stack, "/api/contacts", new["access_token"])
    target = call_target(stack, "/api/contacts", token_for(stack, "target-api", new))
    retired = call_source(stack, "/api/me", old)

    assert me.status_code == 200, me.text
    assert contacts.status_code == 200, contacts.text  # the Target API fetched the new key too
    assert target.status_code == 200, target.text
    assert_bearer_error(retired, 401, "invalid_token", SOURCE_API, "The access token is signed with an unknown key")
    assert len(logs_since(stack, marker, type="success_on_behalf_of_token_exchange", user_id=ALICE_ID)) == 2
    assert_flow_works(stack)


def test_T14_an_unknown_kid_while_the_idp_is_down_is_503_and_a_cached_key_keeps_working(stack, fresh_source_api):
    cached = login(stack)["access_token"]
    assert call_source(stack, "/api/me", cached).status_code == 200  # the Source API caches the keys
    new_kid = rotate(stack)
    unknown = login(stack)  # signed with a key neither API has seen
    unknown_target = token_for(stack, "target-api", unknown)
    assert kid_of(unknown["access_token"]) == kid_of(unknown_target) == new_kid

    idp = stack["mock-idp"]
    with idp.fault("stopped"):
        still_cached = call_source(stack, "/api/me", cached)
        at_source = call_source(stack, "/api/me", unknown["access_token"])
        at_target = call_target(stack, "/api/contacts", unknown_target)

    assert still_cached.status_code == 200, still_cached.text
    for answer, service in ((at_source, "source-api"), (at_target, "target-api")):
        assert answer.status_code == 503, answer.text  # an outage, never a 401
        assert answer.headers["Retry-After"] == "5", answer.headers
        assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{REALM[service]}"', answer.headers
        assert answer.json() == {
            "error": "temporarily_unavailable",
            "error_description": "The identity provider's keys cannot be fetched",
        }
    # The identity provider is back: the same tokens are accepted.
    assert call_source(stack, "/api/me", unknown["access_token"]).status_code == 200
    assert call_target(stack, "/api/contacts", unknown_target).status_code == 200
    assert_flow_works(stack)


# -- T15 the clocks disagree ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("skew", "lifetime"),
    [(20, 86400), (-62, 60)],
    ids=["provider-20s-ahead", "provider-62s-behind-tokens-expired-2s-ago"],
)
def test_T15_clocks_within_the_leeway_are_accepted_at_every_step(stack, management, tenant_as_found, skew, lifetime):
    for api in ("source-api", "target-api"):
        management.patch(f"/resource-servers/{api}", {"token_lifetime": lifetime})
    browser = requests.Session()
    with provider_clock(stack, skew):
        user_token = login(stack)["access_token"]
        me = call_source(stack, "/api/me", user_token)
        contacts = call_source(stack, "/api/contacts", user_token)  # steps 2, 3 and 4
        signed_in = web_app_sign_in(stack, browser)  # the ID token, in the web app
        page = web_app_call(stack, browser)

    assert me.status_code == 200, me.text
    assert contacts.status_code == 200, contacts.text
    assert contacts.json()["via"]["target_token"] == "exchange"
    assert signed_in.status_code == 302, signed_in.text
    assert signed_in.headers["Location"] == "/", signed_in.text
    assert page.status_code == 200, page.text
    assert "refreshed it once" not in page_text(page), page.text


def test_T15_a_provider_clock_ahead_beyond_the_leeway_is_refused(stack, tenant_as_found):
    marker = log_marker(stack)
    with provider_clock(stack, 120):
        user_token = login(stack)["access_token"]
        answers = [call_source(stack, path, user_token) for path in ("/api/me", "/api/contacts")]
        page = web_app_sign_in(stack, requests.Session())

    for answer in answers:
        assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, "The access token was issued in the future")
    assert_nothing_reached_the_idp(stack, marker)
    # The web app refuses the ID token of the login, and says so.
    assert page.status_code == 502, page.text
    text = page_text(page)
    assert "The ID token was rejected" in text, text
    assert "The token was issued in the future" in text, text
    assert guide_links(page) == ["t15"], guide_links(page)
    assert_flow_works(stack)


def test_T15_a_provider_clock_behind_beyond_the_leeway_expires_tokens_early(stack, management, tenant_as_found):
    management.patch("/resource-servers/source-api", {"token_lifetime": 60})
    marker = log_marker(stack)
    with provider_clock(stack, -100):  # tokens living 60 s expired 40 s ago
        user_token = login(stack)["access_token"]
        answer = call_source(stack, "/api/me", user_token)

    assert_bearer_error(answer, 401, "invalid_token", SOURCE_API, EXPIRED)
    assert_nothing_reached_the_idp(stack, marker)
    assert_flow_works(stack)
