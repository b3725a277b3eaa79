"""Step 2: call the Source API with the user's access token, and read its answer.

A 401 ``invalid_token`` is raised as ``AccessTokenRejected`` (the caller may refresh and
retry), a 401 ``insufficient_user_authentication`` as ``StepUpDemanded`` (the user logs in
again as it asks, step_up.py); every other failure becomes a ``Failure`` page, named after the tutorial step the
Source API says failed (its problem+json body carries ``step`` and ``upstream``).
"""

from __future__ import annotations

import logging

import requests

from obo_common import http_trace
from obo_common.bearer import parse_bearer_challenge
from obo_common.demo_tools import OPERATOR_HEADER, TRACE_HEADER
from obo_common.step_up import ERROR as STEP_UP_ERROR
from obo_common.step_up import StepUpRequirement

from .failures import Failure
from .outgoing_http import traced
from .troubleshooting_cases import EXCHANGE, IDP_OUTAGE, SOURCE_API, TARGET_API, Case

log = logging.getLogger(__name__)

SOURCE = "the Source API"
# Where the logout tells the Source API the login ended.
LOGIN_TOKENS = "/api/login-tokens"


class AccessTokenRejected(Exception):
    """The Source API answered 401 with error="invalid_token"."""

    def __init__(self, description: str | None):
        super().__init__(description or "invalid_token")
        self.description = description


class StepUpDemanded(Exception):
    """The Source API answered 401 ``insufficient_user_authentication`` (RFC 9470) with this
    requirement: the user logs in again as it asks (step_up.py)."""

    def __init__(self, required: StepUpRequirement, description: str | None):
        super().__init__(description or STEP_UP_ERROR)
        self.required = required
        self.description = description


class SourceApiClient:
    def __init__(self, base_url: str, http: requests.Session, operator_secret: str):
        self.base_url = base_url
        self.http = http
        self.operator_secret = operator_secret

    def get(self, path: str, access_token: str) -> dict:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if http_trace.enabled():
            # The Source API's hops, for the flow inspector: answered to the operator only.
            headers.update({TRACE_HEADER: "1", OPERATOR_HEADER: self.operator_secret})
        try:
            with traced("2", "Source API call", "source-api"):
                response = self.http.get(self.base_url + path, headers=headers)
        except requests.Timeout:
            raise Failure(504, "The Source API did not answer in time", step="2", reported_by="this app") from None
        except requests.ConnectionError:
            raise Failure(
                503,
                "The Source API cannot be reached",
                step="2",
                reported_by="this app",
                detail="Is it running, and is WEB_APP_SOURCE_API_URL its address?",
            ) from None
        body = _json(response)
        if response.status_code == 200 and body:
            return body
        raise _failure(response, body)

    def forget_login(self, access_token: str) -> None:
        """Best effort at logout: the Source API drops the Target API tokens it cached for
        this login (on every replica), so a copy of the access token gets none of them."""
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            response = self.http.delete(self.base_url + LOGIN_TOKENS, headers=headers)
        except requests.RequestException as error:
            log.warning("the Source API's cached tokens of this login not dropped: %s", type(error).__name__)
            return
        if response.status_code != 200:
            log.warning("the Source API's cached tokens of this login not dropped: HTTP %s", response.status_code)


def _failure(response: requests.Response, body: dict) -> Exception:
    status = response.status_code
    if status == 401:
        challenge = parse_bearer_challenge(response.headers.get("WWW-Authenticate")) or {}
        if challenge.get("error") == "invalid_token":
            return AccessTokenRejected(challenge.get("error_description"))
        if challenge.get("error") == STEP_UP_ERROR:  # RFC 9470: log in again as it asks
            required = StepUpRequirement.from_challenge(response.headers.get("WWW-Authenticate"))
            assert required is not None  # the challenge names the error
            return StepUpDemanded(required, challenge.get("error_description"))
        # No error code: the Source API saw no usable Authorization header.
        return _refused(502, "The Source API did not accept the request", body, case=Case("T10"))
    if status == 400:
        return _refused(502, "The Source API says the request was malformed", body)
    if status == 403:
        return _refused(403, "The access token does not allow this", body, detail=_needed_scope(body))
    if status == 429:
        return _refused(429, "The Source API is rate limited", body, retry_after=response.headers.get("Retry-After"))
    if status in (502, 503, 504) and "upstream" in body:
        return _upstream_failure(response, body)
    return Failure(
        502,
        f"The Source API answered HTTP {status}",
        step="2",
        reported_by=SOURCE,
        detail=body.get("detail") or body.get("error_description"),
    )


def _refused(status: int, title: str, body: dict, **extra) -> Failure:
    return Failure(
        status,
        title,
        where=SOURCE_API,
        step="2",
        reported_by=SOURCE,
        error=body.get("error"),
        description=body.get("error_description"),
        **extra,
    )


def _upstream_failure(response: requests.Response, body: dict) -> Failure:
    """A 502/503/504 problem+json: the exchange (step 3) or the Target API call (step 4) failed."""
    from_provider = body.get("upstream") == "identity-provider"
    where = upstream_where(response.status_code, body)
    if from_provider:
        reported_by = "the identity provider (through the Source API)"
    else:
        reported_by = "the Target API (through the Source API)"
    return Failure(
        response.status_code,
        body.get("title") or "The Source API could not get your data",
        where=where,
        step=str(body.get("step") or ("3" if from_provider else "4")),
        error=body.get("upstream_error"),
        description=body.get("upstream_error_description"),
        reported_by=reported_by,
        detail=body.get("detail"),
        retry_after=response.headers.get("Retry-After"),
    )


def upstream_where(status: int, body: dict) -> str:
    """Where a 502/503/504 problem+json of the Source API says the failure was reported."""
    if body.get("upstream") == "identity-provider":
        # A refusal (502) or a rate limit (503 naming too_many_requests) is the exchange's
        # case; any other 503/504 is the provider being down or slow.
        refused = status == 502 or body.get("upstream_error") == "too_many_requests"
        return EXCHANGE if refused else IDP_OUTAGE
    return TARGET_API


def _needed_scope(body: dict) -> str | None:
    return f"The endpoint needs the scope '{body['scope']}'." if body.get("scope") else None


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict):
        body.pop("trace", None)  # the Source API's hops: in the inspector's timeline already
        return body
    return {}
