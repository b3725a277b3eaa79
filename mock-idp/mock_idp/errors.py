"""Every OAuth error this server answers, with the status and text of the imitated provider.

Handlers only raise; Authlib renders the JSON body (with ``Cache-Control: no-store``) or,
at the authorization endpoint, the redirect back to the client. ``log_type`` overrides
the failure event type of the tenant log entry where one error has its own event, and
``log_description`` says more in the log than the client is told; ``log_reason`` is
written as the entry's ``details.reason``.
"""

import re

from authlib.oauth2.rfc6749 import errors as rfc6749
from typing_extensions import override

# RFC 6749 5.2: error_description is ASCII %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
_NOT_ALLOWED = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def describable(text: str) -> str:
    """``text`` as an error_description may carry it: a caller's value echoed in a message
    (a scope, an audience) may hold any character; each one the RFC forbids is written as
    ``U+XXXX``, so the client still reads which value was refused."""
    return _NOT_ALLOWED.sub(lambda match: f"U+{ord(match.group()):04X}", text)


class _Error(rfc6749.OAuth2Error):
    def __init__(self, description=None, *args, **kwargs):
        super().__init__(describable(description) if description else description, *args, **kwargs)


class InvalidRequest(_Error, rfc6749.InvalidRequestError):
    log_type = None


class InvalidTarget(_Error):
    """RFC 8707 / RFC 8693 2.2.2: the resource or audience is not acceptable."""

    error = "invalid_target"
    log_type = None


class InvalidScope(_Error, rfc6749.InvalidScopeError):
    log_type = None


class ScopeBeyondSubjectToken(InvalidScope):
    """The ``bounded`` exchange policy: the asked scope exceeds what the login granted (T38)."""

    log_reason = "bounded_policy"


class SubjectGrantRevoked(InvalidRequest):
    """The subject token's login was revoked (T39). The description starts with
    "subject_token", so the Source API answers its caller 401 invalid_token."""

    log_reason = "subject_grant_revoked"

    def __init__(self):
        super().__init__("subject_token revoked: the login it belongs to was revoked (logout or refresh token reuse)")


class InvalidGrant(_Error, rfc6749.InvalidGrantError):
    # The imitated provider answers invalid_grant with 403, not the RFC's example 400.
    status_code = 403
    log_type: str | None = None


class RefreshTokenReused(InvalidGrant):
    log_type = "ferrt"
    log_description = (
        "Refresh token reuse detected: every refresh token of this login, and of the exchanges made from it, "
        "was revoked"
    )

    def __init__(self):
        super().__init__("Unknown or invalid refresh token.")


class UnauthorizedClient(_Error, rfc6749.UnauthorizedClientError):
    status_code = 403
    log_type = None

    def __init__(self, grant_type: str):
        super().__init__(f"Grant type '{grant_type}' not allowed for the client.")


class AccessDenied(_Error, rfc6749.AccessDeniedError):
    status_code = 403
    log_type = None


class Unauthorized(AccessDenied):
    """Client authentication failed: unknown client, wrong or missing secret."""

    status_code = 401

    def __init__(self):
        super().__init__("Unauthorized")


class InvalidClient(_Error, rfc6749.InvalidClientError):
    """The client's credentials are right, but not presented as it may present them: a
    body ``client_id`` naming another client than the Authorization header, or another
    method than its registered ``token_endpoint_auth_method``. 401, with the
    ``WWW-Authenticate: Basic`` challenge RFC 6749 section 5.2 asks for."""

    status_code = 401
    log_type = None

    def __init__(self, description: str, reason: str):
        super().__init__(description)
        self.log_reason = reason


class ConsentRequired(_Error):
    error = "consent_required"
    status_code = 403
    log_type = None


class LoginRequired(_Error):
    error = "login_required"
    log_type = None


def normalise(error: rfc6749.OAuth2Error) -> rfc6749.OAuth2Error:
    """Give errors raised inside Authlib the provider's answer (e.g. invalid_grant is 403)."""
    if error.error == "unauthorized_client" and "response_type=code" in (error.description or ""):
        # /authorize for an application without the authorization_code grant.
        error.description = "Grant type 'authorization_code' not allowed for the client."
    elif error.error == "invalid_grant":
        error.status_code = 403
    elif error.error == "invalid_client" and not isinstance(error, InvalidClient):
        return Unauthorized()
    return error


class TooManyRequests(_Error):
    error = "too_many_requests"
    status_code = 429
    log_type = "api_limit"

    def __init__(self, window, retry_after: int):
        super().__init__(f"Too many requests: the limit is {window.limit} in this window. Retry after {retry_after}s.")
        self.window = window
        self.retry_after = retry_after

    @override
    def get_headers(self):
        return [
            *super().get_headers(),
            ("Retry-After", str(self.retry_after)),
            ("X-RateLimit-Limit", str(self.window.limit)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(self.window.reset)),
        ]


# -- the ``current`` On-Behalf-Of profile (docs/mock-idp.md) --------------------------------


class NotCustomApiClient(_Error):
    """Only a Custom API client may exchange under the ``current`` profile (T40)."""

    error = "unauthorized_client"
    status_code = 403
    log_type = None
    log_reason = "not_custom_api_client"

    def __init__(self):
        super().__init__(
            "Only a Custom API client (app_type resource_server, with a resource_server_identifier) "
            "may use On-Behalf-Of token exchange"
        )


class TokenRefused(InvalidRequest):
    """The subject or actor token is invalid or expired: the provider's current reference
    answers 401 (T42, T43). The description starts with "subject_token" or "actor_token"."""

    status_code = 401


class ActorNotPermitted(AccessDenied):
    """The actor token is not the exchanging client's own, or the subject token's
    ``may_act`` does not name the actor (T43)."""

    log_reason = "actor_not_permitted"


class DelegationTooDeep(InvalidRequest):
    """The issued token's ``act`` chain would name more actors than the tenant allows (T44)."""

    log_reason = "delegation_depth"


class InsufficientUserAuthentication(_Error):
    """The API's step-up policy (RFC 9470): the subject token's login is not strong or recent
    enough (T45, T46). The answer names what is needed, as the API's challenge would, so
    the Source API can pass it to its caller and the user can log in again."""

    error = "insufficient_user_authentication"
    log_type = None
    log_reason = "step_up_required"

    def __init__(self, description: str, acr_values: tuple[str, ...], max_age: int | None):
        super().__init__(description)
        self.acr_values, self.max_age = acr_values, max_age

    @override
    def get_body(self):
        body = dict(super().get_body())
        if self.acr_values:
            body["acr_values"] = " ".join(self.acr_values)
        if self.max_age is not None:
            body["max_age"] = self.max_age
        return list(body.items())
