"""What the end-to-end tests do over HTTP: a person's browser at the login and consent
pages, a back end at the token endpoint, a relying party checking tokens with the JWKS,
an operator at the Management API."""

from __future__ import annotations

import demo_login  # scripts/, on the path from conftest
import requests
from demo_login import Authorization, Form, page_form, query_of  # noqa: F401  (the tests import them from here)
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


def authorize(browser: requests.Session, url: str, email: str, password: str = PASSWORD) -> Authorization:
    """Open an authorization URL and log in and consent as a person would (scripts/demo_login.py)."""
    return demo_login.authorize(browser, url, email, password)


# -- the back end ----------------------------------------------------------------------


def post_token(issuer: str, **form) -> requests.Response:
    # requests.post opens a new TCP connection each time, so any worker may answer.
    return requests.post(issuer + "oauth/token", data=form, timeout=TIMEOUT)


def authorize_url(issuer: str, **changes) -> tuple[str, str, str]:
    """The web app's login request, as the tutorial's step 1 sends it.

    ``changes`` add or replace parameters; a None value leaves one out. Returns the URL,
    the PKCE verifier and the state.
    """
    params = {"client_id": WEB_APP["client_id"], "redirect_uri": CALLBACK, "scope": LOGIN_SCOPE, "audience": SOURCE_API}
    login = demo_login.authorization_request(issuer, {**params, **changes})
    return login.url, login.verifier, login.state


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
