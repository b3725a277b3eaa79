"""Generated hostile requests at every endpoint of the four services (the routes of their
Flask url maps), over HTTP to the real processes: no answer is a 5xx, every refusal is in
the format its service documents, no answer carries a secret, and a refused change leaves
the state as it was. The values and the checks: hostile_input.py; docs/security.md says
how to run more examples.

Most requests carry valid credentials (a Management API token, a user's token, the web
app's session and CSRF token), so the generated values reach each handler's own checks,
not only the credential check. Calls that would wipe shared state when accepted (rotating
or resetting the signing keys, clearing the log, the operator endpoints, the web app's
logout and restore) get hostile credentials only, and the test checks nothing changed.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote

import demo_tenant as tenant
import pytest
import requests
from backend_client import authorize_url, exchange, login
from browser_user import web_app_sign_in
from hostile_input import (
    Body,
    Hostile,
    assert_well_formed,
    bodies,
    header_sets,
    hostile_authorization,
    hostile_params,
    hostile_value,
)
from hypothesis import given
from hypothesis import strategies as st
from tenant_admin import Management, tenant_state


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {name} marks a path parameter
    params: tuple[str, ...] = ()  # known query parameter names
    fields: tuple[str, ...] = ()  # known form or JSON field names
    changes: bool = False  # a refusal must leave the tenant as it was
    credentials: str = "valid"  # or "hostile": never sent valid ones

    def __str__(self):
        return f"{self.method} {self.path}"


def _path(endpoint: Endpoint, real: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """The path with each {name} a real identifier or hostile bytes, percent-encoded."""
    names = re.findall(r"\{(\w+)\}", endpoint.path)
    if not names:
        return st.just(endpoint.path)

    def fill(values):
        path = endpoint.path
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path

    choices = [
        st.one_of(st.sampled_from(real[name]).map(str.encode), hostile_value) if real.get(name) else hostile_value
        for name in names
    ]
    return st.tuples(*choices).map(fill)


def _hostile(base: str, endpoint: Endpoint, real=None, query: dict | None = None, form: dict | None = None):
    """A request to ``endpoint``: its path, query, headers and body generated."""
    return st.builds(
        lambda path, params, headers, body: Hostile(endpoint.method, base + path, params, headers, body),
        _path(endpoint, real or {}),
        hostile_params(list(endpoint.params), query),
        header_sets,
        bodies(list(endpoint.fields), list(endpoint.fields), form) if endpoint.method != "GET" else st.just(Body()),
    )


def _with_authorization(request: Hostile, authorization: bytes | str | None) -> Hostile:
    if authorization is not None:
        request.headers["Authorization"] = authorization
    return request


# -- fixtures of the module: logged-in credentials, read once ------------------------------


@pytest.fixture(scope="module")
def user_tokens(stack) -> dict:
    """Bob's tokens for the Source API (the property tests add contacts to Bob only)."""
    return login(stack, tenant.BOB[0])


@pytest.fixture(scope="module")
def admin(stack) -> Management:
    return Management(stack)


@pytest.fixture(scope="module")
def real_ids(admin) -> dict[str, list[str]]:
    """Identifiers that exist, so generated bodies reach the handlers behind the 404s."""
    apis = admin.get("/resource-servers")
    return {
        "client_id": [c["client_id"] for c in admin.get("/clients")],
        "api_id": [a["identifier"] for a in apis] + [a["id"] for a in apis if "id" in a],
        "pairing_id": [p["id"] for p in admin.get("/api-pairings")],
        "name": [r["name"] for r in admin.get("/rules")],
        "user_id": [tenant.ALICE[1], tenant.BOB[1]],
    }


def _snapshot(admin: Management) -> dict:
    return {**tenant_state(admin), "keys": admin.get("/keys/signing")}


# -- the identity provider: OAuth endpoints -----------------------------------------------

AUTHORIZE_PARAMS = (
    "client_id", "redirect_uri", "response_type", "scope", "audience", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "max_age", "response_mode", "login_hint", "request", "resource",
)  # fmt: skip
LOGIN_FIELDS = ("action", "email", "password", "csrf_token", "decision")
GRANTS = {
    "authorization_code": ("code", "redirect_uri", "code_verifier"),
    "refresh_token": ("refresh_token", "scope"),
    "client_credentials": ("audience", "scope"),
    tenant.TOKEN_EXCHANGE: (
        "subject_token", "subject_token_type", "audience", "scope", "requested_token_type", "resource",
        "actor_token", "actor_token_type",
    ),
    "unknown": ("scope",),
}  # fmt: skip


