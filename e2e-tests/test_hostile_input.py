"""Generated hostile requests at every route of the four services, over HTTP to the real
processes: no answer is a 5xx, every refusal is in the format its service documents, no
answer carries a secret, and a refused change leaves the state as it was.

The routes are not listed here: route_map.py reads them from each service's Flask url map
(every rule, every method), with the names each route's code reads, so a route added
later is tested without anyone remembering to. Each example is one request: the path's
variables, the query, the form or JSON body and the headers generated (arbitrary Unicode,
control characters, non-UTF-8 bytes, lengths up to 70 kB; hostile_input.py), names taken
from the route's code, from its service's code and made up.

Most requests carry valid credentials (a Management API token, a user's token, the web
app's session and CSRF token), so the generated values reach each handler's own checks, not
only the credential check; a few routes also start from a valid request of their own (a
grant of the token endpoint, the login request), which the generated values then change.
Calls that would wipe state the suite shares when accepted (rotating or resetting the
signing keys, clearing the log, resetting the tenant, deleting consents, the operator
endpoints, the web app's logout and restore) get hostile credentials only, and the test
checks nothing changed.
"""

from __future__ import annotations

import base64
import re
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
from route_map import Route, routes
from tenant_admin import Management, tenant_state

ROUTES = routes()

# Accepted, these would wipe what the suite shares (its logins, keys, log, consents):
# they get hostile credentials only, and must refuse them.
HOSTILE_CREDENTIALS_ONLY = {
    ("mock-idp", "management.rotate_signing_key"),
    ("mock-idp", "management.reset_signing_keys"),
    ("mock-idp", "management.reset_tenant"),
    ("mock-idp", "management.delete_grant"),
    ("mock-idp", "management.delete_grants_of_user"),
    ("mock-idp", "logs.clear_logs"),
    ("source-api", "source_api.forget_login_tokens"),
    ("web-app", "auth.logout"),
    ("web-app", "panel.restore"),
}
READS = {"GET", "HEAD"}
VARIABLE = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


def _hostile_only(route: Route) -> bool:
    return (route.service, route.endpoint) in HOSTILE_CREDENTIALS_ONLY or "/operator/" in route.rule


def _kind(route: Route) -> str:
    """The format of the route's refusals (hostile_input.assert_well_formed)."""
    if route.service == "mock-idp":
        if route.rule.startswith("/api/v2/") or route.rule == "/logs/feed":
            return "management"
        return "html" if route.rule in ("/authorize", "/v2/logout", "/logs") else "oauth"
    if route.service == "web-app":
        return "oauth" if route.rule == "/healthz" or route.rule.startswith("/operator/") else "html"
    return "api"


# -- fixtures of the module: logged-in credentials, read once ------------------------------


class Credentials:
    """What a valid caller of each service holds, and the identifiers that exist."""

    def __init__(self, stack):
        self.stack = stack
        self.user = login(stack, tenant.BOB[0])  # the property tests add contacts to Bob only
        self.admin = Management(stack)
        self.target_write = self._target_write_token()
        apis = self.admin.get("/resource-servers")
        self.real_ids = {
            "client_id": [c["client_id"] for c in self.admin.get("/clients")],
            "api_id": [a["identifier"] for a in apis] + [a["id"] for a in apis if "id" in a],
            "pairing_id": [p["id"] for p in self.admin.get("/api-pairings")],
            "name": [r["name"] for r in self.admin.get("/rules")],
            "user_id": [tenant.ALICE[1], tenant.BOB[1]],
            "log_id": [e["log_id"] for e in self.admin.logs()[:3]],
            "filename": ["idp.css", "logs.js", "app.css"],
        }
        self.idp_browser = requests.Session()  # at the provider's login page, never logged in
        page = self.idp_browser.get(authorize_url(stack)[0], timeout=tenant.TIMEOUT)
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert csrf, page.text
        self.login_csrf = csrf.group(1)
        self.web = WebSession(stack)

    def _target_write_token(self) -> str:
        """Bob's Target API token with write:contacts, from a pairing that selects it for a moment."""
        self.admin.patch("/api-pairings/source-api:target-api", {"scopes": ["read:contacts", "write:contacts"]})
        try:
            response = exchange(self.stack, self.user["access_token"], scope="read:contacts write:contacts")
            assert response.status_code == 200, response.text
            return response.json()["access_token"]
        finally:
            self.admin.reset()

    def valid_authorization(self, route: Route) -> str | None:
        if route.service == "mock-idp":
            if route.rule.startswith(("/api/v2/", "/logs")):
                return self.admin.headers["Authorization"]
            return "Bearer " + self.user["access_token"] if route.rule == "/userinfo" else None
        if route.service == "source-api":
            return "Bearer " + self.user["access_token"]
        if route.service == "target-api":
            return "Bearer " + self.target_write
        return None  # the web app: its session cookie

    def contacts(self) -> list:
        url = self.stack["target-api"].url + "/api/contacts"
        answer = requests.get(url, headers={"Authorization": f"Bearer {self.target_write}"}, timeout=tenant.TIMEOUT)
        assert answer.status_code == 200, answer.text
        return answer.json()["contacts"]

    def state(self, route: Route) -> dict:
        """What a refused change of ``route`` must leave as it was."""
        if route.service in ("source-api", "target-api"):
            return {"contacts": self.contacts()}
        return {**tenant_state(self.admin), "keys": self.admin.get("/keys/signing")}


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
def credentials(stack) -> Credentials:
    return Credentials(stack)


