"""The web app's error page names the right troubleshooting case.

For each case a rule of web_app/troubleshooting_cases.py names, the case is made to happen
against the running services, through the web app as a browser drives it (requests
sessions; a browser may change the /authorize URL the web app sends it to, the back
channel it cannot touch). The page must name that case, with the title of its entry in
docs/troubleshooting.md, link to ``/troubleshooting#tNN`` and to no other entry, and show
the ``error`` and the piece of description its rule matches: a rule that names the wrong
case fails here. Every rule that names a case has one scenario, and a rule added without
one fails ``test_every_rule_that_names_a_case_has_a_scenario``.

The misconfigurations of the Source API itself (its Target API audience, its exchange
scope, its actor token) run a second Source API and a web app calling it, beside the
suite's. The cases of the tenant's current On-Behalf-Of profile (T40, T41, T44) switch the
tenant to it through the Management API.
"""

from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from browser_user import (
    authorize,
    guide_links,
    page_form,
    page_text,
    web_app_authorize_url,
    web_app_call,
    web_app_post,
    web_app_sign_in,
)
from demo_tenant import ALICE, PASSWORD, TIMEOUT, WEB_APP
from tenant_admin import Management, rate_limit_window, set_rate_limit

from local_stack import launcher
from obo_common.troubleshooting_guide import by_case
from web_app.troubleshooting_cases import (
    CALLBACK,
    CODE_EXCHANGE,
    EXCHANGE,
    ID_TOKEN,
    IDP_OUTAGE,
    REFRESH,
    RULES,
    SOURCE_API,
    TARGET_API,
)

ROOT = Path(__file__).resolve().parent.parent

GUIDE = by_case(ROOT / "docs" / "troubleshooting.md")
# RFC 7636's example challenge: an S256 challenge of a verifier the web app does not hold.
OTHER_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t2URcTBJp4AQ_AHc"


def changed_login(stack, browser: requests.Session, **changes: str | None) -> requests.Response:
    """Log in through the web app with its /authorize URL changed by the browser (None drops
    a parameter); the web app's answer to the callback."""
    return web_app_sign_in(stack, browser, url=changed(web_app_authorize_url(stack, browser), **changes))


def changed(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    params.update(changes)
    return urlunsplit(parts._replace(query=urlencode({k: v for k, v in params.items() if v is not None})))


def logged_in(stack, web_app_url: str | None = None) -> requests.Session:
    browser = requests.Session()
    if web_app_url is None:
        finished = web_app_sign_in(stack, browser)
    else:
        finished = follow_to_callback(browser, f"{web_app_url}/login", ALICE[0])
    assert finished.status_code == 302, finished.text
    return browser


def follow_to_callback(browser: requests.Session, login_url: str, email: str) -> requests.Response:
    """A web app's Log in, the real login (and consent) pages, then the callback they send to."""
    started = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    assert started.status_code == 302, started.text
    authorization = authorize(browser, started.headers["Location"], email)
    return browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT * 3)


def at_the_identity_provider(stack, browser: requests.Session):
    """Log in at the identity provider's pages for the web app, stopping before its callback:
    the callback URL the browser would open next."""
    authorization = authorize(browser, web_app_authorize_url(stack, browser), ALICE[0])
    assert authorization.location.startswith(stack.callback + "?"), authorization
    return authorization.location


def back_at_the_web_app(browser: requests.Session, callback: str) -> requests.Response:
    return browser.get(callback, allow_redirects=False, timeout=TIMEOUT * 3)


@contextmanager
def provider_clock(management: Management, skew: int) -> Iterator[None]:
    """The identity provider's clock moved by ``skew`` seconds while the block runs."""
    assert management.patch("/tenants/settings", {"clock_skew": skew})["clock_skew"] == skew
    try:
        yield
    finally:
        management.patch("/tenants/settings", {"clock_skew": 0})


