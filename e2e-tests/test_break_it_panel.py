"""The web app's "break it" panel over HTTP, against the four running services.

Each switch is flipped through the panel's own form, and the very next call (or login, or
refresh, for the cases that show there) meets the documented error, its troubleshooting
link and, where the identity provider is involved, the tenant log entry it wrote for this
request. Then "Restore everything" and the call works again.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
import requests
from backend_client import exchange, login
from browser_user import authorize, guide_links, page_text, web_app_authorize_url, web_app_post, web_app_sign_in
from conftest import ROOT
from demo_tenant import ALICE, TIMEOUT
from tenant_admin import Management, log_marker, logs_since

EMAIL, ALICE_ID = ALICE
RULE_CLAIM = "https://obo.example.com/exchanged_by"

# The switches this module's tests flip; a test below holds it against the panel's own list,
# so a switch added to the panel without a test here fails.
FLIPPED: set[str] = set()


def flips(*switches: str):
    FLIPPED.update(switches)
    return lambda test: test


@pytest.fixture
def operator(stack, tenant_as_found) -> requests.Session:
    """Alice, logged in to the web app: the panel's user. The keys are reset after the test
    too (the tenant reset does not touch them), whatever the test did."""
    browser = requests.Session()
    signed_in = web_app_sign_in(stack, browser)
    assert signed_in.status_code == 302, signed_in.text
    yield browser
    reset = Management(stack).call("POST", "/keys/signing/reset")
    assert reset.status_code == 200, reset.text


def flip(stack, browser: requests.Session, switch: str, action: str = "break") -> requests.Response:
    page = web_app_post(stack, browser, "/panel/switch", page="/panel", switch=switch, action=action)
    assert page.status_code == 200, page.text
    assert "the next call meets the change" in page_text(page), page_text(page)
    return page


def call_now(stack, browser: requests.Session) -> requests.Response:
    page = web_app_post(stack, browser, "/panel/call", page="/panel")
    assert page.status_code == 200, page.text
    return page


def outcome(page: requests.Response) -> str:
    """The text of what the call met, up to its tenant log entries."""
    text = page_text(page)
    assert "What the call met" in text, text
    return text.split("What the call met", 1)[1].split("Tenant log entries of this call", 1)[0]


def logged(page: requests.Response) -> str:
    """The text of the tenant log entries the panel shows for the call."""
    return page_text(page).split("Tenant log entries of this call", 1)[1].split("Switches", 1)[0]


def request_id_of(page: requests.Response) -> str:
    return page.headers["X-Request-Id"]


def restore_and_call(stack, browser: requests.Session) -> requests.Response:
    restored = web_app_post(stack, browser, "/panel/restore", page="/panel")
    assert restored.status_code == 200, restored.text
    assert "Everything is restored" in page_text(restored)
    page = call_now(stack, browser)
    assert "HTTP 200" in outcome(page), outcome(page)
    assert "contact(s)" in outcome(page), outcome(page)
    return page


# -- the exchange refused (step 3) ------------------------------------------------------------


EXCHANGE_REFUSALS = [
    (
        "exchange",
        "break",
        "unauthorized_client",
        "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client.",
        "t16",
    ),
    ("pairing", "break", "access_denied", "is not paired with https://target-api.example.com", "t18"),
    ("pairing-scopes", "break", "invalid_scope", "Scope not selected in the API pairing: read:contacts", "t21"),
    ("skip-consent", "break", "consent_required", "The target API does not allow skipping user consent", "t22"),
    ("source-secret", "change", "access_denied", "Unauthorized", "t17"),
]


@flips(*(refusal[0] for refusal in EXCHANGE_REFUSALS))
@pytest.mark.parametrize(("switch", "action", "error", "description", "case"), EXCHANGE_REFUSALS)
def test_an_exchange_switch_shows_its_case_on_the_next_call(stack, operator, switch, action, error, description, case):
    assert "HTTP 200" in outcome(call_now(stack, operator))  # a Target API token is cached now
    flip(stack, operator, switch, action)

    page = call_now(stack, operator)

    met = outcome(page)
    assert "HTTP 502" in met, met
    assert "Step 3: Exchange the token" in met, met
    assert error in met, met
    assert description in met, met
    assert f'href="/troubleshooting#{case}"' in page.text.split("What the call met", 1)[1].split("Tenant log", 1)[0]
    entries = logged(page)
    assert "failed_on_behalf_of_token_exchange" in entries, entries
    assert description in entries, entries
    restore_and_call(stack, operator)


# -- no error, but something to look at ----------------------------------------------------------


@flips("offline-access", "source-api-refresh")
@pytest.mark.parametrize("switch", ["offline-access", "source-api-refresh"])
def test_without_a_target_api_refresh_token_the_exchange_still_succeeds(stack, operator, switch):
    flip(stack, operator, switch)

    page = call_now(stack, operator)

    met = outcome(page)
    assert "HTTP 200" in met, met
    assert "Target API token exchange" in met, met
    assert "Target API refresh token no" in met, met
    entries = logged(page)
    assert "success_on_behalf_of_token_exchange" in entries, entries
    assert '"refresh_token": false' in entries, entries
    case = "t07" if switch == "offline-access" else "t06"
    assert case in guide_links(page)
    assert "Target API refresh token yes" in outcome(restore_and_call(stack, operator))


@flips("rule")
def test_the_sample_rule_off_takes_its_claim_out_of_the_exchanged_token(stack, operator):
    def exchanged_claims() -> dict:
        answer = exchange(stack, login(stack)["access_token"])
        assert answer.status_code == 200, answer.text
        payload = answer.json()["access_token"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    assert RULE_CLAIM in exchanged_claims()
    page = flip(stack, operator, "rule")
    assert "disabled (add-on-behalf-of-claims)" in page_text(page)

    assert "HTTP 200" in outcome(call_now(stack, operator))
    assert RULE_CLAIM not in exchanged_claims()
    restore_and_call(stack, operator)
    assert RULE_CLAIM in exchanged_claims()


@flips("target-lifetime")
def test_a_short_target_api_lifetime_shows_the_source_apis_own_refresh(stack, operator):
    page = flip(stack, operator, "target-lifetime")
    assert "75 s" in page_text(page)

    first = call_now(stack, operator)
    assert "Target API token exchange" in outcome(first), outcome(first)
    # 75 s tokens are renewed 60 s before they expire: call until the cached one is due.
    deadline = time.monotonic() + 45
    while "Target API token refresh" not in outcome(page := call_now(stack, operator)):
        assert "Target API token cache" in outcome(page), outcome(page)
        assert time.monotonic() < deadline, "the Source API never renewed its Target API token"
        time.sleep(1)
    entries = logged(page)
    assert "sertft" in entries, entries
    assert "source-api" in entries, entries
    restore_and_call(stack, operator)


# -- the user's own tokens: refresh, expiry, keys, clocks -------------------------------------


@flips("web-app-refresh")
def test_T06_the_web_apps_next_refresh_is_refused(stack, operator):
    flip(stack, operator, "web-app-refresh")
    marker = log_marker(stack)

    page = web_app_post(stack, operator, "/refresh")

    assert page.status_code == 502, page.text
    text = page_text(page)
    assert "The identity provider refused to refresh the tokens" in text, text
    assert "unauthorized_client" in text, text
    assert "t06" in guide_links(page)
    [entry] = logs_since(stack, marker, type="fertft", client_id="web-app")
    assert entry["details"]["request_id"] == request_id_of(page), entry
    restore_and_call(stack, operator)
    assert web_app_post(stack, operator, "/refresh").status_code == 200


@flips("callback")
def test_T01_a_wrong_callback_url_stops_the_next_login(stack, operator):
    flip(stack, operator, "callback")
    another_browser = requests.Session()
    marker = log_marker(stack)

    page = another_browser.get(web_app_authorize_url(stack, another_browser), allow_redirects=False, timeout=TIMEOUT)

    assert page.status_code == 400, page.headers
    assert "Location" not in page.headers, page.headers
    text = page_text(page)
    assert "Something is wrong with this login request" in text, text
    assert f"Redirect URI {stack.callback} is not supported by client." in text, text
    [entry] = logs_since(stack, marker, type="f", client_id="web-app")
    assert entry["details"]["redirect_uri"] == stack.callback, entry
    assert "t01" in guide_links(web_app_post(stack, operator, "/panel/call", page="/panel"))
    restore_and_call(stack, operator)
    assert web_app_sign_in(stack, requests.Session()).status_code == 302


@flips("source-lifetime", "clock")
def test_T12_a_short_source_api_lifetime_makes_the_app_refresh_once_and_call_again(stack, operator):
    flip(stack, operator, "source-lifetime")
    flip(stack, operator, "clock", "behind")  # so the next login's access token arrives expired
    assert web_app_sign_in(stack, operator).status_code == 302
    flip(stack, operator, "clock", "mend")

    page = call_now(stack, operator)

    met = outcome(page)
    assert "HTTP 200" in met, met
    assert "The access token expired" in met, met
    assert "refreshed it once" in met, met
    assert 'href="/troubleshooting#t12"' in page.text.split("What the call met", 1)[1]
    entries = logged(page)
    assert "sertft" in entries, entries
    assert "success_on_behalf_of_token_exchange" in entries, entries
    restore_and_call(stack, operator)


@flips("clock")
def test_T15_a_clock_ahead_makes_the_exchanged_token_come_from_the_future(stack, operator):
    flip(stack, operator, "clock", "ahead")

    page = call_now(stack, operator)

    met = outcome(page)
    assert "HTTP 502" in met, met
    assert "The access token was issued in the future" in met, met
    assert 'href="/troubleshooting#t15"' in page.text.split("What the call met", 1)[1].split("Tenant log", 1)[0]
    assert "success_on_behalf_of_token_exchange" in logged(page)
    login_page = web_app_sign_in(stack, requests.Session())
    assert login_page.status_code == 502
    assert "The ID token was rejected" in page_text(login_page)
    assert "t15" in guide_links(login_page)
    restore_and_call(stack, operator)


@flips("rotate")
def test_T14_two_rotations_retire_the_logins_key_and_restore_brings_everything_back(stack, operator):
    assert "HTTP 200" in outcome(call_now(stack, operator))  # the Source API has this login's key
    flip(stack, operator, "rotate", "rotate")
    assert "HTTP 200" in outcome(call_now(stack, operator))  # one rotation: nothing to see
    flip(stack, operator, "rotate", "rotate")  # the panel's own Management token goes stale here

    page = call_now(stack, operator)

    met = outcome(page)
    assert "HTTP 200" in met, met
    assert "refreshed it once" in met, met
    assert re.search(r"signed with an unknown key|signature could not be verified", met), met
    assert 'href="/troubleshooting#t14"' in page.text.split("What the call met", 1)[1].split("Tenant log", 1)[0]
    assert "sertft" in logged(page), logged(page)
    after = restore_and_call(stack, operator)
    assert "refreshed it once" not in outcome(after)


def test_restore_works_after_every_switch_at_once(stack, operator):
    for switch, action in [
        ("exchange", "break"),
        ("pairing", "break"),
        ("skip-consent", "break"),
        ("offline-access", "break"),
        ("web-app-refresh", "break"),
        ("source-api-refresh", "break"),
        ("callback", "break"),
        ("rule", "break"),
        ("target-lifetime", "break"),
        ("source-lifetime", "break"),
        ("source-secret", "change"),
        ("rotate", "rotate"),
        ("rotate", "rotate"),
        ("clock", "ahead"),
        ("exchange-policy", "bounded"),
    ]:
        flip(stack, operator, switch, action)
    assert "HTTP 502" in outcome(call_now(stack, operator))

    after = restore_and_call(stack, operator)

    assert "Target API token exchange" in outcome(after)
    assert "Target API refresh token yes" in outcome(after)
    assert web_app_sign_in(stack, requests.Session()).status_code == 302
    assert 'class="switch broken' not in after.text  # every switch reads as the tenant file has it


@flips("exchange-policy")
def test_T38_the_bounded_policy_refuses_only_a_login_that_did_not_grant_offline_access(stack, operator):
    page = flip(stack, operator, "exchange-policy", "bounded")
    assert "bounded" in page_text(page).split("The tenant's token exchange policy", 1)[1][:40]
    # The web app's usual login asks for offline_access: nothing changes for it.
    assert "HTTP 200" in outcome(call_now(stack, operator))
    another_browser = requests.Session()
    url = web_app_authorize_url(stack, another_browser)
    url = url.replace("offline_access+", "").replace("+offline_access", "").replace("offline_access%20", "")
    assert "offline_access" not in url, url
    assert web_app_sign_in(stack, another_browser, url=url).status_code == 302

    page = call_now(stack, another_browser)

    met = outcome(page)
    assert "HTTP 502" in met, met
    assert "invalid_scope" in met, met
    assert "Scope not granted at login: offline_access" in met, met
    assert "t38" in guide_links(page)
    entries = logged(page)
    assert "failed_on_behalf_of_token_exchange" in entries, entries
    assert "bounded_policy" in entries, entries
    restore_and_call(stack, another_browser)


def test_every_switch_on_the_panel_has_a_test_here(stack, operator):
    panel = operator.get(stack["web-app"].url + "/panel", timeout=TIMEOUT)
    assert panel.status_code == 200, panel.text
    on_the_panel = set(re.findall(r'<li id="switch-([a-z-]+)"', panel.text))
    assert len(on_the_panel) >= 15, panel.text
    assert not on_the_panel - FLIPPED, f"switches without a test in this module: {on_the_panel - FLIPPED}"
    assert not FLIPPED - on_the_panel, f"tests for switches the panel does not have: {FLIPPED - on_the_panel}"


def test_every_switch_the_troubleshooting_guide_names_is_on_the_panel(stack, operator):
    guide = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    named = {
        title
        for line in guide.splitlines()
        if line.startswith("**In the workshop:**")
        for title in re.findall(r"\*([^*]+)\*", line.removeprefix("**In the workshop:**"))
    }
    assert len(named) >= 10, named

    panel = page_text(operator.get(stack["web-app"].url + "/panel", timeout=TIMEOUT))

    assert not [title for title in named if title not in panel], panel


@flips("step-up")
def test_step_up_sends_the_user_to_a_second_factor_and_the_call_is_sent_again(stack, operator):
    page = flip(stack, operator, "step-up")
    assert "read:contacts needs acr urn:mock:mfa" in page_text(page)

    sent = web_app_post(stack, operator, "/panel/call", page="/panel", follow=False)
    assert sent.status_code == 302, sent.text
    assert "acr_values=urn%3Amock%3Amfa" in sent.headers["Location"]
    authorization = authorize(operator, sent.headers["Location"], EMAIL)
    assert authorization.pages == ["second_factor"]  # logged in already: the second factor only
    retried = operator.get(authorization.location, timeout=TIMEOUT)
    assert retried.status_code == 200, retried.text
    assert "acr_values=urn:mock:mfa" in page_text(retried)
    assert "Your contacts" in page_text(retried)
    entries = Management(stack).call("GET", "/logs", type="failed_on_behalf_of_token_exchange").json()
    assert any(e["details"].get("reason") == "step_up_required" for e in entries), entries
    restore_and_call(stack, operator)
