"""One id per request: taken from ``X-Request-Id`` when the caller sent a sane one, made
otherwise, echoed in the answer, passed on to downstream calls and written in every log
line of the service, so one click can be followed through web-app, source-api and
target-api."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def current() -> str:
    """The id of the request being handled ('-' outside a request)."""
    if has_request_context() and "request_id" in g:
        return g.request_id
    return "-"


def outgoing_headers() -> dict[str, str]:
    return {HEADER: current()} if current() != "-" else {}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True


def init_app(app: Flask) -> None:
    @app.before_request
    def take_or_make_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        return response

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    if not any(isinstance(f, _RequestIdFilter) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
        root.setLevel(logging.INFO)
