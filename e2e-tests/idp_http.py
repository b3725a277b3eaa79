"""What the end-to-end tests do over HTTP: a person's browser at the login and consent
pages, a back end at the token endpoint, a relying party checking tokens with the JWKS,
an operator at the Management API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

# The web app's callback as the tenant lists it; conftest sets it to the running web app's.
CALLBACK = "http://localhost:3000/callback"
SOURCE_API = "https://source-api.example.com"
TARGET_API = "https://target-api.example.com"
LOGIN_SCOPE = "openid profile email offline_access read:profile read:contacts"
PASSWORD = "Passw0rd!"
ALICE = ("alice@example.com", "auth0|65f1a2b3c4d5e6f708091a01")
BOB = ("bob@example.com", "auth0|65f1a2b3c4d5e6f708091a02")
WEB_APP = {"client_id": "web-app", "client_secret": "web-app-secret"}
SOURCE_CLIENT = {"client_id": "source-api", "client_secret": "source-api-secret"}
MANAGEMENT_CLIENT = {"client_id": "management", "client_secret": "management-secret"}
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TIMEOUT = 10


# -- the browser ---------------------------------------------------------------------


@dataclass
class Form:
    action: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append(Form(action=attrs.get("action") or ""))
        elif self.forms and attrs.get("name") and tag == "input":
            self.forms[-1].inputs[attrs["name"]] = attrs.get("value") or ""
        elif self.forms and attrs.get("name") and tag == "button":
            self.forms[-1].buttons.setdefault(attrs["name"], []).append(attrs.get("value") or "")


def page_form(page: requests.Response) -> Form:
    """The one POST form of an identity provider page, its action made absolute."""
    parser = _FormParser()
    parser.feed(page.text)
    assert len(parser.forms) == 1, f"expected one form on {page.url}:\n{page.text}"
    form = parser.forms[0]
    form.action = urljoin(page.url, form.action)
    return form


@dataclass
class Authorization:
    location: str  # where the identity provider finally sent the browser
    pages: list[str]  # the pages the person was shown: "login", "consent"

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.location)


def authorize(browser: requests.Session, url: str, email: str, password: str = PASSWORD) -> Authorization:
    """Open an authorization URL and do what a person would: log in, accept consent.

    Redirects inside the identity provider are followed; the one leaving it (back to the
    application's callback, which is not running) is returned unfollowed.
    """
    pages: list[str] = []
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(8):  # login, consent and the redirects between them; more is a loop
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if urlsplit(target)[:2] != urlsplit(response.url)[:2]:
                return Authorization(target, pages)
            response = browser.get(target, allow_redirects=False, timeout=TIMEOUT)
            continue
        assert response.status_code == 200, f"{response.status_code} on {response.url}:\n{response.text}"
        form = page_form(response)
        # The hidden "action" input tells the two pages apart, as it tells the server.
        page = form.inputs.get("action")
        if page == "login":
            data = {**form.inputs, "email": email, "password": password}
        elif page == "consent":
            assert "accept" in form.buttons.get("decision", []), form
            data = {**form.inputs, "decision": "accept"}
        else:
            raise AssertionError(f"unexpected page at {response.url}:\n{response.text}")
        pages.append(page)
        response = browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError(f"the authorization did not end; pages shown: {pages}")


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


# -- the back end ----------------------------------------------------------------------


def post_token(issuer: str, **form) -> requests.Response:
    # requests.post opens a new TCP connection each time, so any worker may answer.
    return requests.post(issuer + "oauth/token", data=form, timeout=TIMEOUT)


def authorize_url(issuer: str, **changes) -> tuple[str, str, str]:
    """The web app's login request, as the tutorial's step 1 sends it.

    ``changes`` add or replace parameters; a None value leaves one out. Returns the URL,
    the PKCE verifier and the state.
    """
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": WEB_APP["client_id"],
        "redirect_uri": CALLBACK,
        "scope": LOGIN_SCOPE,
        "audience": SOURCE_API,
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        **changes,
    }
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{issuer}authorize?{query}", verifier, state


def login_tokens(issuer: str, browser: requests.Session, email: str, **extra) -> tuple[dict, Authorization]:
    """Log a user in to the web app for the Source API and redeem the code; no client library."""
    url, verifier, state = authorize_url(issuer, **extra)
    authorization = authorize(browser, url, email)
    assert authorization.location.startswith(CALLBACK + "?"), authorization
    assert authorization.params["state"] == state
    response = post_token(
        issuer,
        grant_type="authorization_code",
        code=authorization.params["code"],
        redirect_uri=CALLBACK,
        code_verifier=verifier,
        **WEB_APP,
    )
    assert response.status_code == 200, response.text
    return response.json(), authorization


def refresh(issuer: str, refresh_token: str, client: dict = WEB_APP) -> requests.Response:
    return post_token(issuer, grant_type="refresh_token", refresh_token=refresh_token, **client)


def exchange(issuer: str, subject_token: str, scope: str = "read:contacts") -> requests.Response:
    """The Source API's token exchange for a Target API token, as its own client."""
    return post_token(
        issuer,
        grant_type=TOKEN_EXCHANGE,
        subject_token=subject_token,
        subject_token_type=ACCESS_TOKEN_TYPE,
        audience=TARGET_API,
        scope=scope,
        **SOURCE_CLIENT,
    )


def assert_invalid_grant(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_grant"


# -- the relying party -------------------------------------------------------------------


def fetch_jwks(jwks_uri: str) -> KeySet:
    response = requests.get(jwks_uri, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return KeySet.import_key_set(response.json())


def verify(token: str, keys: KeySet, typ: str) -> jwt.Token:
    """Verify a token as a relying party would: RS256 with a published key, unexpired."""
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["typ"] == typ
    jwt.JWTClaimsRegistry(exp={"essential": True}, iat={"essential": True}).validate(decoded.claims)
    return decoded


# -- the operator ------------------------------------------------------------------------


class Management:
    """The Management API as a program calls it: a client_credentials token, JSON bodies.

    Each call is a new TCP connection (``requests.request``), so any worker may answer it.
    """

    def __init__(self, issuer: str):
        self.url = issuer + "api/v2"
        response = post_token(issuer, grant_type="client_credentials", audience=issuer + "api/v2/", **MANAGEMENT_CLIENT)
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method: str, path: str, body=None, **params) -> requests.Response:
        return requests.request(
            method, self.url + path, headers=self.headers, json=body, params=params, timeout=TIMEOUT
        )

    def get(self, path: str, **params):
        """The JSON answer of a GET that must succeed."""
        response = self.call("GET", path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def patch(self, path: str, body: dict):
        """The JSON answer of a PATCH that must succeed."""
        response = self.call("PATCH", path, body)
        assert response.status_code == 200, response.text
        return response.json()

    def reset(self) -> None:
        """Put the tenant back to its file's settings."""
        response = self.call("POST", "/tenants/settings/reset")
        assert response.status_code == 200, response.text

    def logs(self, **filters) -> list[dict]:
        """Every tenant log entry matching ``filters``, newest first, read page by page."""
        entries: list[dict] = []
        page = 0
        while True:
            body = self.get("/logs", page=page, per_page=100, include_totals="true", **filters)
            entries += body["logs"]
            if not body["logs"] or len(entries) >= body["total"]:
                return entries
            page += 1


def tenant_state(management: Management) -> dict:
    """Everything the Management API can change in the tenant, as it reads it."""
    paths = ("/clients", "/resource-servers", "/api-pairings", "/tenants/settings", "/rules")
    return {path: management.get(path) for path in paths}
