"""The Source API's hops in its own answer, for the web app's flow inspector.

With the demo tools on, a caller that sends ``X-Obo-Trace: 1`` and the operator secret in
``X-Obo-Operator`` (the web app does) gets ``"trace": [hop, ...]`` in the JSON answer
(success or error): the exchange, refresh, cache hit and Target API call this request
made, as ``obo_common.http_trace`` records them, with the Source API's own credentials
masked. Any other caller, or the demo tools off, gets exactly the answer it would get
otherwise: a user's token alone does not open the Source API's calls to its holder.
"""

from __future__ import annotations

from flask import Flask, current_app, request

from obo_common import http_trace
from obo_common.demo_tools import OPERATOR_HEADER, TRACE_HEADER

from .services import services

HEADER = TRACE_HEADER


def init_app(app: Flask) -> None:
    @app.before_request
    def trace_when_asked():
        if request.headers.get(HEADER) != "1":
            return
        setup = services()
        if setup.demo_tools.enabled() and setup.operator.matches(request.headers.get(OPERATOR_HEADER, "")):
            http_trace.begin()

    @app.after_request
    def answer_with_trace(response):
        if not http_trace.enabled() or not response.is_json:
            return response
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            body["trace"] = http_trace.hops()
            # In the order the calls were made (grant_type first...), not sorted.
            response.set_data(current_app.json.dumps(body, sort_keys=False))
        return response