def _grant_form(stack, grant: str, user_tokens: dict) -> tuple[dict, dict]:
    """A valid request of ``grant`` (its client's credentials apart) and the client."""
    if grant == "authorization_code":
        form = {"code": "x" * 20, "redirect_uri": stack.callback, "code_verifier": "v" * 43}
        return {"grant_type": grant, **form}, tenant.WEB_APP
    if grant == "refresh_token":
        return {"grant_type": grant, "refresh_token": "not-a-refresh-token"}, tenant.WEB_APP
    if grant == "client_credentials":
        return {"grant_type": grant, "audience": stack.management_api + "/"}, tenant.MANAGEMENT_CLIENT
    if grant == tenant.TOKEN_EXCHANGE:
        form = {
            "grant_type": grant,
            "subject_token": user_tokens["access_token"],
            "subject_token_type": tenant.ACCESS_TOKEN_TYPE,
            "audience": tenant.TARGET_API,
            "scope": "read:contacts",
        }
        return form, tenant.SOURCE_CLIENT
    return {"grant_type": "hostile"}, tenant.WEB_APP


def _basic(client: dict) -> str:
    return "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()


client_authentication = st.sampled_from(["form", "basic", "hostile basic", "form and hostile basic", "none"])


@pytest.mark.parametrize("grant", list(GRANTS))
@given(data=st.data())
def test_token_endpoint_answers_any_request_of_each_grant(stack, user_tokens, grant, data):
    form, client = _grant_form(stack, grant, user_tokens)
    how = data.draw(client_authentication)
    if how.startswith("form"):
        form = {**form, **client}
    endpoint = Endpoint("POST", "/oauth/token", fields=("grant_type", *GRANTS[grant], "client_id", "client_secret"))
    request = data.draw(_hostile(stack.issuer[:-1], endpoint, form=form))
    if how == "basic":
        request.headers["Authorization"] = _basic(client)
    elif "hostile" in how:
        request.headers["Authorization"] = data.draw(hostile_authorization)
    assert_well_formed(request.send(), "oauth", [user_tokens["refresh_token"]])


@given(data=st.data())
def test_revocation_endpoint_answers_any_request(stack, user_tokens, data):
    endpoint = Endpoint("POST", "/oauth/revoke", fields=("token", "token_type_hint", "client_id", "client_secret"))
    form = {"token": "not-a-token", "token_type_hint": "refresh_token", **tenant.WEB_APP}
    request = data.draw(_hostile(stack.issuer[:-1], endpoint, form=form))
    if data.draw(st.booleans()):
        request.headers["Authorization"] = data.draw(hostile_authorization)
    assert_well_formed(request.send(), "oauth", [user_tokens["refresh_token"]])


@pytest.fixture(scope="module")
def idp_browser() -> requests.Session:
    """A browser at the identity provider's login page, never logged in."""
    return requests.Session()


@pytest.fixture(scope="module")
def login_csrf(stack, idp_browser) -> str:
    page = idp_browser.get(authorize_url(stack)[0], timeout=tenant.TIMEOUT)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert csrf, page.text
    return csrf.group(1)


@pytest.mark.parametrize("method", ["GET", "POST"])
@given(data=st.data())
def test_authorize_answers_any_request(stack, idp_browser, login_csrf, method, data):
    """The login request, and the login form posted with hostile fields (never a real
    account's email, so no one is throttled): a page, a redirect, or an error page."""
    url, _, _ = authorize_url(stack)
    valid = dict(re.findall(r"[?&]([^=]+)=([^&]*)", url))
    valid = {k: requests.utils.unquote(v) for k, v in valid.items()}
    endpoint = Endpoint(method, "/authorize", AUTHORIZE_PARAMS, LOGIN_FIELDS)
    form = {"action": "login", "email": "nobody@example.com", "password": "wrong", "csrf_token": login_csrf}
    form = form if method == "POST" else None
    request = data.draw(_hostile(stack.issuer[:-1], endpoint, query=valid, form=form))
    assert_well_formed(request.send(idp_browser), "html")


