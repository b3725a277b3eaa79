"""The tutorial's steps over HTTP against the running stack: log in (step 1), call the
Source API (step 2, which exchanges and calls the Target API: steps 3 and 4), call the
Target API directly, and read what the identity provider logged."""

from __future__ import annotations

import requests
from idp_http import ALICE, TIMEOUT, WEB_APP, Management, login_tokens


def login(stack, email: str = ALICE[0], **extra) -> dict:
    """Step 1 for a user: tokens for the Source API, from the real login form."""
    tokens, _ = login_tokens(stack.issuer, requests.Session(), email, **extra)
    return tokens


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def call_source(stack, path: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    """A call to the Source API on a new connection, as the web app would make it."""
    headers = {**bearer(token), **kwargs.pop("headers", {})}
    return requests.request(method, stack["source-api"].url + path, headers=headers, timeout=TIMEOUT, **kwargs)


def call_target(stack, path: str, token: str | None, method: str = "GET", **kwargs) -> requests.Response:
    headers = {**bearer(token), **kwargs.pop("headers", {})}
    return requests.request(method, stack["target-api"].url + path, headers=headers, timeout=TIMEOUT, **kwargs)


def newest_log(stack, **filters) -> dict | None:
    """The newest tenant log entry matching ``filters`` (e.g. type=..., user_id=...)."""
    entries = Management(stack.issuer).get("/logs", per_page=1, **filters)
    return entries[0] if entries else None


def failed_refresh(stack, request_id: str) -> None:
    """A refresh with an unknown token: a fertft entry carrying ``request_id``."""
    response = requests.post(
        stack.issuer + "oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "no-such-token", **WEB_APP},
        headers={"X-Request-Id": request_id},
        timeout=TIMEOUT,
    )
    assert response.status_code in (400, 403), response.text


def log_marker(stack) -> str | None:
    """The id of the newest log entry now, to find what a test adds after it."""
    entry = newest_log(stack)
    return entry["log_id"] if entry else None


def logs_since(stack, marker: str | None, **filters) -> list[dict]:
    """Entries newer than ``marker`` (from ``log_marker``) matching ``filters``, newest first."""
    management = Management(stack.issuer)
    newer: list[dict] = []
    page = 0
    while True:
        entries = management.get("/logs", page=page, per_page=100)
        for entry in entries:
            if entry["log_id"] == marker:
                entries = []
                break
            if all(entry.get(k) == v for k, v in filters.items()):
                newer.append(entry)
        else:
            if len(entries) == 100:
                page += 1
                continue
        return newer


def assert_flow_works(stack, email: str = ALICE[0]) -> dict:
    """Log in and get the user's contacts through the Source API: the tutorial works."""
    tokens = login(stack, email)
    response = call_source(stack, "/api/contacts", tokens["access_token"])
    assert response.status_code == 200, response.text
    return response.json()


def exchanges_since(stack, marker: str | None, user_id: str) -> list[dict]:
    """The identity provider's successful token exchanges for ``user_id`` logged since
    ``marker`` (from ``log_marker``), newest first: how many exchanges really happened."""
    return logs_since(stack, marker, type="success_on_behalf_of_token_exchange", user_id=user_id)


def signing_keys(stack):
    """The identity provider's published keys (its JWKS), as a relying party fetches them."""
    from idp_http import fetch_jwks

    return fetch_jwks(stack.issuer + ".well-known/jwks.json")


# -- failures as each part reports them (troubleshooting T16-T37) --------------------------


def assert_token_error(response: requests.Response, status: int, error: str, description: str | None = None) -> dict:
    """A refusal of the token endpoint: JSON ``error`` (and ``error_description``), never cached."""
    assert response.status_code == status, response.text
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    body = response.json()
    assert body["error"] == error, body
    if description is not None:
        assert body["error_description"] == description, body
    return body


def assert_bearer_error(
    response: requests.Response,
    status: int,
    error: str,
    realm: str,
    description: str | None = None,
    scope: str | None = None,
) -> dict:
    """An RFC 6750 refusal of an API: the status, the JSON error, and the challenge naming both."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    challenge = response.headers.get("WWW-Authenticate", "")
    assert challenge.startswith(f'Bearer realm="{realm}", error="{error}", error_description="'), challenge
    if description is not None:
        assert body["error_description"] == description, body
        assert f'error_description="{description}"' in challenge, challenge
    if scope is not None:
        assert challenge.endswith(f', scope="{scope}"'), challenge
        assert body["scope"] == scope, body
    return body


def assert_problem(
    response: requests.Response,
    status: int,
    step: int,
    upstream: str,
    error: str | None = None,
    description: str | None = None,
) -> dict:
    """The Source API's application/problem+json answer for a failure upstream of it.

    ``error`` and ``description`` are the upstream ``error`` and ``error_description`` it
    names (None: it names none, as for an outage). Never a Bearer challenge: the caller's
    token is not what failed.
    """
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json", response.headers
    assert "WWW-Authenticate" not in response.headers, response.headers
    body = response.json()
    assert (body["status"], body["step"], body["upstream"]) == (status, step, upstream), body
    assert body.get("upstream_error") == error, body
    assert body.get("upstream_error_description") == description, body
    assert body["title"] and body["detail"], body
    return body


def rate_limit_window() -> int:
    """A rate limit window, in seconds, whose current instance began at least 15 minutes
    ago and ends no sooner than 15 minutes from now, so a test's requests all fall in it.

    Windows are fixed (one begins every ``window`` seconds of the epoch) and a counter
    restarts at 1 when its window changes. The server's clock is this machine's.
    """
    import time

    now = int(time.time())
    for window in range(86400, 3600, -1):
        if window // 4 <= now % window <= window - window // 4:
            return window
    raise AssertionError(f"no window of 1 to 24 hours has {now} in its middle half")


def set_rate_limit(management: Management, name: str, limit: int, window: int) -> None:
    """Set one of the tenant's rate limits; ``rate_limits`` is replaced whole, so the
    other limit is sent back as it is."""
    limits = management.get("/tenants/settings")["rate_limits"]
    limits[name] = {"limit": limit, "window": window}
    assert management.patch("/tenants/settings", {"rate_limits": limits})["rate_limits"] == limits


# -- the web app in a browser (troubleshooting T01-T15) ------------------------------------


def web_app_authorize_url(stack, browser: requests.Session) -> str:
    """Press the web app's Log in: the identity provider's /authorize URL it sends the browser to."""
    response = browser.get(stack["web-app"].url + "/login", allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(stack.issuer + "authorize?"), location
    return location


def web_app_sign_in(stack, browser: requests.Session, email: str = ALICE[0], url: str | None = None):
    """Log in through the web app: its /login, the real login (and consent) pages, then its
    /callback. ``url`` replaces the web app's /authorize URL (e.g. with a parameter changed).
    Returns the callback's answer, unfollowed: a 302 to / once logged in, else an error page."""
    from idp_http import authorize

    authorization = authorize(browser, url or web_app_authorize_url(stack, browser), email)
    assert authorization.location.startswith(stack["web-app"].url + "/callback?"), authorization
    return browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)


def web_app_post(stack, browser: requests.Session, path: str, page: str = "/", **data) -> requests.Response:
    """Submit a form of the web app as the browser does: with the CSRF token of ``page``."""
    import re

    shown = browser.get(stack["web-app"].url + page, timeout=TIMEOUT)
    assert shown.status_code == 200, shown.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token, shown.text
    return browser.post(stack["web-app"].url + path, data={"csrf_token": token.group(1), **data}, timeout=TIMEOUT * 3)


def web_app_call(stack, browser: requests.Session, endpoint: str = "contacts") -> requests.Response:
    """Press a button of the web app's Call the Source API page (``contacts`` or ``me``)."""
    return web_app_post(stack, browser, "/call", page="/call", endpoint=endpoint)


def page_text(response: requests.Response) -> str:
    """The visible text of an HTML page, its spaces collapsed, entities decoded."""
    import html
    import re

    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def guide_links(response: requests.Response) -> list[str]:
    """The troubleshooting entries a web app page links to, e.g. ["t12"]."""
    import re

    return re.findall(r'href="/troubleshooting#(t\d\d)"', response.text)
