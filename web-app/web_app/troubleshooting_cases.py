"""Which troubleshooting case an error is: the matching rules, and nothing else.

An error is known by where it was reported, its OAuth ``error`` code and a piece of its
``error_description``. The first rule that matches names the case. What the case is
(title, section, cause, fix) is its entry of docs/troubleshooting.md, read through
obo_common.troubleshooting_guide; an error page links to it (``/troubleshooting#t12``). Without a
readable guide the page still names the case and the step.

Each rule is for an answer the web app can meet; ``e2e-tests/test_web_app_names_cases.py``
makes each one happen against the running services.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context
from markupsafe import Markup

from obo_common.troubleshooting_guide import Entry, by_case

from .guide_markdown import GUIDE_PAGE, paragraph_html

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

# (where, error or None for any, piece of the description or None for any, case or None
# for "known, but no entry says why"). The Source API answers a refused subject token
# ("subject_token ...") as its own 401 invalid_token, so those reach the web app as
# SOURCE_API errors, never as EXCHANGE ones; it sends a fixed subject_token_type, an
# actor_token only of its own (SOURCE_API_SEND_ACTOR_TOKEN) and always an audience, and
# never answers 429 itself.
RULES: list[tuple[str, str | None, str | None, str | None]] = [
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
    # joserfc (under Authlib): expired_token for exp; invalid_claim for an iat in the future,
    # as for a wrong nonce, so the description tells them apart. The ID tokens of the
    # identity provider carry no nbf.
    (ID_TOKEN, "expired_token", None, "T15"),
    (ID_TOKEN, "invalid_claim", "issued in the future", "T15"),
    (ID_TOKEN, None, None, "T13"),
    (REFRESH, "invalid_grant", None, "T33"),
    (REFRESH, "unauthorized_client", None, "T06"),
    (REFRESH, "too_many_requests", None, "T37"),
    (REFRESH, "access_denied", "Unauthorized", "T17"),
    (SOURCE_API, "invalid_token", "subject_token revoked", "T39"),
    (SOURCE_API, "invalid_token", None, "T12"),
    (SOURCE_API, "insufficient_scope", None, "T30"),
    # A step-up (T45, T46) sends the browser to log in again; only a demand that comes back
    # after that login reaches a page (web_app/step_up.py).
    (SOURCE_API, "insufficient_user_authentication", None, "T47"),
    # The tenant's current On-Behalf-Of profile refuses what the legacy one takes.
    (EXCHANGE, "unauthorized_client", "Only a Custom API client", "T40"),
    (EXCHANGE, "invalid_request", "Missing required parameter: requested_token_type", "T41"),
    (EXCHANGE, "invalid_request", "Delegation chain too deep", "T44"),
    (EXCHANGE, "unauthorized_client", None, "T16"),
    (EXCHANGE, "access_denied", "Service not enabled", "T20"),
    (EXCHANGE, "access_denied", "Unauthorized", "T17"),
    (EXCHANGE, "access_denied", None, "T18"),
    (EXCHANGE, "consent_required", None, "T22"),
    (EXCHANGE, "invalid_scope", "not granted to the subject token", "T38"),
    (EXCHANGE, "invalid_scope", "not granted at login", "T38"),
    (EXCHANGE, "invalid_scope", None, "T21"),
    (EXCHANGE, "too_many_requests", None, "T28"),
    # The Target API refused the exchanged token for its times: the clocks, or its lifetime.
    (TARGET_API, "invalid_token", "issued in the future", "T15"),
    (TARGET_API, "invalid_token", "expired", "T12"),
    # Any other refusal of a freshly exchanged token (a key rotated twice in a row): no entry.
    (TARGET_API, "invalid_token", None, None),
    (TARGET_API, None, None, "T31"),
    (IDP_OUTAGE, None, None, "T32"),
]


# The Source API's words for a token whose signing key was retired (T14): its own, or the
# exchange's refusal passed on. The app refreshes and retries; the page says why, not "expired".
KEY_REFUSALS = ("unknown key", "signature could not be verified")


def refusal_case(description: str) -> Case:
    """The case of an access token the Source API refused before a refresh fixed it."""
    return Case("T14") if any(piece in description for piece in KEY_REFUSALS) else Case("T12")


@dataclass(frozen=True)
class Case:
    """A case as a page shows it: its number always, its texts when the guide can be read."""

    number: str

    @property
    def link(self) -> str:
        return GUIDE_PAGE + "#" + self.number.lower()

    @property
    def entry(self) -> Entry | None:
        if not has_app_context():
            return None
        # The settings through the app itself: services.py imports the modules that import this one.
        return by_case(current_app.extensions["web_app"].settings.troubleshooting_file).get(self.number)

    @property
    def title(self) -> str:
        return self.entry.title if self.entry else ""

    @property
    def section(self) -> str | None:
        return self.entry.section if self.entry else None

    @property
    def cause(self) -> Markup | None:
        return paragraph_html(self.entry.cause) if self.entry and self.entry.cause else None

    @property
    def fix(self) -> Markup | None:
        return paragraph_html(self.entry.fix) if self.entry and self.entry.fix else None


def case_for(where: str | None, error: str | None = None, description: str | None = None) -> Case | None:
    number = number_for(where, error, description)
    return Case(number) if number else None


def number_for(where: str | None, error: str | None = None, description: str | None = None) -> str | None:
    for rule_where, rule_error, piece, number in RULES:
        if rule_where != where or (rule_error is not None and rule_error != error):
            continue
        if piece is None or piece in (description or ""):
            return number
    return None
