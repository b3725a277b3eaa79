"""HTTP sessions for calls this app makes: each call carries the request id, so one click can
be followed through the Source API and the identity provider, and a timeout, so a service
that hangs becomes an error page instead of a stuck worker.

For the flow inspector, a call made inside ``traced(step, title, ...)`` is recorded as a
hop (``obo_common.http_trace``) when the request is traced; a ``trace`` in the answer (the
Source API's own hops) is moved out of the answer into the timeline, after this hop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import g

from obo_common import http_trace, request_id

CALLER = "web-app"


@dataclass(frozen=True)
class _Hop:
    step: str
    title: str
    callee: str
    secrets: dict[str, str] = field(default_factory=dict)
    method: str | None = None


@contextmanager
def traced(
    step: str, title: str, callee: str, *, secrets: dict[str, str] | None = None, method: str | None = None
) -> Iterator[None]:
    """Record the calls made inside as hops of ``step`` (only those with ``method``, when
    given: Authlib may fetch the JWKS while redeeming a code, which is not the step)."""
    if not http_trace.enabled():
        yield
        return
    outer = g.get("obo_hop")
    g.obo_hop = _Hop(step, title, callee, secrets or {}, method)
    try:
        yield
    finally:
        g.obo_hop = outer


def _hop_for(method: str) -> _Hop | None:
    if not http_trace.enabled():
        return None
    hop = g.get("obo_hop")
    return hop if hop and (hop.method is None or hop.method == method.upper()) else None


class _WithRequestId:
    default_timeout: tuple[float, float] | None = None

    def request(self, method, url, headers=None, **kwargs):
        if self.default_timeout:
            kwargs.setdefault("timeout", self.default_timeout)
        headers = {**(headers or {}), **request_id.outgoing_headers()}
        hop = _hop_for(method)
        if hop is None:
            return super().request(method, url, headers=headers, **kwargs)
        labels = {"step": hop.step, "title": hop.title, "caller": CALLER, "callee": hop.callee}
        try:
            response = super().request(method, url, headers=headers, **kwargs)
        except requests.RequestException as error:
            reason = "timed out" if isinstance(error, requests.Timeout) else "could not connect"
            http_trace.record_failure(method.upper(), url, error=reason, **labels)
            raise
        http_trace.record(response, secrets=hop.secrets, **labels)
        _lift_nested_trace()
        return response


def _lift_nested_trace() -> None:
    recorded = http_trace.hops()[-1]["response"]["body"]
    if isinstance(recorded, dict) and isinstance(recorded.get("trace"), list):
        http_trace.extend(recorded.pop("trace"))


class OutgoingSession(_WithRequestId, requests.Session):  # type: ignore[misc]  # one request() for both
    """The app's one pooled session (Source API calls, discovery)."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.default_timeout = timeout


class IdentityProviderSession(_WithRequestId, OAuth2Session):
    """What Authlib's client uses for the token endpoint and the JWKS (``default_timeout``
    comes in through the client's ``client_kwargs``)."""