# -- valid starts: requests that reach deep into a route, for the generated values to change


def _basic(client: dict) -> str:
    return "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()


def _grant_forms(stack, credentials: Credentials) -> list[dict]:
    """A valid request of each grant the token endpoint knows (and an unknown one)."""
    return [
        {"grant_type": "authorization_code", "code": "x" * 20, "redirect_uri": stack.callback,
         "code_verifier": "v" * 43, **tenant.WEB_APP},
        {"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token", **tenant.WEB_APP},
        {"grant_type": "client_credentials", "audience": stack.management_api + "/", **tenant.MANAGEMENT_CLIENT},
        {"grant_type": tenant.TOKEN_EXCHANGE, "subject_token": credentials.user["access_token"],
         "subject_token_type": tenant.ACCESS_TOKEN_TYPE, "audience": tenant.TARGET_API, "scope": "read:contacts",
         **tenant.SOURCE_CLIENT},
        {"grant_type": "hostile", **tenant.WEB_APP},
    ]  # fmt: skip


def _valid_start(stack, credentials: Credentials, route: Route) -> st.SearchStrategy[tuple[dict, dict]]:
    """(query, form) of a valid request of ``route`` to start from, where one is known."""
    if route.endpoint == "token.issue_token":
        return st.sampled_from(_grant_forms(stack, credentials)).map(lambda form: ({}, form))
    if route.endpoint == "token.revoke_token":
        return st.just(({}, {"token": "not-a-token", "token_type_hint": "refresh_token", **tenant.WEB_APP}))
    if route.endpoint == "authorize.authorize":
        url = authorize_url(stack)[0]
        query = {k: requests.utils.unquote(v) for k, v in re.findall(r"[?&]([^=]+)=([^&]*)", url)}
        # Never a real account's email, so no one is throttled.
        form = {"action": "login", "email": "nobody@example.com", "password": "wrong"}
        form["csrf_token"] = credentials.login_csrf
        return st.just((query, form if route.method == "POST" else {}))
    if route.endpoint == "logout.logout":
        return st.just(({"client_id": "web-app", "returnTo": stack["web-app"].url}, {}))
    if route.service == "web-app" and route.method not in READS and not _hostile_only(route):
        return st.just(({}, {"csrf_token": credentials.web.csrf}))
    return st.just(({}, {}))


# -- the generated request ----------------------------------------------------------------


def _names(route: Route) -> list[str]:
    """Names to try: those of the route's own module first, then its service's."""
    return sorted(set(route.names)) or sorted(set(route.service_names))


