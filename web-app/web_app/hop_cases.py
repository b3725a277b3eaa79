"""Which troubleshooting case a failed hop of the flow inspector's record is.

A hop says who called whom in which step and what came back; that tells where the error
was reported (``troubleshooting_cases``: the callback, the code redemption, the Source
API, the exchange...), and its answer gives the ``error`` and ``error_description`` the
rules match. The rules themselves stay in ``troubleshooting_cases``; the sequence diagram
prints the case on a failed arrow.
"""

from __future__ import annotations

from typing import Any

from obo_common.bearer import parse_bearer_challenge

from .source_api_client import upstream_where
from .troubleshooting_cases import (
    CALLBACK,
    CODE_EXCHANGE,
    EXCHANGE,
    IDP_OUTAGE,
    REFRESH,
    SOURCE_API,
    TARGET_API,
    number_for,
)

IDP = "identity provider"


def case_of(hop: dict) -> str | None:
    """The case number of a failed hop ("T16"), None when no rule names one."""
    response = hop.get("response") if isinstance(hop.get("response"), dict) else None
    step, caller, callee = str(hop.get("step")), hop.get("caller"), hop.get("callee")
    if response is None:  # no answer at all
        if callee == IDP:
            return number_for(IDP_OUTAGE)
        return number_for(TARGET_API) if callee == "target-api" else None
    status = response.get("status")
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    headers = response.get("headers") if isinstance(response.get("headers"), dict) else {}
    challenge = parse_bearer_challenge(_text(headers.get("WWW-Authenticate"))) or {}
    error = _text(body.get("error")) or challenge.get("error")
    description = _text(body.get("error_description")) or challenge.get("error_description")
    if caller == "browser":
        return number_for(CALLBACK, error, description)
    if caller == "web-app" and callee == IDP:
        return number_for(CODE_EXCHANGE if step == "1" else REFRESH, error, description)
    if caller == "web-app":  # the Source API
        if isinstance(status, int) and status in (502, 503, 504) and "upstream" in body:
            where = upstream_where(status, body)
            return number_for(where, _text(body.get("upstream_error")), _text(body.get("upstream_error_description")))
        if status == 401 and not error:
            return "T10"  # no usable Authorization header (source_api_client says the same)
        return number_for(SOURCE_API, error, description) if status in (401, 403) else None
    if caller == "source-api" and callee == IDP and step == "3":
        if status == 429:
            return number_for(EXCHANGE, "too_many_requests")
        return number_for(EXCHANGE, error, description)
    if caller == "source-api" and callee == "target-api":
        if error == "insufficient_scope":  # passed on as the Source API's own 403
            return number_for(SOURCE_API, error, description)
        return number_for(TARGET_API, error, description)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
