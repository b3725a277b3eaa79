"""Step-up through the chain (RFC 9470): the Target API needs a stronger login than the
user's token carries; the refusal, two hops from the browser, comes back to the web app,
which logs the browser in again (the second factor) and sends the call again once.

The Target API's requirement is a setting of its own (TARGET_API_STEP_UP_*): each test
runs it restarted with one, and put back after.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests
from backend_client import call_source, call_target, exchange, login
from browser_support import keep, log_in, needs_chromium, require_browser
from browser_user import authorize, web_app_post, web_app_sign_in
from demo_tenant import ALICE, PASSWORD, SOURCE_API, TARGET_API, TIMEOUT

from obo_common.bearer import parse_bearer_challenge

MFA = "urn:mock:mfa"
STRONGER = {"TARGET_API_STEP_UP_SCOPES": "read:contacts", "TARGET_API_STEP_UP_ACR_VALUES": MFA}


def claims_of(token: str) -> dict:
    """A token's claims, unverified: what it says about the login (the APIs verify it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def target_needs_mfa(stack):
    with stack["target-api"].reconfigured(**STRONGER):
        yield


def test_the_target_apis_challenge_comes_back_through_the_source_api(stack, target_needs_mfa):
    tokens = login(stack)
    assert claims_of(tokens["access_token"])["acr"] == "urn:mock:pwd"

    direct = call_target(stack, "/api/contacts", exchange(stack, tokens["access_token"]).json()["access_token"])
    assert direct.status_code == 401
    challenge = parse_bearer_challenge(direct.headers["WWW-Authenticate"])
    assert challenge == {
        "realm": TARGET_API,
        "error": "insufficient_user_authentication",
        "error_description": f"A stronger login is required (acr: {MFA})",
        "acr_values": MFA,
    }

    relayed = call_source(stack, "/api/contacts", tokens["access_token"])
    assert relayed.status_code == 401
    assert parse_bearer_challenge(relayed.headers["WWW-Authenticate"]) == {**challenge, "realm": SOURCE_API}

    # The login asked for with acr_values: the second factor, then the call goes through,
    # the exchanged token carrying the stronger login.
    stronger = login(stack, acr_values=MFA)
    assert claims_of(stronger["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    answer = call_source(stack, "/api/contacts", stronger["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["owner"] == ALICE[1]


def test_a_max_age_demand_asks_for_a_login_that_recent(stack):
    with stack["target-api"].reconfigured(TARGET_API_STEP_UP_SCOPES="read:contacts", TARGET_API_STEP_UP_MAX_AGE="0"):
        relayed = call_source(stack, "/api/contacts", login(stack)["access_token"])
    assert relayed.status_code == 401
    challenge = parse_bearer_challenge(relayed.headers["WWW-Authenticate"])
    assert challenge["error"] == "insufficient_user_authentication"
    assert challenge["max_age"] == "0"


@needs_chromium
def test_the_browser_logs_in_again_with_a_second_factor_and_the_call_succeeds(stack, page, target_needs_mfa):
    expect = require_browser().expect
    web_app = stack["web-app"].url
    log_in(page, stack, ALICE[0], PASSWORD)

    page.goto(web_app + "/call")
    page.get_by_role("button", name=re.compile("Get my contacts")).click()

    # The Target API's refusal sent the browser back to the identity provider, asking for more.
    page.wait_for_url(re.compile(re.escape(stack.issuer) + "authorize.*acr_values=urn%3Amock%3Amfa"))
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    keep(page, "step-up-second-factor")
    page.fill("#code", page.locator("#demo-code").inner_text())
    page.get_by_role("button", name="Verify").click()

    # Back at the web app: the call was sent again, once, and succeeded.
    page.wait_for_url(web_app + "/call/after-step-up")
    expect(page.locator("#stepped-up")).to_contain_text("acr_values=urn:mock:mfa")
    expect(page.get_by_role("heading", name="Your contacts")).to_be_visible()
    keep(page, "step-up-retried")

    # The inspector keeps the challenged call beside the login it asked for.
    page.goto(web_app + "/inspector")
    expect(page.locator("#step-up")).to_contain_text('error="insufficient_user_authentication"')
    expect(page.locator("#step-up")).to_contain_text('acr_values="urn:mock:mfa"')
    expect(page.get_by_text("urn:mock:mfa").first).to_be_visible()
    keep(page, "step-up-inspector")


def test_an_acr_the_provider_cannot_give_ends_in_T47_not_a_loop(stack):
    """The Target API asks for a level the tenant does not offer: the second login is the
    strongest there is, the Target API still refuses, and the web app stops there."""
    with stack["target-api"].reconfigured(
        TARGET_API_STEP_UP_SCOPES="read:contacts", TARGET_API_STEP_UP_ACR_VALUES="urn:mock:hardware-key"
    ):
        browser = requests.Session()
        assert web_app_sign_in(stack, browser).status_code == 302
        sent = web_app_post(stack, browser, "/call", page="/call", follow=False, endpoint="contacts")
        assert sent.status_code == 302
        assert "acr_values=urn%3Amock%3Ahardware-key" in sent.headers["Location"]
        authorization = authorize(browser, sent.headers["Location"], ALICE[0])
        assert "second_factor" in authorization.pages
        back = browser.get(authorization.location, timeout=TIMEOUT)
        assert back.status_code == 403
        assert "T47" in back.text
