import re

import pytest

from web_app.troubleshooting_cases import CASES, RULES, case_for


@pytest.mark.parametrize(
    ("where", "error", "description", "case"),
    [
        ("callback", "access_denied", "The user declined", "T08"),
        ("callback", "access_denied", "Service not enabled within domain: https://typo", "T20"),
        ("callback", "login_required", "The user is not logged in", "T09"),
        ("callback", "consent_required", "Consent required", "T09"),
        ("callback", "invalid_request", "code_challenge_method must be S256", "T04"),
        ("code_exchange", "invalid_grant", 'Invalid "redirect_uri" in request.', "T02"),
        ("code_exchange", "invalid_grant", "Failed to verify code verifier", "T03"),
        ("code_exchange", "invalid_grant", "Invalid authorization code", "T05"),
        ("code_exchange", "unauthorized_client", "Grant type 'authorization_code' not allowed for the client.", "T06"),
        ("code_exchange", "access_denied", "Unauthorized", "T17"),
        ("id_token", "invalid_claim", "Invalid claim: nonce", "T13"),
        ("source_api", "invalid_token", "The access token expired", "T12"),
        ("source_api", "invalid_request", "Malformed Authorization header", "T10"),
        ("source_api", "insufficient_scope", "needs read:contacts", "T30"),
        (
            "exchange",
            "unauthorized_client",
            "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client.",
            "T16",
        ),
        ("exchange", "unauthorized_client", "Grant type 'refresh_token' not allowed for the client.", "T06"),
        ("exchange", "access_denied", "Unauthorized", "T17"),
        ("exchange", "access_denied", "Client source-api is not paired with https://target-api.example.com", "T18"),
        ("exchange", "access_denied", "Service not enabled within domain: https://target-api.example.com/", "T20"),
        ("exchange", "invalid_request", "Missing required parameter: audience", "T19"),
        ("exchange", "invalid_scope", "Scope not selected in the API pairing: write:contacts", "T21"),
        ("exchange", "invalid_scope", "Scope not granted to the subject token: read:contacts", "T38"),
        ("exchange", "invalid_scope", "Scope not granted at login: offline_access", "T38"),
        (
            "exchange",
            "invalid_request",
            "subject_token revoked: the login it belongs to was revoked (logout or refresh token reuse)",
            "T39",
        ),
        ("exchange", "consent_required", "The target API does not allow skipping user consent", "T22"),
        ("exchange", "invalid_request", "subject_token expired", "T23"),
        ("target_api", "invalid_token", "The access token was issued in the future", "T15"),
        ("target_api", "invalid_token", "The access token expired", "T12"),
        ("target_api", "invalid_token", "The access token was not issued for this API", "T29"),
        ("exchange", "invalid_request", "subject_token signature could not be verified", "T24"),
        ("exchange", "invalid_request", "subject_token audience does not match the requesting API", "T25"),
        ("exchange", "invalid_request", "Unsupported subject_token_type", "T26"),
        ("exchange", "invalid_request", "actor_token is not supported: impersonation only", "T27"),
        ("exchange", "too_many_requests", "Too many token exchanges", "T28"),
        ("target_api", "insufficient_scope", None, "T30"),
        ("target_api", None, None, "T31"),
        ("target_api", "timeout", "The Target API did not answer in time", "T31"),
        ("idp_outage", None, None, "T32"),
        ("refresh", "invalid_grant", "Unknown or invalid refresh token.", "T33"),
        ("refresh", "unauthorized_client", "Grant type 'refresh_token' not allowed for the client.", "T06"),
        ("refresh", "invalid_scope", "Scope not granted to this refresh token: write:contacts", "T36"),
        ("refresh", "too_many_requests", "Too many refreshes", "T37"),
    ],
)
def test_each_error_names_its_case(where, error, description, case):
    assert case_for(where, error, description).number == case


def test_an_unknown_error_names_no_case():
    assert case_for("callback", "temporarily_unavailable", "later") is None
    assert case_for(None) is None


def test_every_rule_names_a_described_case_with_a_lowercase_anchor():
    for _, _, _, number in RULES:
        case = CASES[number]
        assert re.fullmatch(r"/troubleshooting#t\d\d", case.link)
        assert case.cause and case.fix and case.step
