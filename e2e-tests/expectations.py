"""What a refusal must look like, as each part of the flow reports it (troubleshooting
T16-T37): the token endpoint's JSON errors, the APIs' Bearer challenges and the Source
API's problem documents."""

from __future__ import annotations

import requests


def assert_token_error(response: requests.Response, status: int, error: str, description: str | None = None) -> dict:
    """A refusal of the token endpoint: JSON ``error`` (and ``error_description``), never cached."""
    assert response.status_code == status, response.text
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    body = response.json()
    assert body["error"] == error, body
    if description is not None:
        assert body["error_description"] == description, body
    return body


def assert_invalid_grant(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_grant"


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
    assert body["title"], body
    assert body["detail"], body
    return body


def assert_log_entry(entry: dict, description: str, grant_type: str, **fields) -> dict:
    """A tenant log entry of a token request: its ``description``, the ``grant_type`` in
    its details, and each of ``fields`` (e.g. client_id, user_id, audience)."""
    assert entry["description"] == description, entry
    assert entry["details"]["grant_type"] == grant_type, entry
    for name, value in fields.items():
        assert entry[name] == value, entry
    return entry
