"""An operator of the tenant: the Management API as a program calls it, and the tenant
log, which every test reads through ``Management.log_entries`` (one way to page it).

Each ``Management`` fetches a client_credentials token of its own, so a test that
rotates the signing keys or resets the tenant is not left holding a refused token; the
functions taking ``stack`` make one for each read. Each call is a new TCP connection
(``requests.request``), so any worker may answer it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests
from backend_client import post_token
from demo_tenant import MANAGEMENT_CLIENT, TIMEOUT
from stack_urls import StackUrls

SUCCESSFUL_EXCHANGE = "success_on_behalf_of_token_exchange"


class Management:
    """The Management API as a program calls it: a client_credentials token, JSON bodies."""

    def __init__(self, stack: StackUrls):
        self.url = stack.management_api
        response = post_token(stack, grant_type="client_credentials", audience=self.url + "/", **MANAGEMENT_CLIENT)
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

    def log_entries(self, per_page: int = 100, **filters) -> Iterator[dict]:
        """The tenant log entries matching ``filters`` (the API's: type, client_id,
        user_id...), newest first, each page read when the caller gets to it."""
        seen, page = 0, 0
        while True:
            body = self.get("/logs", page=page, per_page=per_page, include_totals="true", **filters)
            yield from body["logs"]
            seen += len(body["logs"])
            if not body["logs"] or seen >= body["total"]:
                return
            page += 1

    def logs(self, **filters) -> list[dict]:
        """Every tenant log entry matching ``filters``, newest first."""
        return list(self.log_entries(**filters))

    def newest_log(self, **filters) -> dict | None:
        return next(self.log_entries(per_page=1, **filters), None)

    def logs_since(self, marker: str | None, **filters) -> list[dict]:
        """Entries newer than the one ``marker`` names (from ``log_marker``) whose fields
        equal ``filters``, newest first. The filters are applied here: the marked entry
        itself need not match them."""
        newer: list[dict] = []
        for entry in self.log_entries():
            if entry["log_id"] == marker:
                break
            if all(entry.get(k) == v for k, v in filters.items()):
                newer.append(entry)
        return newer


def newest_log(stack: StackUrls, **filters) -> dict | None:
    """The newest tenant log entry matching ``filters`` (e.g. type=..., user_id=...)."""
    return Management(stack).newest_log(**filters)


def log_marker(stack: StackUrls) -> str | None:
    """The id of the newest log entry now, to find what a test adds after it."""
    entry = newest_log(stack)
    return entry["log_id"] if entry else None


def logs_since(stack: StackUrls, marker: str | None, **filters) -> list[dict]:
    """Entries newer than ``marker`` (from ``log_marker``) matching ``filters``, newest first."""
    return Management(stack).logs_since(marker, **filters)


def exchanges_since(stack: StackUrls, marker: str | None, user_id: str) -> list[dict]:
    """The identity provider's successful token exchanges for ``user_id`` logged since
    ``marker`` (from ``log_marker``), newest first: how many exchanges really happened."""
    return logs_since(stack, marker, type=SUCCESSFUL_EXCHANGE, user_id=user_id)


def tenant_state(management: Management) -> dict:
    """Everything the Management API can change in the tenant, as it reads it."""
    paths = ("/clients", "/resource-servers", "/api-pairings", "/tenants/settings", "/rules")
    return {path: management.get(path) for path in paths}


def rate_limit_window() -> int:
    """A rate limit window, in seconds, whose current instance began at least 15 minutes
    ago and ends no sooner than 15 minutes from now, so a test's requests all fall in it.

    Windows are fixed (one begins every ``window`` seconds of the epoch) and a counter
    restarts at 1 when its window changes. The server's clock is this machine's.
    """
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