@pytest.mark.parametrize("method", ["GET", "POST"])
@given(data=st.data())
def test_userinfo_answers_any_request(stack, user_tokens, method, data):
    endpoint = Endpoint(method, "/userinfo", ("access_token", "schema"), ("access_token",))
    request = data.draw(_hostile(stack.issuer[:-1], endpoint))
    valid = "Bearer " + user_tokens["access_token"]
    request = _with_authorization(request, data.draw(st.one_of(st.just(valid), hostile_authorization)))
    assert_well_formed(request.send(), "oauth", [user_tokens["access_token"], user_tokens["refresh_token"]])


LOG_FILTERS = ("type", "client_id", "user_id", "audience", "from", "to")
OPEN_IDP_ENDPOINTS = [
    Endpoint("GET", "/v2/logout", ("client_id", "returnTo", "id_token_hint", "federated", "state")),
    Endpoint("POST", "/v2/logout", fields=("csrf_token", "client_id", "return_to", "state", "decision")),
    Endpoint("GET", "/.well-known/openid-configuration"),
    Endpoint("GET", "/.well-known/jwks.json"),
    Endpoint("GET", "/healthz"),
    Endpoint("GET", "/logs", (*LOG_FILTERS, "page", "per_page", "management")),
    Endpoint("GET", "/logs/feed", (*LOG_FILTERS, "per_page", "management", "after")),
]
_OPEN_KIND = {"/v2/logout": "html", "/logs": "html", "/logs/feed": "management"}


@pytest.mark.parametrize("endpoint", OPEN_IDP_ENDPOINTS, ids=str)
@given(data=st.data())
def test_open_identity_provider_endpoints_answer_any_request(stack, endpoint, data):
    query = {"client_id": "web-app", "returnTo": stack["web-app"].url} if endpoint.path == "/v2/logout" else None
    request = data.draw(_hostile(stack.issuer[:-1], endpoint, query=query))
    kind = _OPEN_KIND.get(endpoint.path, "oauth")
    assert_well_formed(request.send(), kind)


# -- the identity provider: the Management API --------------------------------------------

CLIENT_FIELDS = (
    "name", "client_secret", "app_type", "is_first_party", "token_endpoint_auth_method", "callbacks",
    "allowed_logout_urls", "grant_types", "refresh_token",
)  # fmt: skip
API_FIELDS = (
    "name", "scopes", "token_lifetime", "allow_offline_access", "skip_consent_for_verifiable_first_party_clients",
    "token_exchange",
)  # fmt: skip
SETTINGS_FIELDS = ("friendly_name", "default_audience", "rate_limits", "clock_skew", "token_exchange_policy")
LOG_PARAMS = ("type", "client_id", "user_id", "audience", "from", "to", "page", "per_page", "include_totals")

MANAGEMENT_ENDPOINTS = [
    Endpoint("GET", "/clients"),
    Endpoint("GET", "/clients/{client_id}"),
    Endpoint("PATCH", "/clients/{client_id}", fields=CLIENT_FIELDS, changes=True),
    Endpoint("GET", "/resource-servers"),
    Endpoint("GET", "/resource-servers/{api_id}"),
    Endpoint("PATCH", "/resource-servers/{api_id}", fields=API_FIELDS, changes=True),
    Endpoint("GET", "/api-pairings"),
    Endpoint("POST", "/api-pairings", fields=("source", "target", "scopes"), changes=True),
    Endpoint("PATCH", "/api-pairings/{pairing_id}", fields=("scopes",), changes=True),
    Endpoint("DELETE", "/api-pairings/{pairing_id}", changes=True),
    Endpoint("GET", "/tenants/settings"),
    Endpoint("PATCH", "/tenants/settings", fields=SETTINGS_FIELDS, changes=True),
    Endpoint("POST", "/tenants/settings/reset", changes=True, credentials="hostile"),
    Endpoint("GET", "/rules"),
    Endpoint("PATCH", "/rules/{name}", fields=("enabled", "order"), changes=True),
    Endpoint("GET", "/grants", ("user_id", "client_id", "audience")),
    Endpoint("DELETE", "/grants", ("user_id",), changes=True, credentials="hostile"),
    Endpoint("DELETE", "/grants/{grant_id}", changes=True, credentials="hostile"),
    Endpoint("DELETE", "/user-blocks", ("identifier", "all"), changes=True),
    Endpoint("DELETE", "/user-blocks/{user_id}", changes=True),
    Endpoint("GET", "/keys/signing"),
    Endpoint("POST", "/keys/signing/rotate", changes=True, credentials="hostile"),
    Endpoint("POST", "/keys/signing/reset", changes=True, credentials="hostile"),
    Endpoint("GET", "/logs", LOG_PARAMS),
    Endpoint("GET", "/logs/{log_id}"),
    Endpoint("DELETE", "/logs", changes=True, credentials="hostile"),
]


