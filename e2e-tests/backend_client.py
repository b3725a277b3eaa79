"""A back end talking OAuth over HTTP, with no client library: the web app's login
request and code redemption, the Source API's token exchange, refreshes, calls to the
two APIs with a Bearer token, and checking tokens against the published keys as a
relying party does.

Every request opens a new TCP connection (``requests.post``/``requests.request``), so any
worker of a service may answer it. ``stack`` is anything with the stack's URLs
(stack_urls.StackUrls).
"""

from __future__ import annotations

import demo_tenant as tenant
import requests
from browser_user import Authorization, authorize
from demo_tenant import TIMEOUT
from joserfc import jwt
from joserfc.jwk import KeySet
from stack_urls import StackUrls

from workshop import demo_login

# -- the token endpoint ----------------------------------------------------------------


def post_token(stack: StackUrls, *, headers: dict[str, str] | None = None, **form) -> requests.Response:
    """A token request with ``form``; a None value leaves that parameter out."""
    data = {name: value for name, value in form.items() if value is not None}
    return requests.post(stack.token_endpoint, data=data, headers=headers, timeout=TIMEOUT)


def authorize_url(stack: StackUrls, **changes) -> tuple[str, str, str]:
    """The web app's login request, as the tutorial's step 1 sends it.

    ``changes`` add or replace parameters; a None value leaves one out. Returns the URL,
    the PKCE verifier and the state.
    """
    params = {
        "client_id": tenant.WEB_APP["client_id"],
        "redirect_uri": stack.callback,
        "scope": tenant.LOGIN_SCOPE,
        "audience": tenant.SOURCE_API,
    }
    login_request = demo_login.authorization_request(stack.issuer, {**params, **changes})
    return login_request.url, login_request.verifier, login_request.state


def redeem_code(stack: StackUrls, code: str, verifier: str | None, **changes) -> requests.Response:
    """The web app's token request for a code; ``changes`` replace (None: drop) its parameters."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": stack.callback,
        "code_verifier": verifier,
        **tenant.WEB_APP,
    }
    return post_token(stack, **{**form, **changes})


def login_tokens(stack: StackUrls, browser: requests.Session, email: str, **extra) -> tuple[dict, Authorization]:
    """Log a user in to the web app for the Source API and redeem the code; no client library."""
    url, verifier, state = authorize_url(stack, **extra)
    authorization = authorize(browser, url, email)
    assert authorization.location.startswith(stack.callback + "?"), authorization
    assert authorization.params["state"] == state
    response = redeem_code(stack, authorization.params["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json(), authorization


def login(stack: StackUrls, email: str = tenant.ALICE[0], **extra) -> dict:
    """Step 1 for a user: tokens for the Source API, from the real login form."""
    tokens, _ = login_tokens(stack, requests.Session(), email, **extra)
    return tokens


def refresh(
    stack: StackUrls,
    refresh_token: str,
    client: dict = tenant.WEB_APP,
    headers: dict[str, str] | None = None,
    **changes,
) -> requests.Response:
    """A refresh by ``client``; ``changes`` add or replace (None: drop) parameters, e.g. ``scope``."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **client}
    return post_token(stack, headers=headers, **{**form, **changes})


def failed_refresh(stack: StackUrls, request_id: str) -> None:
    """A refresh with an unknown token: a fertft entry carrying ``request_id``."""
    response = refresh(stack, "no-such-token", headers={"X-Request-Id": request_id})
    assert response.status_code in (400, 403), response.text


def exchange(stack: StackUrls, subject_token: str, scope: str | None = "read:contacts", **changes) -> requests.Response:
    """The Source API's token exchange for a Target API token, as its own client;
    ``changes`` add or replace (None: drop) parameters of the form."""
    form = {
        "grant_type": tenant.TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": tenant.ACCESS_TOKEN_TYPE,
        "audience": tenant.TARGET_API,
        "scope": scope,
        **tenant.SOURCE_CLIENT,
    }
    return post_token(stack, **{**form, **changes})


# -- the two APIs ------------------------------------------------------------------------


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def call_api(url: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    """A call to an API's ``url`` with ``token`` as its Bearer token (None: no Authorization)."""
    headers = {**bearer(token), **kwargs.pop("headers", {})}
    return requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)


def call_source(stack: StackUrls, path: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    """A call to the Source API, as the web app would make it."""
    return call_api(stack["source-api"].url + path, token, method, **kwargs)


def call_target(stack: StackUrls, path: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    return call_api(stack["target-api"].url + path, token, method, **kwargs)


def assert_flow_works(stack: StackUrls, email: str = tenant.ALICE[0]) -> dict:
    """Log in and get the user's contacts through the Source API: the tutorial works."""
    tokens = login(stack, email)
    response = call_source(stack, "/api/contacts", tokens["access_token"])
    assert response.status_code == 200, response.text
    return response.json()


# -- the relying party -------------------------------------------------------------------


def fetch_jwks(jwks_uri: str) -> KeySet:
    response = requests.get(jwks_uri, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return KeySet.import_key_set(response.json())


def signing_keys(stack: StackUrls) -> KeySet:
    """The identity provider's published keys (its JWKS), as a relying party fetches them."""
    return fetch_jwks(stack.jwks_uri)


def verify(token: str, keys: KeySet, typ: str) -> jwt.Token:
    """Verify a token as a relying party would: RS256 with a published key, unexpired."""
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["typ"] == typ
    jwt.JWTClaimsRegistry(exp={"essential": True}, iat={"essential": True}).validate(decoded.claims)
    return decoded
