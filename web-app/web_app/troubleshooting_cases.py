"""Which troubleshooting case an error is, in one table.

An error is known by where it was reported, its OAuth ``error`` code and a piece of its
``error_description``. The first rule that matches names the case; each case says the step
it belongs to, the likely cause and what to do, and links to its entry of the
troubleshooting docs (``/troubleshooting#t12``).
"""

from __future__ import annotations

from dataclasses import dataclass

STEPS = {
    "1": "Step 1: Request tokens",
    "2": "Step 2: Call the Source API",
    "3": "Step 3: Exchange the token",
    "4": "Step 4: Call the Target API",
    "5": "Step 5: Refresh tokens",
    "X": "Infrastructure",
}

# Where an error was reported:
CALLBACK = "callback"  # the identity provider redirected back to /callback with ?error=
CODE_EXCHANGE = "code_exchange"  # the token endpoint refused our authorization code
ID_TOKEN = "id_token"  # the ID token did not validate
REFRESH = "refresh"  # the token endpoint refused our refresh token
SOURCE_API = "source_api"  # the Source API refused our access token or request
EXCHANGE = "exchange"  # the identity provider refused the Source API's exchange (via a 502)
TARGET_API = "target_api"  # the Target API failed the Source API (via a 502/504)
IDP_OUTAGE = "idp_outage"  # the identity provider could not be reached or was too slow

# (where, error or None for any, piece of the description or None for any, case)
RULES: list[tuple[str, str | None, str | None, str]] = [
    (CALLBACK, "access_denied", "Service not enabled", "T20"),
    (CALLBACK, "access_denied", None, "T08"),
    (CALLBACK, "login_required", None, "T09"),
    (CALLBACK, "consent_required", None, "T09"),
    (CALLBACK, "invalid_request", None, "T04"),
    (CALLBACK, "unauthorized_client", None, "T06"),
    (CODE_EXCHANGE, "invalid_grant", "code verifier", "T03"),
    (CODE_EXCHANGE, "invalid_grant", "redirect_uri", "T02"),
    (CODE_EXCHANGE, "invalid_grant", None, "T05"),
    (CODE_EXCHANGE, "unauthorized_client", None, "T06"),
    (CODE_EXCHANGE, "access_denied", "Unauthorized", "T17"),
    (ID_TOKEN, "expired_token", None, "T15"),
    (ID_TOKEN, "invalid_claim", "future", "T15"),
    (ID_TOKEN, "invalid_claim", "not yet valid", "T15"),
    (ID_TOKEN, None, None, "T13"),
    (REFRESH, "invalid_grant", None, "T33"),
    (REFRESH, "unauthorized_client", None, "T06"),
    (REFRESH, "invalid_scope", None, "T36"),
    (REFRESH, "too_many_requests", None, "T37"),
    (REFRESH, "access_denied", "Unauthorized", "T17"),
    (SOURCE_API, "invalid_token", "subject_token revoked", "T39"),
    (SOURCE_API, "invalid_token", None, "T12"),
    (SOURCE_API, "invalid_request", None, "T10"),
    (SOURCE_API, "insufficient_scope", None, "T30"),
    (SOURCE_API, "too_many_requests", None, "T28"),
    (EXCHANGE, "unauthorized_client", "'refresh_token'", "T06"),
    (EXCHANGE, "unauthorized_client", None, "T16"),
    (EXCHANGE, "access_denied", "Service not enabled", "T20"),
    (EXCHANGE, "access_denied", "Unauthorized", "T17"),
    (EXCHANGE, "access_denied", None, "T18"),
    (EXCHANGE, "consent_required", None, "T22"),
    (EXCHANGE, "invalid_scope", "not granted to the subject token", "T38"),
    (EXCHANGE, "invalid_scope", "not granted at login", "T38"),
    (EXCHANGE, "invalid_scope", None, "T21"),
    (EXCHANGE, "too_many_requests", None, "T28"),
    (EXCHANGE, "invalid_request", "audience does not match", "T25"),
    (EXCHANGE, "invalid_request", "audience", "T19"),
    (EXCHANGE, "invalid_request", "subject_token_type", "T26"),
    (EXCHANGE, "invalid_request", "actor_token", "T27"),
    (EXCHANGE, "invalid_request", "subject_token revoked", "T39"),
    (EXCHANGE, "invalid_request", "expired", "T23"),
    (EXCHANGE, "invalid_request", None, "T24"),
    (TARGET_API, "insufficient_scope", None, "T30"),
    # The Target API refused the exchanged token for its times: the clocks, or its lifetime.
    (TARGET_API, "invalid_token", "issued in the future", "T15"),
    (TARGET_API, "invalid_token", "expired", "T12"),
    (TARGET_API, "invalid_token", None, "T29"),
    (TARGET_API, None, None, "T31"),
    (IDP_OUTAGE, None, None, "T32"),
]


