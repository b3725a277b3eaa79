"""T14's rule, end to end: after two rotations retire the key of a login, the APIs trust it
until they fetch the JWKS again (at most JWKS_MAX_AGE), the exchange refuses it at once, and
from then on the Source API, the Target API and the web app all say the same: the token is
signed with an unknown key (T14), not that it expired."""

from __future__ import annotations

import pytest
import requests
from backend_client import assert_flow_works, call_api, call_source, exchange, login
from browser_user import guide_links, page_text, web_app_call, web_app_sign_in
from expectations import assert_bearer_error
from tenant_admin import Management

UNKNOWN_KEY = "The access token is signed with an unknown key"
SOURCE_REALM = "https://source-api.example.com"
TARGET_REALM = "https://target-api.example.com"


@pytest.fixture
def fresh_apis(stack):
    """Both APIs restarted before and after: their key caches start empty."""
    stack.controllable()
    for service in ("source-api", "target-api"):
        stack[service].restart()
    yield
    for service in ("source-api", "target-api"):
        stack[service].restart()


def rotate(stack) -> None:
    rotated = Management(stack).call("POST", "/keys/signing/rotate")
    assert rotated.status_code == 201, rotated.text


def target_token(stack, tokens: dict) -> str:
    exchanged = exchange(stack, tokens["access_token"])
    assert exchanged.status_code == 200, exchanged.text
    return exchanged.json()["access_token"]


def test_T14_a_retired_key_is_refused_alike_by_the_exchange_both_apis_and_the_web_app(stack, fresh_apis):
    # The Target API's checks go to one of a single process: each gunicorn worker keeps its
    # own key cache, and a worker that has not met the new kid trusts the old key until its
    # copy is JWKS_MAX_AGE old, as the rule says. (The Source API runs one process.)
    with stack.another("target-api", TARGET_API_WORKERS="1") as target_api:
        _retired_key_is_refused_alike(stack, target_api.url + "/api/contacts")


def _retired_key_is_refused_alike(stack, contacts_url: str) -> None:
    old = login(stack)
    old_target = target_token(stack, old)
    assert call_source(stack, "/api/me", old["access_token"]).status_code == 200  # key cached
    assert call_api(contacts_url, old_target).status_code == 200  # key cached
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302  # a login of the same key
    rotate(stack)
    rotate(stack)  # the key of all the tokens above is retired: out of the JWKS

    # Not fetched again yet (no new kid met, younger than JWKS_MAX_AGE): still trusted.
    assert call_source(stack, "/api/me", old["access_token"]).status_code == 200
    assert call_api(contacts_url, old_target).status_code == 200
    # The exchange is refused at once; the Source API fetches the JWKS and says why.
    exchanged = call_source(stack, "/api/contacts", old["access_token"])
    assert_bearer_error(exchanged, 401, "invalid_token", SOURCE_REALM, UNKNOWN_KEY)
    assert_bearer_error(
        call_source(stack, "/api/me", old["access_token"]), 401, "invalid_token", SOURCE_REALM, UNKNOWN_KEY
    )
    # The Target API meets a token of the new key, fetches the JWKS, and drops the old key.
    assert call_api(contacts_url, target_token(stack, login(stack))).status_code == 200
    assert_bearer_error(call_api(contacts_url, old_target), 401, "invalid_token", TARGET_REALM, UNKNOWN_KEY)

    page = web_app_call(stack, browser)  # refused, refreshed (new key), called again

    text = page_text(page)
    assert page.status_code == 200, text
    assert UNKNOWN_KEY in text
    assert "retired by a key rotation" in text
    assert "had expired" not in text
    assert "t14" in guide_links(page)
    assert_flow_works(stack)
