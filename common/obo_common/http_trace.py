"""What a request made of other services, hop by hop, for the demo's flow inspector.

A service turns tracing on for one request (``begin()``); the code that calls another
service then records each call (``record(response, ...)``, or ``record_failure`` when no
answer came, ``record_cache`` when none was needed, ``record_seen`` for a request the browser made).
``hops()`` gives them as plain dicts,
which the Source API returns to the web app and the web app keeps in the user's
server-side session for its inspector page.

A hop is::

    {"step": "3", "title": "Token exchange", "caller": "source-api", "callee": "identity provider",
     "request": {"method": "POST", "url": "...", "headers": {...}, "form": {...} | None, "json": ... | None},
     "response": {"status": 200, "headers": {...}, "body": ...} | None,
     "duration_ms": 3.4, "cache": "hit" | "miss" | None, "request_id": "...",
     "secrets": {"client_secret": "SOURCE_API_CLIENT_SECRET"}, "error": None | "timed out"}

Secrets (form fields and top-level JSON answer fields named in ``secrets``, passwords,
HTTP Basic credentials, the operator secret header) are replaced by ``MASK`` before a hop
is kept: they never leave the service that holds them. A service's own credentials (the
Source API's Target API refresh token, its client-credentials actor token) are secrets
too: they are not the user's to see.
``secrets`` maps each masked field to the environment variable that holds its value, so
the inspector can print a runnable ``curl`` with ``$VARIABLE`` in its place. Tokens are
kept whole: showing them to their own user is what the inspector is for.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import requests
from flask import g, has_request_context

from . import request_id
from .demo_tools import OPERATOR_HEADER

MASK = "********"
ALWAYS_MASKED = {"password", "client_secret"}
_KEPT_RESPONSE_HEADERS = ("Content-Type", "WWW-Authenticate", "Retry-After", "Cache-Control")
_LIMIT = 64 * 1024  # a body longer than this is cut: the inspector is for people


def begin() -> None:
    """Trace the calls the current request makes."""
    g.obo_trace = []


def enabled() -> bool:
    return has_request_context() and isinstance(g.get("obo_trace"), list)


def hops() -> list[dict]:
    return list(g.obo_trace) if enabled() else []


def extend(more: list[dict]) -> None:
    """Add hops another service recorded (e.g. the Source API's, as its answer carries them)."""
    if enabled():
        g.obo_trace.extend(hop for hop in more if isinstance(hop, dict))


def record(
    response: requests.Response,
    *,
    step: str,
    title: str,
    caller: str,
    callee: str,
    secrets: dict[str, str] | None = None,
    cache: str | None = None,
) -> None:
    if not enabled():
        return
    secrets = secrets or {}
    _append(
        step=step,
        title=title,
        caller=caller,
        callee=callee,
        request=_request(response.request, secrets),
        response={
            "status": response.status_code,
            "headers": {k: response.headers[k] for k in _KEPT_RESPONSE_HEADERS if k in response.headers},
            "body": _masked(_body(response.text, response.headers.get("Content-Type", "")), secrets),
        },
        duration_ms=round(response.elapsed.total_seconds() * 1000, 1),
        cache=cache,
        secrets={name: var for name, var in secrets.items() if name in _form_names(response.request)},
    )


def record_failure(method: str, url: str, *, step: str, title: str, caller: str, callee: str, error: str) -> None:
    """A call that got no answer (refused connection, timeout)."""
    _record_known(method, url, step=step, title=title, caller=caller, callee=callee, response=None, error=error)


def record_seen(
    method: str,
    url: str,
    *,
    step: str,
    title: str,
    caller: str,
    callee: str,
    status: int,
    body: Any = None,
    note: str | None = None,
) -> None:
    """A request another party made, known by its outcome: the browser's ``/authorize``, whose
    answer came back to this service as a redirect (its parameters and ``status``)."""
    response = {"status": status, "headers": {}, "body": body}
    _record_known(method, url, step=step, title=title, caller=caller, callee=callee, response=response, note=note)


def record_cache(*, step: str, title: str, caller: str, note: str) -> None:
    """A call that was not needed: the answer was already held (a cache hit)."""
    if enabled():
        _append(step=step, title=title, caller=caller, callee=None, request=None, response=None, cache="hit", note=note)


def _append(**hop: Any) -> None:
    hop.setdefault("duration_ms", None)
    hop.setdefault("cache", None)
    hop.setdefault("secrets", {})
    hop.setdefault("error", None)
    hop.setdefault("note", None)
    hop["request_id"] = request_id.current()
    g.obo_trace.append(hop)


def _record_known(method: str, url: str, **hop: Any) -> None:
    """A hop whose request is known by its method and URL only (no headers or body recorded)."""
    if enabled():
        _append(request={"method": method, "url": url, "headers": {}, "form": None, "json": None}, **hop)


def _request(prepared: requests.PreparedRequest, secrets: dict[str, str]) -> dict:
    headers = {
        k: v if isinstance(v, str) else v.decode("latin-1")
        for k, v in prepared.headers.items()
        if k.lower() not in ("content-length", "connection")
    }
    if headers.get("Authorization", "").lower().startswith("basic "):
        headers["Authorization"] = "Basic " + MASK
    for name in headers:
        if name.lower() == OPERATOR_HEADER.lower():
            headers[name] = MASK
    content_type = headers.get("Content-Type", "")
    body = _text(prepared.body)
    form = json_body = None
    if body and "application/x-www-form-urlencoded" in content_type:
        form = {
            name: (MASK if name in secrets or name in ALWAYS_MASKED else value)
            for name, value in parse_qsl(body, keep_blank_values=True)
        }
    elif body:
        json_body = _body(body, content_type)
    return {"method": prepared.method, "url": prepared.url, "headers": headers, "form": form, "json": json_body}


def _masked(body: Any, secrets: dict[str, str]) -> Any:
    """A JSON answer with the fields named in ``secrets`` masked (e.g. an issued refresh token)."""
    if isinstance(body, dict):
        return {name: MASK if name in secrets and value else value for name, value in body.items()}
    return body


def _form_names(prepared: requests.PreparedRequest) -> set[str]:
    return {name for name, _ in parse_qsl(_text(prepared.body), keep_blank_values=True)}


def _text(body: object) -> str:
    """A prepared request's body as text (our own requests send forms or JSON, or nothing)."""
    if isinstance(body, bytes):
        return body.decode()
    return body if isinstance(body, str) else ""


def _body(text: str, content_type: str) -> Any:
    text = text[:_LIMIT]
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text