def held_refresh_token(stack, browser: requests.Session) -> str:
    """The web app's refresh token, as its flow inspector (a demo tool) shows it to its user."""
    page = browser.get(stack["web-app"].url + "/inspector", timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    cards = re.findall(r'<section class="token-card".*?</section>', page.text, flags=re.S)
    [card] = [card for card in cards if "<h3>Your refresh token</h3>" in card]
    return html.unescape(re.search(r'<code class="whole">([^<]+)</code>', card).group(1))


def revoke(stack, refresh_token: str) -> None:
    """What the web app's logout does with its refresh token (here, from another tab)."""
    revoked = requests.post(stack.revocation_endpoint, data={"token": refresh_token, **WEB_APP}, timeout=TIMEOUT)
    assert revoked.status_code == 200, revoked.text


@contextmanager
def web_app_with_its_source_api(stack, management: Management, **source_api_env: str) -> Iterator[str]:
    """A Source API set up as the suite's but for ``source_api_env`` (a misconfiguration the
    Management API cannot make), and a web app of its own that calls it, its callback listed
    in the tenant: the second web app's URL."""
    model = stack["web-app"]
    port = launcher.free_port()
    url = f"http://localhost:{port}"
    callbacks = management.get("/clients/web-app")["callbacks"]
    management.patch("/clients/web-app", {"callbacks": [*callbacks, url + "/callback"]})
    with stack.another("source-api", **source_api_env) as source_api, tempfile.TemporaryDirectory() as data:
        env = {"WEB_APP_BASE_URL": url, "WEB_APP_SOURCE_API_URL": source_api.url, "WEB_APP_DATA_DIR": data}
        service = launcher.Service(
            "web-app", model.service.directory, model.service.app, port, {**model.service.env, **env}
        )
        web_app = type(model)("web-app", url, service=service, log=model.log.with_name("web-app-another.log"))
        web_app.start()
        try:
            yield url
        finally:
            web_app.stop()


def call_at(browser: requests.Session, web_app_url: str) -> requests.Response:
    """Press Get my contacts on the Call the Source API page of the web app at ``web_app_url``."""
    shown = browser.get(web_app_url + "/call", timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token, shown.text
    data = {"csrf_token": token.group(1), "endpoint": "contacts"}
    return browser.post(web_app_url + "/call", data=data, timeout=TIMEOUT * 3)


# -- how each case is made to happen: (stack, management) -> the web app's error page --------


def t20_audience_unknown_at_login(stack, management):
    return changed_login(stack, requests.Session(), audience="https://source-api.example.com/")


def t08_consent_declined(stack, management):
    forgotten = management.call("DELETE", "/grants", user_id=ALICE[1])  # the consent page shows again
    assert forgotten.status_code == 204, forgotten.text
    browser = requests.Session()
    response = browser.get(web_app_authorize_url(stack, browser), allow_redirects=False, timeout=TIMEOUT)
    for _ in range(6):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(stack.issuer):
                return back_at_the_web_app(browser, target)
            response = browser.get(target, allow_redirects=False, timeout=TIMEOUT)
            continue
        form = page_form(response)
        if form.inputs.get("action") == "login":
            data = {**form.inputs, "email": ALICE[0], "password": PASSWORD}
        else:
            data = {**form.inputs, "decision": "deny"}  # the Decline button of the consent page
        response = browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError("the login did not end")


def t09_prompt_none_without_a_login(stack, management):
    return changed_login(stack, requests.Session(), prompt="none")


def t09_prompt_none_while_consent_is_needed(stack, management):
    browser = logged_in(stack)  # a session at the identity provider
    forgotten = management.call("DELETE", "/grants", user_id=ALICE[1])
    assert forgotten.status_code == 204, forgotten.text
    return changed_login(stack, browser, prompt="none")


def t04_no_pkce(stack, management):
    return changed_login(stack, requests.Session(), code_challenge=None, code_challenge_method=None)


def t06_authorization_code_grant_off(stack, management):
    management.patch("/clients/web-app", {"grant_types": ["refresh_token"]})
    return web_app_sign_in(stack, requests.Session())


def t06_authorization_code_grant_off_before_the_code_is_redeemed(stack, management):
    browser = requests.Session()
    callback = at_the_identity_provider(stack, browser)
    management.patch("/clients/web-app", {"grant_types": ["refresh_token"]})
    return back_at_the_web_app(browser, callback)


def t02_callback_spelt_otherwise(stack, management):
    # An Allowed Callback URL that reaches the same web app, spelt otherwise than the one
    # the web app sends in its token request.
    spelt_otherwise = stack["web-app"].url.replace("localhost", "LOCALHOST") + "/callback"
    callbacks = management.get("/clients/web-app")["callbacks"]
    management.patch("/clients/web-app", {"callbacks": [*callbacks, spelt_otherwise]})
    browser = requests.Session()
    authorization = authorize(
        browser, changed(web_app_authorize_url(stack, browser), redirect_uri=spelt_otherwise), ALICE[0]
    )
    assert authorization.location.lower().startswith(spelt_otherwise.lower() + "?"), authorization
    return back_at_the_web_app(browser, authorization.location)


def t03_another_challenge(stack, management):
    return changed_login(stack, requests.Session(), code_challenge=OTHER_CHALLENGE)


def t05_code_used_before_the_web_app(stack, management):
    browser = requests.Session()
    callback = at_the_identity_provider(stack, browser)
    # Someone who saw the callback URL redeems its code first (without the verifier, so it
    # is refused, but the code is used up): the web app's redemption is its second use.
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    first = requests.post(
        stack.token_endpoint,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback.split("?")[0], **WEB_APP},
        timeout=TIMEOUT,
    )
    assert first.status_code == 403, first.text
    return back_at_the_web_app(browser, callback)


def t13_another_nonce(stack, management):
    return changed_login(stack, requests.Session(), nonce="not-the-web-apps-nonce")


def t15_id_token_issued_in_the_future(stack, management):
    with provider_clock(management, 120):
        return web_app_sign_in(stack, requests.Session())


def t15_id_token_expired(stack, management):
    with provider_clock(management, -37000):  # the ID token lives 36000 s
        return web_app_sign_in(stack, requests.Session())


def t17_web_app_secret_changed_before_the_code(stack, management):
    management.patch("/clients/web-app", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_sign_in(stack, requests.Session())


def t06_refresh_token_grant_off(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/web-app", {"grant_types": ["authorization_code"]})
    return web_app_post(stack, browser, "/refresh")


def t17_web_app_secret_changed_before_a_refresh(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/web-app", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_post(stack, browser, "/refresh")


def t33_refresh_token_revoked(stack, management):
    browser = logged_in(stack)
    revoke(stack, held_refresh_token(stack, browser))
    return web_app_post(stack, browser, "/refresh")


def t37_refreshed_too_often(stack, management):
    browser = logged_in(stack)  # a new login: a token family with no refresh counted yet
    set_rate_limit(management, "refresh_token", limit=1, window=rate_limit_window())
    first = web_app_post(stack, browser, "/refresh")
    assert first.status_code == 200, first.text
    return web_app_post(stack, browser, "/refresh")


def t12_access_token_expired_even_after_a_refresh(stack, management):
    management.patch("/resource-servers/source-api", {"token_lifetime": 60})
    browser = requests.Session()
    with provider_clock(management, -600):  # every access token issued meanwhile is expired
        assert web_app_sign_in(stack, browser).status_code == 302
        return web_app_call(stack, browser)


def t39_login_revoked(stack, management):
    browser = logged_in(stack)
    revoke(stack, held_refresh_token(stack, browser))
    return web_app_call(stack, browser)


def t30_login_without_the_endpoints_scope(stack, management):
    browser = requests.Session()
    assert changed_login(stack, browser, scope="openid profile email offline_access read:profile").status_code == 302
    return web_app_call(stack, browser)


def t16_token_exchange_off(stack, management):
    browser = logged_in(stack)
    management.patch("/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}})
    return web_app_call(stack, browser)


def t17_source_api_secret_changed(stack, management):
    browser = logged_in(stack)
    management.patch("/clients/source-api", {"client_secret": "another-secret-of-at-least-32-characters"})
    return web_app_call(stack, browser)


def t18_no_pairing(stack, management):
    browser = logged_in(stack)
    deleted = management.call("DELETE", "/api-pairings/source-api:target-api")
    assert deleted.status_code == 204, deleted.text
    return web_app_call(stack, browser)


def t20_target_audience_misspelt(stack, management):
    with web_app_with_its_source_api(stack, management, TARGET_API_AUDIENCE="https://target-api.example.com/") as url:
        return call_at(logged_in(stack, url), url)


def t21_scope_outside_the_pairing(stack, management):
    browser = logged_in(stack)
    management.patch("/api-pairings/source-api:target-api", {"scopes": ["write:contacts"]})
    return web_app_call(stack, browser)


def t22_no_skipping_consent(stack, management):
    browser = logged_in(stack)
    management.patch("/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False})
    return web_app_call(stack, browser)


def t28_exchanged_too_often(stack, management):
    set_rate_limit(management, "token_exchange", limit=1, window=rate_limit_window())
    # Other tests may have used the one exchange of this window already; two logins of their
    # own (each exchanged, none cached) take it in any case.
    for _ in range(2):
        page = web_app_call(stack, logged_in(stack))
        if page.status_code != 200:
            return page
    raise AssertionError("two exchanges within a limit of one went through")


def t38_bounded_login_without_offline_access(stack, management):
    management.patch("/tenants/settings", {"token_exchange_policy": "bounded"})
    browser = requests.Session()
    assert changed_login(stack, browser, scope="openid profile email read:profile read:contacts").status_code == 302
    return web_app_call(stack, browser)


def t38_bounded_exchange_beyond_the_login(stack, management):
    management.patch("/tenants/settings", {"token_exchange_policy": "bounded"})
    management.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    with web_app_with_its_source_api(
        stack, management, SOURCE_API_EXCHANGE_SCOPE="read:contacts write:contacts"
    ) as url:
        return call_at(logged_in(stack, url), url)


def current_profile(management: Management, **settings) -> None:
    """The tenant under the current On-Behalf-Of profile (docs/mock-idp.md)."""
    changed = management.patch("/tenants/settings", {"token_exchange_profile": "current", **settings})
    assert changed["token_exchange_profile"] == "current"


def t40_not_a_custom_api_client(stack, management):
    browser = logged_in(stack)
    current_profile(management)
    management.patch("/clients/source-api", {"resource_server_identifier": None})
    return web_app_call(stack, browser)


def t41_the_source_api_speaks_the_legacy_profile(stack, management):
    browser = logged_in(stack)
    current_profile(management)  # the suite's Source API sends no requested_token_type
    return web_app_call(stack, browser)


def t44_no_delegation_allowed(stack, management):
    current_profile(management, token_exchange_delegation_depth=0)
    management.patch("/clients/source-api", {"grant_types": ["refresh_token", "client_credentials"]})
    with web_app_with_its_source_api(
        stack, management, SOURCE_API_EXCHANGE_PROFILE="current", SOURCE_API_SEND_ACTOR_TOKEN="true"
    ) as url:
        return call_at(logged_in(stack, url), url)


def t12_target_api_token_expired(stack, management):
    management.patch("/resource-servers/target-api", {"token_lifetime": 60})
    browser = requests.Session()
    with provider_clock(management, -100):  # Target API tokens expired 40 s ago; the user's live a day
        assert web_app_sign_in(stack, browser).status_code == 302
        return web_app_call(stack, browser)


def t15_target_api_token_issued_in_the_future(stack, management):
    browser = logged_in(stack)
    with provider_clock(management, 120):  # after the login: only the exchanged token is ahead
        return web_app_call(stack, browser)


def t31_target_api_down(stack, management):
    stack.controllable()
    browser = logged_in(stack)
    with stack["target-api"].fault("stopped"):
        return web_app_call(stack, browser)


def t32_identity_provider_down(stack, management):
    stack.controllable()
    browser = requests.Session()
    callback = at_the_identity_provider(stack, browser)
    with stack["mock-idp"].fault("stopped"):  # before the web app redeems the code
        return back_at_the_web_app(browser, callback)


def t47_a_stronger_login_than_the_provider_offers(stack, management):
    management.patch(
        "/resource-servers/target-api",
        {"step_up": {"scopes": ["read:contacts"], "acr_values": ["urn:mock:hardware-key"]}},
    )
    browser = logged_in(stack)
    sent = web_app_post(stack, browser, "/call", page="/call", follow=False, endpoint="contacts")
    assert sent.status_code == 302, sent.text  # the step-up: the browser logs in again
    authorization = authorize(browser, sent.headers["Location"], ALICE[0])
    assert authorization.pages == ["second_factor"]
    return browser.get(authorization.location, timeout=TIMEOUT)  # the callback, then the call once


@dataclass(frozen=True)
class Scenario:
    rule: tuple[str, str | None, str | None]  # (where, error, piece) of the rule it must meet
    make_it_happen: Callable

    @property
    def case(self) -> str:
        return next(number for *rule, number in RULES if tuple(rule) == self.rule)


SCENARIOS: dict[str, Scenario] = {
    "T20 at login": Scenario((CALLBACK, "access_denied", "Service not enabled"), t20_audience_unknown_at_login),
    "T08 consent declined": Scenario((CALLBACK, "access_denied", None), t08_consent_declined),
    "T09 prompt=none, no login": Scenario((CALLBACK, "login_required", None), t09_prompt_none_without_a_login),
    "T09 prompt=none, no consent": Scenario(
        (CALLBACK, "consent_required", None), t09_prompt_none_while_consent_is_needed
    ),
    "T04 no PKCE": Scenario((CALLBACK, "invalid_request", None), t04_no_pkce),
    "T06 at /authorize": Scenario((CALLBACK, "unauthorized_client", None), t06_authorization_code_grant_off),
    "T03 another code_challenge": Scenario((CODE_EXCHANGE, "invalid_grant", "code verifier"), t03_another_challenge),
    "T02 callback spelt otherwise": Scenario(
        (CODE_EXCHANGE, "invalid_grant", "redirect_uri"), t02_callback_spelt_otherwise
    ),
    "T05 code used twice": Scenario((CODE_EXCHANGE, "invalid_grant", None), t05_code_used_before_the_web_app),
    "T06 at code redemption": Scenario(
        (CODE_EXCHANGE, "unauthorized_client", None), t06_authorization_code_grant_off_before_the_code_is_redeemed
    ),
    "T17 code redemption": Scenario(
        (CODE_EXCHANGE, "access_denied", "Unauthorized"), t17_web_app_secret_changed_before_the_code
    ),
    "T15 ID token expired": Scenario((ID_TOKEN, "expired_token", None), t15_id_token_expired),
    "T15 ID token issued in the future": Scenario(
        (ID_TOKEN, "invalid_claim", "issued in the future"), t15_id_token_issued_in_the_future
    ),
    "T13 another nonce": Scenario((ID_TOKEN, None, None), t13_another_nonce),
    "T33 refresh token revoked": Scenario((REFRESH, "invalid_grant", None), t33_refresh_token_revoked),
    "T06 at a refresh": Scenario((REFRESH, "unauthorized_client", None), t06_refresh_token_grant_off),
    "T37 refreshed too often": Scenario((REFRESH, "too_many_requests", None), t37_refreshed_too_often),
    "T17 refresh": Scenario((REFRESH, "access_denied", "Unauthorized"), t17_web_app_secret_changed_before_a_refresh),
    "T39 login revoked": Scenario((SOURCE_API, "invalid_token", "subject_token revoked"), t39_login_revoked),
    "T12 access token expired": Scenario(
        (SOURCE_API, "invalid_token", None), t12_access_token_expired_even_after_a_refresh
    ),
    "T30 login without the scope": Scenario(
        (SOURCE_API, "insufficient_scope", None), t30_login_without_the_endpoints_scope
    ),
    "T47 a stronger login than the provider offers": Scenario(
        (SOURCE_API, "insufficient_user_authentication", None), t47_a_stronger_login_than_the_provider_offers
    ),
    "T40 not a Custom API client": Scenario(
        (EXCHANGE, "unauthorized_client", "Only a Custom API client"), t40_not_a_custom_api_client
    ),
    "T41 no requested_token_type": Scenario(
        (EXCHANGE, "invalid_request", "Missing required parameter: requested_token_type"),
        t41_the_source_api_speaks_the_legacy_profile,
    ),
    "T44 no delegation allowed": Scenario(
        (EXCHANGE, "invalid_request", "Delegation chain too deep"), t44_no_delegation_allowed
    ),
    "T16 exchange off": Scenario((EXCHANGE, "unauthorized_client", None), t16_token_exchange_off),
    "T20 at the exchange": Scenario((EXCHANGE, "access_denied", "Service not enabled"), t20_target_audience_misspelt),
    "T17 exchange": Scenario((EXCHANGE, "access_denied", "Unauthorized"), t17_source_api_secret_changed),
    "T18 no pairing": Scenario((EXCHANGE, "access_denied", None), t18_no_pairing),
    "T22 no skipping consent": Scenario((EXCHANGE, "consent_required", None), t22_no_skipping_consent),
    "T38 beyond the subject token": Scenario(
        (EXCHANGE, "invalid_scope", "not granted to the subject token"), t38_bounded_exchange_beyond_the_login
    ),
    "T38 no offline_access at login": Scenario(
        (EXCHANGE, "invalid_scope", "not granted at login"), t38_bounded_login_without_offline_access
    ),
    "T21 scope outside the pairing": Scenario((EXCHANGE, "invalid_scope", None), t21_scope_outside_the_pairing),
    "T28 exchanged too often": Scenario((EXCHANGE, "too_many_requests", None), t28_exchanged_too_often),
    "T15 Target API token issued in the future": Scenario(
        (TARGET_API, "invalid_token", "issued in the future"), t15_target_api_token_issued_in_the_future
    ),
    "T12 Target API token expired": Scenario((TARGET_API, "invalid_token", "expired"), t12_target_api_token_expired),
    "T31 Target API down": Scenario((TARGET_API, None, None), t31_target_api_down),
    "T32 identity provider down": Scenario((IDP_OUTAGE, None, None), t32_identity_provider_down),
}


def test_every_rule_that_names_a_case_has_a_scenario():
    """A rule added without a scenario, or one removed with its scenario left, fails here."""
    naming = [tuple(rule) for *rule, number in RULES if number]
    assert sorted(naming, key=str) == sorted((s.rule for s in SCENARIOS.values()), key=str)
    for name, scenario in SCENARIOS.items():
        assert name.startswith(scenario.case + " "), (name, scenario.case)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_error_page_names_the_case_and_links_to_its_entry(stack, management, tenant_as_found, scenario):
    case = SCENARIOS[scenario].case

    page = SCENARIOS[scenario].make_it_happen(stack, management)

    assert page.status_code >= 400, page.text
    assert "Traceback" not in page.text
    text = page_text(page)
    assert f"{case}: {GUIDE[case].title}" in text, text
    _, error, piece = SCENARIOS[scenario].rule  # the answer it names is that of its rule
    for shown in (error, piece):
        assert shown is None or shown in text, (shown, text)
    assert guide_links(page) == [case.lower()], guide_links(page)