@pytest.mark.parametrize("endpoint", MANAGEMENT_ENDPOINTS, ids=str)
@given(data=st.data())
def test_management_api_answers_any_request(stack, admin, real_ids, tenant_as_found, endpoint, data):
    """Mostly with a valid token, so the handler's own validation answers; a refused
    change leaves the tenant and the keys exactly as they were; an accepted one (a valid
    rename, say) is undone before the next example."""
    request = data.draw(_hostile(stack.management_api, endpoint, real_ids))
    valid = admin.headers["Authorization"]
    if endpoint.credentials == "hostile":
        authorization = data.draw(hostile_authorization)
    else:
        authorization = data.draw(st.one_of(st.just(valid), st.just(valid), st.just(valid), hostile_authorization))
    request = _with_authorization(request, authorization)
    before = _snapshot(admin) if endpoint.changes else None
    response = request.send()
    assert_well_formed(response, "management", [valid.split()[1]])
    if not endpoint.changes:
        return
    if response.status_code >= 400:
        assert _snapshot(admin) == before, f"{endpoint} refused ({response.status_code}) but changed the tenant"
    else:
        assert endpoint.credentials == "valid", f"{endpoint} accepted hostile credentials: {response.text[:300]}"
        admin.reset()


# -- the two APIs -------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "email")


@pytest.fixture(scope="module")
def target_write_token(stack, user_tokens) -> str:
    """Bob's Target API token with write:contacts, from a pairing that selects it for a moment."""
    admin = Management(stack)
    admin.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
    try:
        response = exchange(stack, user_tokens["access_token"], scope="read:contacts write:contacts")
        assert response.status_code == 200, response.text
        return response.json()["access_token"]
    finally:
        admin.reset()


