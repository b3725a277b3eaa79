"""The tutorial's steps over HTTP against the running stack: log in (step 1), call the
Source API (step 2, which exchanges and calls the Target API: steps 3 and 4), call the
Target API directly, and read what the identity provider logged."""

from __future__ import annotations

import requests
from idp_http import ALICE, TIMEOUT, Management, login_tokens


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
