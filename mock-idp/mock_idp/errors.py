"""Every OAuth error this server answers, with the status and text of the imitated provider.

Handlers only raise; Authlib renders the JSON body (with ``Cache-Control: no-store``) or,
at the authorization endpoint, the redirect back to the client. ``log_type`` overrides
the failure event type of the tenant log entry where one error has its own event.
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
    if error.error == "invalid_grant":
        error.status_code = 403
    elif error.error == "invalid_client":
        return Unauthorized()
    return error