def _contacts(stack, token: str) -> list:
    url, headers = stack["target-api"].url + "/api/contacts", {"Authorization": f"Bearer {token}"}
    response = requests.get(url, headers=headers, timeout=tenant.TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["contacts"]


API_ENDPOINTS = [
    ("target-api", Endpoint("GET", "/api/contacts")),
    ("target-api", Endpoint("POST", "/api/contacts", fields=CONTACT_FIELDS, changes=True)),
    ("target-api", Endpoint("GET", "/healthz")),
    ("source-api", Endpoint("GET", "/api/me")),
    ("source-api", Endpoint("GET", "/api/contacts")),
    ("source-api", Endpoint("POST", "/api/contacts", fields=CONTACT_FIELDS, changes=True)),
    ("source-api", Endpoint("GET", "/healthz")),
    ("source-api", Endpoint("DELETE", "/api/login-tokens", credentials="hostile")),
    ("source-api", Endpoint("DELETE", "/operator/target-token-cache", credentials="hostile")),
]


@pytest.mark.parametrize(("service", "endpoint"), API_ENDPOINTS, ids=lambda v: str(v))
@given(data=st.data())
def test_apis_answer_any_request(stack, user_tokens, target_write_token, service, endpoint, data):
    """Mostly with the user's valid token (the Target API's own for its write endpoint);
    a refused new contact adds none."""
    token = target_write_token if service == "target-api" else user_tokens["access_token"]
    request = data.draw(_hostile(stack[service].url, endpoint))
    valid = "Bearer " + token
    if endpoint.credentials == "hostile":
        authorization = data.draw(hostile_authorization)
    else:
        authorization = data.draw(st.one_of(st.just(valid), st.just(valid), hostile_authorization))
    request = _with_authorization(request, authorization)
    before = _contacts(stack, target_write_token) if endpoint.changes else None
    response = request.send()
    traced = request.headers.get("X-Obo-Trace") == b"1"  # the trace shows the user's own token, by design
    assert_well_formed(response, "api", [] if traced else [token, user_tokens["refresh_token"]])
    if endpoint.changes and response.status_code >= 400:
        assert _contacts(stack, target_write_token) == before, f"{endpoint} refused but added a contact"


# -- the web app --------------------------------------------------------------------------


class WebSession:
    """A browser logged in to the web app as Bob, and the CSRF token of its forms. An
    accepted request may end the login (``/login`` starts a new one, a refused refresh
    logs out): ``ensure`` logs in again when it has ended."""

    def __init__(self, stack):
        self.stack = stack
        self.sign_in()

    def sign_in(self) -> None:
        self.browser = requests.Session()
        assert web_app_sign_in(self.stack, self.browser, tenant.BOB[0]).status_code == 302
        home = self.browser.get(self.stack["web-app"].url + "/", timeout=tenant.TIMEOUT)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert csrf, home.text
        self.csrf = csrf.group(1)

    def logged_in(self) -> bool:
        url = self.stack["web-app"].url + "/profile"
        return self.browser.get(url, allow_redirects=False, timeout=tenant.TIMEOUT).status_code == 200

    def ensure(self) -> None:
        if not self.logged_in():
            self.sign_in()


@pytest.fixture(scope="module")
def web_session(stack) -> WebSession:
    return WebSession(stack)


WEB_APP_PAGES = [
    Endpoint("GET", "/"),
    Endpoint("GET", "/profile"),
    Endpoint("GET", "/call"),
    Endpoint("GET", "/inspector", ("hop", "step", "request_id")),
    Endpoint("GET", "/panel", ("switch", "changed")),
    Endpoint("GET", "/troubleshooting", ("case", "q")),
    Endpoint("GET", "/login", ("prompt", "next")),
    Endpoint("GET", "/callback", ("state", "code", "error", "error_description", "iss")),
    Endpoint("GET", "/healthz"),
    Endpoint("POST", "/call", fields=("csrf_token", "endpoint")),
    Endpoint("POST", "/refresh", fields=("csrf_token",)),
    Endpoint("POST", "/panel/call", fields=("csrf_token",)),
    Endpoint("POST", "/panel/switch", fields=("csrf_token", "switch", "action"), changes=True),
    Endpoint("POST", "/panel/restore", fields=("csrf_token",), changes=True, credentials="hostile"),
    Endpoint("POST", "/logout", fields=("csrf_token",), changes=True, credentials="hostile"),
    Endpoint("DELETE", "/operator/sessions", changes=True, credentials="hostile"),
]


def shown_anyway(stack, endpoint: Endpoint) -> str:
    """What the page shows anyone: the troubleshooting guide quotes the demo tenant's
    secrets in its commands, on purpose; the same secrets are not an echo there."""
    if endpoint.path != "/troubleshooting":
        return ""
    return requests.get(stack["web-app"].url + endpoint.path, timeout=tenant.TIMEOUT).text


@pytest.mark.parametrize("endpoint", WEB_APP_PAGES, ids=str)
@given(data=st.data())
def test_web_app_answers_any_request(stack, admin, web_session, tenant_as_found, endpoint, data):
    """In Bob's session; forms mostly with its valid CSRF token, so the form's own checks
    answer. Logout, restore and the operator's end of sessions get a hostile token only:
    refused, Bob is still logged in and the tenant is as it was."""
    if endpoint.changes:
        web_session.ensure()
    form = {"csrf_token": web_session.csrf} if endpoint.method == "POST" and endpoint.credentials == "valid" else None
    request = data.draw(_hostile(stack["web-app"].url, endpoint, form=form))
    if endpoint.path.startswith("/operator/"):
        request = _with_authorization(request, data.draw(hostile_authorization))
    before = _snapshot(admin) if endpoint.changes else None
    response = request.send(web_session.browser)
    kind = "oauth" if endpoint.path in ("/healthz", "/operator/sessions") else "html"
    assert_well_formed(response, kind, shown=shown_anyway(stack, endpoint))
    if endpoint.changes and response.status_code >= 400:
        assert _snapshot(admin) == before, f"{endpoint} refused but changed the tenant"
        assert web_session.logged_in(), f"{endpoint} refused but ended the session"
    elif endpoint.changes:
        assert endpoint.credentials == "valid", f"{endpoint} accepted without credentials: {response.status_code}"
        admin.reset()
