"""Every OAuth error this server answers, with the status and text of the imitated provider.

Handlers only raise; Authlib renders the JSON body (with ``Cache-Control: no-store``) or,
at the authorization endpoint, the redirect back to the client. ``log_type`` overrides
the failure event type of the tenant log entry where one error has its own event, and
``log_description`` says more in the log than the client is told.
"""

from authlib.oauth2.rfc6749 import errors as rfc6749

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


class InvalidRequest(rfc6749.InvalidRequestError):
    log_type = None


class InvalidScope(rfc6749.InvalidScopeError):
    log_type = None


class InvalidGrant(rfc6749.InvalidGrantError):
    # The imitated provider answers invalid_grant with 403, not the RFC's example 400.
    status_code = 403
    log_type = None


class RefreshTokenReused(InvalidGrant):
    log_type = "ferrt"
    log_description = "Refresh token reuse detected: every refresh token of this login was revoked"

    def __init__(self):
        super().__init__("Unknown or invalid refresh token.")


class UnauthorizedClient(rfc6749.UnauthorizedClientError):
    status_code = 403
    log_type = None

    def __init__(self, grant_type: str):
        super().__init__(f"Grant type '{grant_type}' not allowed for the client.")


class AccessDenied(rfc6749.AccessDeniedError):
    status_code = 403
    log_type = None


class Unauthorized(AccessDenied):
    """Client authentication failed: unknown client, wrong or missing secret."""

    status_code = 401

    def __init__(self):
        super().__init__("Unauthorized")


class ConsentRequired(rfc6749.OAuth2Error):
    error = "consent_required"
    status_code = 403
    log_type = None


class LoginRequired(rfc6749.OAuth2Error):
    error = "login_required"
    log_type = None


def normalise(error: rfc6749.OAuth2Error) -> rfc6749.OAuth2Error:
    """Give errors raised inside Authlib the provider's answer (e.g. invalid_grant is 403)."""
    if error.error == "unauthorized_client" and "response_type=code" in (error.description or ""):
        # /authorize for an application without the authorization_code grant.
        error.description = "Grant type 'authorization_code' not allowed for the client."
    elif error.error == "invalid_grant":
        error.status_code = 403
    elif error.error == "invalid_client":
        return Unauthorized()
    return error


class TooManyRequests(rfc6749.OAuth2Error):
    error = "too_many_requests"
    status_code = 429
    log_type = "api_limit"

    def __init__(self, window, retry_after: int):
        super().__init__(f"Too many requests: the limit is {window.limit} in this window. Retry after {retry_after}s.")
        self.window = window
        self.retry_after = retry_after

    def get_headers(self):
        return super().get_headers() + [
            ("Retry-After", str(self.retry_after)),
            ("X-RateLimit-Limit", str(self.window.limit)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", str(self.window.reset)),
        ]
