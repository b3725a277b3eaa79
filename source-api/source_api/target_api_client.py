"""Step 4: call the Target API with the Target API token (never the user's own token).

A Target API that cannot be reached answers 502, one too slow 504 (T31); its 403
``insufficient_scope`` is passed on as the Source API's own 403 (T30), its 401
``insufficient_user_authentication`` (RFC 9470) as the Source API's own 401 with the same
``acr_values`` and ``max_age``.
"""

from __future__ import annotations

import requests

from obo_common import http_trace, request_id
from obo_common.bearer import parse_bearer_challenge
from obo_common.step_up import StepUpRequirement

from .problems import InsufficientScopeDownstream, StepUpDownstream, UpstreamRefused, UpstreamTimeout

TARGET = "target-api"
HOP = {"step": "4", "title": "Target API call", "caller": "source-api", "callee": "target-api"}


class CallerInputRefused(Exception):
    """The Target API refused what the caller sent (400): answered to the caller as is."""

    def __init__(self, body: dict):
        super().__init__(body.get("error_description"))
        self.body = body


class TargetTokenRejected(Exception):
    """The Target API refused the target token (401): it may be stale; exchange again."""


class TargetApi:
    def __init__(self, base_url: str, session: requests.Session, timeout):
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout

    def call(self, method: str, path: str, target_token: str, json=None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {target_token}", **request_id.outgoing_headers()}
        url = self.base_url + path
        try:
            response = self.session.request(method, url, headers=headers, json=json, timeout=self.timeout)
        except requests.Timeout:
            http_trace.record_failure(method, url, error="timed out", **HOP)
            raise UpstreamTimeout("The Target API did not answer in time", step=4, upstream=TARGET) from None
        except requests.ConnectionError:
            http_trace.record_failure(method, url, error="could not connect", **HOP)
            raise UpstreamRefused("The Target API cannot be reached", step=4, upstream=TARGET) from None
        http_trace.record(response, **HOP)
        try:
            body = response.json()
        except ValueError:
            body = {}
        challenge = parse_bearer_challenge(response.headers.get("WWW-Authenticate")) or {}
        step_up = StepUpRequirement.from_challenge(response.headers.get("WWW-Authenticate"))
        if response.status_code == 401 and step_up is not None:
            # RFC 9470: the user must log in again, more strongly or more recently.
            description = challenge.get("error_description") or "The Target API requires a stronger login"
            raise StepUpDownstream(step_up, description)
        if response.status_code == 401:
            raise TargetTokenRejected(body.get("error_description") if isinstance(body, dict) else None)
        if response.status_code == 403 and challenge.get("error") == "insufficient_scope":
            raise InsufficientScopeDownstream(
                challenge.get("scope"), "The Target API token lacks a scope this call needs"
            )
        if response.status_code >= 500 or not isinstance(body, dict):
            raise UpstreamRefused(f"The Target API failed (HTTP {response.status_code})", step=4, upstream=TARGET)
        if response.status_code == 400:
            # The caller's own input, refused by the Target API: theirs to fix, passed up.
            raise CallerInputRefused(body)
        if response.status_code >= 400:
            raise UpstreamRefused(
                f"The Target API refused the call (HTTP {response.status_code})",
                step=4,
                upstream=TARGET,
                upstream_error=body.get("error"),
                upstream_error_description=body.get("error_description"),
            )
        return response.status_code, body
