"""Every failure source-api reports to its caller, as a type rendered in one place.

The rule (see docs/troubleshooting.md): a problem with the user's token is a 401 so the
caller refreshes or logs in again; a tenant misconfiguration is a 502 naming the
upstream error; an identity provider that cannot be reached is a 503 with Retry-After,
one too slow a 504. An outage is never a 401, and the user's own token is never sent on.
"""

from __future__ import annotations

from flask import jsonify

from obo_common.bearer import bearer_challenge
from obo_common.step_up import ERROR as STEP_UP_ERROR
from obo_common.step_up import StepUpRequirement

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    status = 502
    title = "Bad gateway"

    def __init__(
        self,
        detail: str,
        *,
        step: int,
        upstream: str,
        upstream_error: str | None = None,
        upstream_error_description: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.step = step
        self.upstream = upstream
        self.upstream_error = upstream_error
        self.upstream_error_description = upstream_error_description
        self.retry_after = retry_after

    def response(self):
        body = {
            "type": f"about:blank#{type(self).__name__}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "step": self.step,
            "upstream": self.upstream,
        }
        if self.upstream_error:
            body["upstream_error"] = self.upstream_error
            body["upstream_error_description"] = self.upstream_error_description
        response = jsonify(body)
        response.status_code = self.status
        response.content_type = PROBLEM_JSON
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


class UpstreamRefused(Problem):
    """The identity provider or the Target API refused, for a reason the user cannot fix."""

    status = 502
    title = "The request was refused upstream"


class UpstreamUnavailable(Problem):
    status = 503
    title = "Upstream unavailable"

    def __init__(self, detail: str, **kwargs):
        kwargs.setdefault("retry_after", 5)
        super().__init__(detail, **kwargs)


class UpstreamTimeout(Problem):
    status = 504
    title = "Upstream timed out"


class UserTokenRefused(Exception):
    """The identity provider refused the user's token itself (e.g. it expired meanwhile)."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description

    def response(self, realm: str):
        response = jsonify(error="invalid_token", error_description=self.description)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = bearer_challenge(realm, "invalid_token", self.description)
        return response


class InsufficientScopeDownstream(Exception):
    """The Target API said the target token lacks a scope: passed up as a 403."""

    def __init__(self, scope: str | None, description: str):
        super().__init__(description)
        self.scope = scope
        self.description = description

    def response(self, realm: str):
        body = {"error": "insufficient_scope", "error_description": self.description}
        if self.scope:
            body["scope"] = self.scope
        response = jsonify(body)
        response.status_code = 403
        response.headers["WWW-Authenticate"] = bearer_challenge(
            realm, "insufficient_scope", self.description, self.scope
        )
        return response


class StepUpDownstream(Exception):
    """The Target API, or the identity provider's step-up policy at the exchange, asked for a
    stronger or more recent login (RFC 9470, T45, T46): passed up as the Source API's own
    401 with the same requirement, for the caller to log the user in again. Exchanging
    again would not help: an exchanged token carries the login's acr and auth_time."""

    def __init__(self, required: StepUpRequirement, description: str, upstream: str = "target-api"):
        super().__init__(description)
        self.required = required
        self.description = description
        self.upstream = upstream

    def response(self, realm: str):
        body = {"error": STEP_UP_ERROR, "error_description": self.description, **self.required.as_json()}
        body["upstream"] = self.upstream
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = self.required.challenge(realm, self.description)
        response.headers["Cache-Control"] = "no-store"
        return response
