"""Step 4: call the Target API with the Target API token (never the user's own token).

A Target API that cannot be reached answers 502, one too slow 504 (T31); its 403
``insufficient_scope`` is passed on as the Source API's own 403 (T30), its 401
``insufficient_user_authentication`` (RFC 9470) as the Source API's own 401 with the same
``acr_values`` and ``max_age``.

The call is every user request's hop, so it is sent over kept-alive ``http.client``
connections to the Target API (keep_alive.py), without a general client's per-request
work (a requests session's proxy lookups, cookies, hooks and redirects; a pool manager's
URL parsing, pool lookup, retry and timeout objects). The timeouts are the same
``(connect, read)`` pair. A request sent on a pooled connection that the Target API
closed at that very moment is sent once more on a new connection (stale_connections.py);
nothing else is retried here.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import logging
import time
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from obo_common import http_trace, request_id
from obo_common.bearer import parse_bearer_challenge
from obo_common.step_up import StepUpRequirement

from . import stale_connections
from .keep_alive import Answer, OriginPool
from .problems import InsufficientScopeDownstream, StepUpDownstream, UpstreamRefused, UpstreamTimeout

log = logging.getLogger(__name__)

TARGET = "target-api"
HOP = {"step": "4", "title": "Target API call", "caller": "source-api", "callee": "target-api"}


class CallerInputRefused(Exception):
    """The Target API refused what the caller sent (400): answered to the caller as is."""

    def __init__(self, body: dict):
        super().__init__(body.get("error_description"))
        self.body = body


class TargetAnswer(NamedTuple):
    status: int
    body: dict  # the JSON object the Target API answered
    data: bytes  # as it came: passed on without encoding it again when nothing changes in it


class TargetTokenRejected(Exception):
    """The Target API refused the target token (401): it may be stale; exchange again."""


class TargetApi:
    def __init__(self, base_url: str, timeout: tuple[float, float]):
        self.base_url = base_url.rstrip("/")
        # Up to 16 idle connections, as the requests session's adapter kept.
        self.pool = OriginPool(self.base_url, timeout, maxsize=16)
        # The request target is the base URL's own path (if any) and the call's path.
        self.path_prefix = urlsplit(self.base_url).path

    def call(self, method: str, path: str, target_token: str, json=None) -> TargetAnswer:
        headers = {"Authorization": "Bearer " + target_token, **request_id.outgoing_headers()}
        body = None
        if json is not None:
            body = jsonlib.dumps(json, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
        started = time.perf_counter()
        try:
            response = self._send(method, self.path_prefix + path, body, headers)
        except TimeoutError:  # connecting or reading
            http_trace.record_failure(method, url, error="timed out", **HOP)
            raise UpstreamTimeout("The Target API did not answer in time", step=4, upstream=TARGET) from None
        except (OSError, http.client.HTTPException):  # refused, reset, or not HTTP
            http_trace.record_failure(method, url, error="could not connect", **HOP)
            raise UpstreamRefused("The Target API cannot be reached", step=4, upstream=TARGET) from None
        if http_trace.enabled():
            http_trace.record(_as_requests(method, url, headers, body, response, started), **HOP)
        return self._answer(response)

    @staticmethod
    def _answer(response: Answer) -> TargetAnswer:
        """The Target API's answer, or the Source API's own problem for a refusal."""
        status = response.status
        try:
            answer = jsonlib.loads(response.data)
        except ValueError:
            answer = {}
        header = response.headers.get("WWW-Authenticate")  # a 2xx answer usually has none
        challenge = (parse_bearer_challenge(header) or {}) if header else {}
        step_up = StepUpRequirement.from_challenge(header) if header else None
        if status == 401 and step_up is not None:
            # RFC 9470: the user must log in again, more strongly or more recently.
            description = challenge.get("error_description") or "The Target API requires a stronger login"
            raise StepUpDownstream(step_up, description)
        if status == 401:
            raise TargetTokenRejected(answer.get("error_description") if isinstance(answer, dict) else None)
        if status == 403 and challenge.get("error") == "insufficient_scope":
            raise InsufficientScopeDownstream(
                challenge.get("scope"), "The Target API token lacks a scope this call needs"
            )
        if status >= 500 or not isinstance(answer, dict):
            raise UpstreamRefused(f"The Target API failed (HTTP {status})", step=4, upstream=TARGET)
        if status == 400:
            # The caller's own input, refused by the Target API: theirs to fix, passed up.
            raise CallerInputRefused(answer)
        if status >= 400:
            raise UpstreamRefused(
                f"The Target API refused the call (HTTP {status})",
                step=4,
                upstream=TARGET,
                upstream_error=answer.get("error"),
                upstream_error_description=answer.get("error_description"),
            )
        return TargetAnswer(status, answer, response.data)

    def _send(self, method: str, target: str, body: bytes | None, headers: dict) -> Answer:
        stale_connections.begin()
        try:
            return self.pool.request(method, target, body, headers)
        except (OSError, http.client.HTTPException) as error:
            if not stale_connections.never_reached(error):
                raise
        log.info("the Target API closed a pooled connection as it was reused; sending again on a new one")
        return self.pool.request(method, target, body, headers, fresh=True)


def _as_requests(
    method: str, url: str, headers: dict, body: bytes | None, response: Answer, started: float
) -> requests.Response:
    """The call in the shape the flow inspector's trace records (only when it is on)."""
    sent = requests.PreparedRequest()
    sent.method, sent.url, sent.headers, sent.body = method, url, CaseInsensitiveDict(headers), body
    answer = requests.Response()
    answer.status_code = response.status
    answer.headers = CaseInsensitiveDict(response.headers.items())
    answer._content = response.data
    answer.encoding = get_encoding_from_headers(answer.headers) or "utf-8"
    answer.elapsed = timedelta(seconds=time.perf_counter() - started)
    answer.url, answer.request = url, sent
    return answer
