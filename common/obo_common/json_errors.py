"""JSON answers for HTTP errors and for anything unexpected: never an HTML page or a
stack trace from an API; and a JSON body nested too deep to parse is a bad body, not a
crash."""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any

from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


# What Flask's jsonify asks the provider for outside debug mode: compact JSON.
_SEPARATORS = (",", ":")
_COMPACT = {"separators": _SEPARATORS}


class BoundedJSONProvider(DefaultJSONProvider):
    """Parsing ``[[[[...]]]]`` thousands deep exhausts Python's recursion limit; Flask
    catches only ValueError, so the request would end in a 500.

    And compact JSON, every jsonify answer's, comes from an encoder built once with the
    provider's settings (its ``default``, ``ensure_ascii``, ``sort_keys``): ``json.dumps``
    builds one for each call given any option, on every answer of the APIs' hot paths."""

    @cached_property
    def _compact(self) -> json.JSONEncoder:
        return json.JSONEncoder(
            default=self.default, ensure_ascii=self.ensure_ascii, sort_keys=self.sort_keys, separators=_SEPARATORS
        )

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs == _COMPACT:
            return self._compact.encode(obj)
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deep") from None


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.response is not None:  # already an answer (e.g. from the bearer protector)
        return error.response
    name = (error.name or "error").lower().replace(" ", "_")
    return jsonify(error=name, error_description=error.description), error.code or 500


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return jsonify(error="server_error", error_description="The server could not handle this request."), 500
