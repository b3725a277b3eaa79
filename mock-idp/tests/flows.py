"""The tutorial's requests, driven through the Flask test client, for the unit tests."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

ISSUER = "http://localhost:9000/"
CALLBACK = "http://localhost:3000/callback"
SOURCE_API = "https://source-api.example.com"
TARGET_API = "https://target-api.example.com"
WEB_APP = {"client_id": "web-app", "client_secret": "web-app-secret"}
SOURCE_CLIENT = {"client_id": "source-api", "client_secret": "source-api-secret"}
ALICE = "alice@example.com"
ALICE_ID = "auth0|65f1a2b3c4d5e6f708091a01"
PASSWORD = "Passw0rd!"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
LOGIN_SCOPE = "openid profile email offline_access read:profile read:contacts"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Flows:
    def __init__(self, app):
        self.app = app
        self.browser = app.test_client()
        self.backend = app.test_client()

    # -- step 1 ---------------------------------------------------------------------

    def authorize_params(self, **overrides) -> tuple[dict, str]:
        verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "client_id": "web-app",
            "redirect_uri": CALLBACK,
            "scope": LOGIN_SCOPE,
            "audience": SOURCE_API,
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}, verifier

    def log_in(self, params: dict, email: str = ALICE, password: str = PASSWORD):
        page = self.browser.get("/authorize", query_string=params)
        assert page.status_code == 200, page.text
        assert "Log in" in page.text, page.text
        return self.browser.post(
            page.request.full_path,
            data={
                "action": "login",
                "email": email,
                "password": password,
                "csrf_token": csrf_token(page.text),
            },
        )

    def consent(self, page, decision: str = "accept"):
        return self.browser.post(
            page.request.full_path,
            data={"action": "consent", "decision": decision, "csrf_token": csrf_token(page.text)},
        )

    def authorization_code(self, email: str = ALICE, **overrides) -> tuple[str, str, dict]:
        """Log alice (or ``email``) in and accept consent; returns (code, code_verifier, params)."""
        params, verifier = self.authorize_params(**overrides)
        response = self.browser.get("/authorize", query_string=params)
        if "Log in" in response.text:
            response = self.log_in(params, email=email)
            assert response.status_code == 302, response.text
            response = self.browser.get(response.location)
        if response.status_code == 200 and "Authorize" in response.text:
            response = self.consent(response)
        assert response.status_code == 302, response.text
        assert response.location.startswith(params["redirect_uri"])
        returned = query_of(response.location)
        assert returned.get("state") == params["state"]
        assert "code" in returned, returned
        return returned["code"], verifier, params

    def redeem(self, code, verifier, redirect_uri=CALLBACK, client=WEB_APP, **extra):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **client}
        if verifier is not None:
            data["code_verifier"] = verifier
        data.update(extra)
        return self.backend.post("/oauth/token", data=data)

    def login_tokens(self, email: str = ALICE, **overrides) -> dict:
        code, verifier, _ = self.authorization_code(email, **overrides)
        response = self.redeem(code, verifier)
        assert response.status_code == 200, response.json
        return response.json

    # -- logout ---------------------------------------------------------------------

    def log_out(self, **query):
        """GET /v2/logout as a person would: confirm when asked. Returns the last answer."""
        response = self.browser.get("/v2/logout", query_string=query)
        if response.status_code == 200 and "Log out of" in response.text:
            response = self.confirm_logout(response)
        return response

    def confirm_logout(self, page, decision: str = "logout", csrf: bool = True):
        """Press a button of the logout confirmation ``page`` (``logout`` or ``cancel``)."""
        hidden = re.findall(r'name="(client_id|return_to|state)" type="hidden" value="([^"]*)"', page.text)
        fields = {name: html.unescape(value) for name, value in hidden}
        data = {**fields, "decision": decision}
        if csrf:
            data["csrf_token"] = csrf_token(page.text)
        return self.browser.post("/v2/logout", data=data)

    # -- step 3 ---------------------------------------------------------------------

    def exchange(self, subject_token, client=SOURCE_CLIENT, **overrides):
        data = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": TARGET_API,
            "scope": "read:contacts",
            **client,
        }
        data.update(overrides)
        return self.backend.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})

    # -- step 5 ---------------------------------------------------------------------

    def refresh(self, refresh_token, client=WEB_APP, headers=None, **extra):
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **client, **extra}
        return self.backend.post("/oauth/token", data=data, headers=headers)

    # -- checking -------------------------------------------------------------------

    def claims(self, token: str, typ: str = "at+jwt") -> dict:
        """Verify a token against the published JWKS, as any relying party would."""
        keys = KeySet.import_key_set(self.browser.get("/.well-known/jwks.json").json)
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
        assert decoded.header["typ"] == typ
        assert decoded.header["kid"] in {k.kid for k in keys.keys}
        return decoded.claims

    def logs(self, type: str | None = None, **filters) -> list[dict]:
        storage = self.app.extensions["mock_idp"].storage
        return storage.logs(types=(type,) if type else (), **filters)[0]

    def last_log(self) -> dict:
        return self.logs(limit=1)[0]


class Management:
    """The Management API, called with a client_credentials token as a program would."""

    def __init__(self, flows: Flows, scope: str | None = None):
        self.client = flows.backend
        data = {
            "grant_type": "client_credentials",
            "client_id": "management",
            "client_secret": "management-secret",
            "audience": ISSUER + "api/v2/",
        }
        if scope:
            data["scope"] = scope
        response = self.client.post("/oauth/token", data=data)
        assert response.status_code == 200, response.json
        self.headers = {"Authorization": f"Bearer {response.json['access_token']}"}

    def get(self, path, **params):
        return self.client.get("/api/v2" + path, headers=self.headers, query_string=params)

    def patch(self, path, body):
        return self.client.patch("/api/v2" + path, headers=self.headers, json=body)

    def post(self, path, body=None):
        return self.client.post("/api/v2" + path, headers=self.headers, json=body if body is not None else {})

    def delete(self, path):
        return self.client.delete("/api/v2" + path, headers=self.headers)