@dataclass(frozen=True)
class Case:
    number: str
    step: str
    title: str
    cause: str
    fix: str

    @property
    def link(self) -> str:
        return "/troubleshooting#" + self.number.lower()


# One case per entry: number, step, title, likely cause, what to do.
# fmt: off
_CASES = [
    Case(
        "T02", "1", "redirect_uri differs between /authorize and the token request",
        "The token request named another redirect_uri than the login request did.",
        "Send the same callback URL (WEB_APP_BASE_URL + /callback) in both requests.",
    ),
    Case(
        "T03", "1", "PKCE code verifier does not match",
        "The code_verifier sent with the code does not match the code_challenge of the login.",
        "Start a new login; keep the verifier in the session that started the login.",
    ),
    Case(
        "T04", "1", "PKCE missing or not S256",
        "The identity provider requires a code_challenge with code_challenge_method=S256.",
        "Send a PKCE S256 challenge with every login request.",
    ),
    Case(
        "T05", "1", "Authorization code used twice or expired",
        "The code was already redeemed (for example the callback page was reloaded) or is older than "
        "its lifetime. Tokens already issued from it are revoked.",
        "Log in again; never replay a callback URL.",
    ),
    Case(
        "T06", "1, 5", "Grant type not enabled for the client",
        "The application (or the Source API's client) does not list this grant type.",
        "Enable the authorization_code and refresh_token grant types on the application "
        "(and refresh_token on the Source API's client).",
    ),
    Case(
        "T07", "1, 3", "No refresh token",
        "offline_access was not asked for, or the API does not allow offline access.",
        "Ask for offline_access and turn on Allow Offline Access on the API.",
    ),
    Case(
        "T08", "1", "The user declined consent",
        "The consent page was answered with Decline.",
        "Log in again and accept, if you want the app to call the Source API for you.",
    ),
    Case(
        "T09", "1", "Login or consent needed (prompt=none)",
        "A silent login was asked for while the user still had to log in or consent.",
        "Log in interactively.",
    ),
    Case(
        "T10", "2, 4", "Missing or malformed Authorization header",
        "The API got no bearer token, or a header it could not parse.",
        "Send Authorization: Bearer <access token> exactly once.",
    ),
    Case(
        "T12", "2, 4", "The access token has expired",
        "The access token outlived its lifetime and could not be renewed with the refresh token.",
        "Log in again. With a refresh token the app renews the access token by itself, once per call.",
    ),
    Case(
        "T13", "1, 2, 4", "A token did not validate",
        "Its signature, algorithm, issuer, audience or nonce is not what was expected.",
        "Check OIDC_ISSUER, WEB_APP_CLIENT_ID and that the identity provider's keys are the ones "
        "it signs with; then log in again.",
    ),
    Case(
        "T14", "2, 4", "The token's kid is unknown: the signing key was rotated",
        "The key that signed the token is no longer published: it was retired by a second rotation.",
        "Nothing for one rotation: the APIs fetch the new key. Tokens signed by a retired key are gone for "
        "good: refresh (the app does it once per call) or log in again.",
    ),
    Case(
        "T15", "2, 3, 4", "The clocks disagree",
        "A token's exp, iat or nbf is off by more than the 30-second leeway: the identity provider's "
        "clock and this machine's disagree.",
        "Synchronise the clocks (NTP). On the demo tenant, set clock_skew back to 0 with the Management "
        "API; then log in again.",
    ),
    Case(
        "T16", "3", "Token Exchange not enabled for the Source API",
        "The Source API's client may not use the token-exchange grant, or it used the application's "
        "client id.",
        "Enable Token Exchange on the Source API and give the Source API its own client credentials.",
    ),
    Case(
        "T17", "3, 5", "Wrong or missing client secret",
        "The client authenticated with a secret the identity provider does not accept.",
        "Copy the client secret again from the client's settings into the service's environment.",
    ),
    Case(
        "T18", "3", "The Source API and the Target API are not paired",
        "No Source API/Target API pairing exists for this exchange.",
        "Add the pairing and select the scopes the Source API needs.",
    ),
    Case(
        "T19", "3", "audience missing in the exchange",
        "The Source API did not say which API the exchanged token is for.",
        "Send audience = the Target API identifier.",
    ),
    Case(
        "T20", "1, 3", "The audience names no API of the tenant",
        "The audience is not the identifier of an API (typo, trailing slash).",
        "Use the API identifier exactly as the tenant lists it.",
    ),
    Case(
        "T21", "3", "Scope outside the pairing",
        "The exchange asked for a scope that is not selected in the pairing.",
        "Ask only for selected scopes, or select the scope in the pairing.",
    ),
    Case(
        "T22", "3", "The Target API does not allow skipping user consent",
        "Nobody is present to consent during an exchange.",
        "Turn on Allow Skipping User Consent on the Target API.",
    ),
    Case(
        "T23", "3", "The subject token has expired",
        "The user's access token expired before the Source API exchanged it.",
        "Refresh the user's token (the app does this once per call) or log in again.",
    ),
    Case(
        "T24", "3", "The subject token is not valid",
        "The token the Source API exchanged is forged, unsigned, or from another issuer.",
        "Exchange only the access token the application sent, unchanged.",
    ),
    Case(
        "T25", "3", "The subject token is for another audience",
        "The exchanged token was not issued for the API that owns the exchanging client.",
        "Exchange the access token issued for the Source API, not an ID token or a Target API token.",
    ),
    Case(
        "T26", "3", "Unsupported subject_token_type",
        "subject_token_type is missing or not urn:ietf:params:oauth:token-type:access_token.",
        "Send subject_token_type=urn:ietf:params:oauth:token-type:access_token.",
    ),
    Case(
        "T27", "3", "actor_token sent",
        "Only impersonation is supported: no actor token.",
        "Leave out actor_token and actor_token_type.",
    ),
    Case(
        "T28", "3", "Too many token exchanges",
        "The Source API exchanged more often than the rate limit allows.",
        "Reuse the Target API token until it nears expiry; wait for Retry-After.",
    ),
    Case(
        "T38", "3", "The exchange asks for more than the login granted",
        "Under the tenant's bounded policy, the exchange asked for a scope (or offline_access) the user's "
        "token does not carry.",
        "Log in with the scope the Source API needs (read:contacts, offline_access), or ask for less.",
    ),
    Case(
        "T39", "3", "The user's login was revoked",
        "The user logged out, or a refresh token was reused: the login and what was exchanged from it are revoked.",
        "Log in again.",
    ),
    Case(
        "T29", "4", "The Target API refused the token",
        "The token the Source API sent was not issued for the Target API.",
        "Send the exchanged token, never the user's own token, to the Target API.",
    ),
    Case(
        "T30", "4", "The token lacks a needed scope",
        "The token does not carry the scope the endpoint needs.",
        "Ask for the scope at login (WEB_APP_SCOPE) and select it in the pairing.",
    ),
    Case(
        "T31", "4", "The Target API is down or too slow",
        "The Source API could not reach the Target API, or it did not answer in time.",
        "Start the Target API, or wait and try again.",
    ),
    Case(
        "T32", "X", "The identity provider is down or too slow",
        "The identity provider could not be reached, or did not answer in time.",
        "Start the identity provider (check OIDC_ISSUER and IDP_INTERNAL_URL), or wait and try again.",
    ),
    Case(
        "T33", "5", "Refresh token unknown, revoked or expired",
        "The refresh token is no longer valid. If a rotated refresh token was used again (T34), "
        "every refresh token of that login was revoked.",
        "Log in again.",
    ),
    Case(
        "T36", "5", "Refresh asked for more scope than granted",
        "A refresh may keep or narrow the granted scopes, never widen them.",
        "Refresh without scope, or with a subset of the granted one.",
    ),
    Case(
        "T37", "5", "Too many refreshes",
        "The same refresh token was refreshed too often from one address.",
        "Refresh only when the access token expires; wait for Retry-After.",
    ),
]
# fmt: on
CASES = {case.number: case for case in _CASES}


def case_for(where: str | None, error: str | None = None, description: str | None = None) -> Case | None:
    for rule_where, rule_error, piece, number in RULES:
        if rule_where != where or (rule_error is not None and rule_error != error):
            continue
        if piece is None or piece in (description or ""):
            return CASES[number]
    return None