def _path(route: Route, real: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """The rule with each variable a real identifier or hostile bytes, percent-encoded."""
    names = VARIABLE.findall(route.rule)
    if not names:
        return st.just(route.rule)

    def fill(values):
        encoded = iter(quote(value, safe="") for value in values)
        return VARIABLE.sub(lambda _: next(encoded), route.rule)

    choices = [
        st.one_of(st.sampled_from(real[name]).map(str.encode), hostile_value) if real.get(name) else hostile_value
        for name in names
    ]
    return st.tuples(*choices).map(fill)


def _request(stack, credentials: Credentials, route: Route) -> st.SearchStrategy[Hostile]:
    names = _names(route)
    service_names = sorted(set(route.service_names))
    # Values: hostile, or names of the code used as values (a grant_type, "true", a scope).
    base = stack[route.service].url

    @st.composite
    def build(draw):
        query, form = draw(_valid_start(stack, credentials, route))
        path = draw(_path(route, credentials.real_ids))
        named = draw(st.lists(st.sampled_from(service_names), max_size=3)) if service_names else []
        params = draw(hostile_params([*names, *named], query))
        body = Body() if route.method in READS else draw(bodies([*names, *named], [*names, *named], form or None))
        headers = draw(header_sets)
        return Hostile(route.method, base + path, params, headers, body)

    return build()


def _authorization(credentials: Credentials, route: Route) -> st.SearchStrategy:
    valid = credentials.valid_authorization(route)
    if _hostile_only(route):
        return hostile_authorization
    if valid is None:
        return st.one_of(st.none(), st.none(), hostile_authorization)
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), hostile_authorization)


def _token_endpoint_authentication(request: Hostile, how: str, form: dict) -> None:
    """At the token endpoint, the client in Basic rather than in the form, at times."""
    if how == "basic" and isinstance(request.body.data, list):
        client = {k: v for k, v in form.items() if k in ("client_id", "client_secret")}
        if len(client) == 2:
            drop = {b"client_id", b"client_secret"}
            request.body = Body([p for p in request.body.data if p[0] not in drop], request.body.content_type)
            request.headers["Authorization"] = _basic(client)


def shown_anyway(stack, route: Route) -> str:
    """What the page shows anyone: the troubleshooting guide quotes the demo tenant's
    secrets in its commands, on purpose; the same secrets are not an echo there."""
    if route.rule != "/troubleshooting":
        return ""
    return requests.get(stack["web-app"].url + route.rule, timeout=tenant.TIMEOUT).text


@pytest.mark.parametrize("route", ROUTES, ids=str)
@given(data=st.data())
def test_every_route_answers_any_request(stack, credentials, tenant_as_found, route, data):
    changes = route.method not in READS
    if route.service == "web-app":
        credentials.web.ensure()
    request = data.draw(_request(stack, credentials, route))
    authorization = data.draw(_authorization(credentials, route))
    if authorization is not None:
        request.headers["Authorization"] = authorization
    elif route.endpoint == "token.issue_token":
        form = dict(p for p in request.body.data) if isinstance(request.body.data, list) else {}
        form = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in form.items()}
        _token_endpoint_authentication(request, data.draw(st.sampled_from(["form", "basic"])), form)
    session = {"web-app": credentials.web.browser, "mock-idp": credentials.idp_browser}.get(route.service)
    before = credentials.state(route) if changes else None

    response = request.send(session)

    traced = request.headers.get("X-Obo-Trace") == b"1"  # the trace shows the user's own token, by design
    echoed = [credentials.user["refresh_token"], credentials.admin.headers["Authorization"].split()[1]]
    if not (traced and route.service == "source-api"):
        echoed.append(credentials.user["access_token"])
    assert_well_formed(response, _kind(route), echoed, shown=shown_anyway(stack, route))
    if not changes:
        return
    if not 200 <= response.status_code < 300:  # refused, or sent elsewhere (a path Werkzeug tidies)
        assert credentials.state(route) == before, f"{route} refused ({response.status_code}) but changed the state"
        if route.service == "web-app":
            assert credentials.web.logged_in(), f"{route} refused but ended the session"
    else:
        assert not _hostile_only(route), f"{route} accepted hostile credentials: {response.text[:300]}"
        if route.service in ("mock-idp", "web-app"):
            credentials.admin.reset()


def test_the_routes_are_read_from_every_service():
    """The map is the services' own: the routes this suite knows are among them."""
    listed = {(r.service, r.method, r.rule) for r in ROUTES}
    assert {
        ("mock-idp", "POST", "/oauth/token"),
        ("mock-idp", "PATCH", "/api/v2/clients/<client_id>"),
        ("source-api", "GET", "/api/contacts"),
        ("target-api", "POST", "/api/contacts"),
        ("web-app", "POST", "/panel/switch"),
    } <= listed
    assert {r.service for r in ROUTES} == {"mock-idp", "target-api", "source-api", "web-app"}
    token = next(r for r in ROUTES if r.rule == "/oauth/token")
    assert {"grant_type", "subject_token", "audience"} <= set(token.service_names)
