"""One id per request: taken from ``X-Request-Id`` when the caller sent a sane one, made
otherwise, echoed in the answer, passed on to downstream calls and written in every log
line of the service, so one click can be followed through web-app, source-api and
target-api."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, has_request_context, request

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
# Where the id is kept for the request's whole life: its WSGI environ.
ENVIRON_KEY = "obo.request_id"


def current() -> str:
    """The id of the request being handled ('-' outside a request)."""
    if has_request_context():
        return request.environ.get(ENVIRON_KEY, "-")
    return "-"


def outgoing_headers() -> dict[str, str]:
    request_id = current()
    return {HEADER: request_id} if request_id != "-" else {}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True


class RequestIds:
    """WSGI middleware around the app: the id is taken or made before Flask sees the
    request, and added to the headers of whatever answer leaves, errors included. As
    middleware rather than Flask hooks, it costs a header lookup and an append: it runs on
    every request of every service (docs/benchmarks.md)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = environ[ENVIRON_KEY] = incoming if _SANE.match(incoming) else secrets.token_hex(16)

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_id)


def init_app(app: Flask) -> None:
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    if not any(isinstance(f, _RequestIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
        root.setLevel(logging.INFO)
