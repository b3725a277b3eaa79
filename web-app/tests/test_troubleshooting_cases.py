import re
from pathlib import Path

import pytest

from obo_common import troubleshooting_guide
from web_app.failures import Failure
from web_app.troubleshooting_cases import RULES, Case, case_for

NEXT_PART = re.compile(r"\*\*[\w ]+:\*\*")
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"


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
        ("source_api", "insufficient_scope", "needs read:contacts", "T30"),
        (
            "exchange",
            "unauthorized_client",
            "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client.",
            "T16",
        ),
        ("exchange", "access_denied", "Unauthorized", "T17"),
        ("exchange", "access_denied", "Client source-api is not paired with https://target-api.example.com", "T18"),
        ("exchange", "access_denied", "Service not enabled within domain: https://target-api.example.com/", "T20"),
        ("exchange", "invalid_scope", "Scope not selected in the API pairing: write:contacts", "T21"),
        ("exchange", "invalid_scope", "Scope not granted to the subject token: read:contacts", "T38"),
        ("exchange", "invalid_scope", "Scope not granted at login: offline_access", "T38"),
        (
            "source_api",
            "invalid_token",
            "The identity provider refused the access token: subject_token revoked: the login it belongs to "
            "was revoked (logout or refresh token reuse)",
            "T39",
        ),
        ("id_token", "expired_token", "The token is expired", "T15"),
        ("id_token", "invalid_claim", "The token was issued in the future", "T15"),
        ("exchange", "consent_required", "The target API does not allow skipping user consent", "T22"),
        ("target_api", "invalid_token", "The access token was issued in the future", "T15"),
        ("target_api", "invalid_token", "The access token expired", "T12"),
        ("exchange", "too_many_requests", "Too many token exchanges", "T28"),
        ("target_api", None, None, "T31"),
        ("target_api", "timeout", "The Target API did not answer in time", "T31"),
        ("idp_outage", None, None, "T32"),
        ("refresh", "invalid_grant", "Unknown or invalid refresh token.", "T33"),
        ("refresh", "unauthorized_client", "Grant type 'refresh_token' not allowed for the client.", "T06"),
        ("refresh", "too_many_requests", "Too many refreshes", "T37"),
    ],
)
def test_each_error_names_its_case(where, error, description, case):
    assert case_for(where, error, description).number == case


def test_an_unknown_error_names_no_case():
    assert case_for("callback", "temporarily_unavailable", "later") is None
    assert case_for(None) is None


@pytest.mark.parametrize(
    ("where", "error", "description"),
    [
        # What the Source API never passes on as an exchange refusal, or never sends.
        ("exchange", "invalid_request", "subject_token expired"),
        ("exchange", "invalid_request", "Unsupported subject_token_type"),
        ("exchange", "invalid_request", "Malformed parameter: scope holds characters RFC 6749 does not allow"),
        ("target_api", "invalid_token", "The access token's key is unknown"),
    ],
)
def test_an_answer_no_entry_explains_names_no_case(where, error, description):
    assert case_for(where, error, description) is None


def guide_entries():
    return troubleshooting_guide.by_case(GUIDE)


def test_every_rule_names_a_case_of_the_guide():
    entries = guide_entries()
    named = {number for *_, number in RULES if number}
    assert named - set(entries) == set(), f"rules name cases the guide has not: {sorted(named - set(entries))}"


def test_every_guide_entry_parses_with_a_title_a_section_a_cause_and_a_fix():
    entries = guide_entries()
    assert sorted(entries) == [f"T{n:02d}" for n in range(1, len(entries) + 1)]
    for number, entry in entries.items():
        assert entry.title, number
        assert entry.section, number
        # One paragraph each, as the error page quotes them, never the next part's text.
        for text in (entry.cause, entry.fix):
            assert len(text) >= 10, (number, text)
            assert not NEXT_PART.search(text), (number, text)
            assert "\n" not in text, (number, text)


def test_a_case_reads_its_texts_from_the_guide_and_links_to_its_entry(app, settings):
    settings.troubleshooting_file.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    with app.app_context():
        case = Case("T17")
        entry = guide_entries()["T17"]
        assert case.link == "/troubleshooting#t17"
        assert (case.title, case.section) == (entry.title, "Step 3: Exchange the token")
        assert "<code>" in case.cause or "secret" in case.cause
        assert "<code>SOURCE_API_CLIENT_SECRET</code>" in case.fix
        assert "<p>" not in case.fix


def test_an_entrys_links_point_at_the_guide_page_from_an_error_page(app, settings):
    settings.troubleshooting_file.write_text(
        '## Step 5: Refresh tokens\n\n### <a id="t33"></a>T33 Gone\n\n'
        "**Cause:** revoked (a reused code T05, see [T05](#t05), [security](security.md)).\n\nMore.\n\n"
        "**Fix:** log in again.\n",
        encoding="utf-8",
    )
    with app.app_context():
        case = Case("T33")
        assert case.cause == (
            'revoked (a reused code T05, see <a href="/troubleshooting#t05">T05</a>, security '
            "(<code>docs/security.md</code>))."
        )
        assert (case.fix, case.section) == ("log in again.", "Step 5: Refresh tokens")


@pytest.mark.parametrize("guide", ["missing", "not utf-8", "no entries"])
def test_without_a_readable_guide_a_failure_still_names_its_case_and_step(app, settings, client, guide):
    if guide == "not utf-8":
        settings.troubleshooting_file.write_bytes(b"\xff\xfe### T12")
    elif guide == "no entries":
        settings.troubleshooting_file.write_text("# Troubleshooting\n", encoding="utf-8")
    with app.test_request_context():
        failure = Failure(502, "Refused", where="exchange", error="consent_required", step="3")
        assert (failure.case.number, failure.case.title, failure.case.cause) == ("T22", "", None)
        assert failure.step_name == "Step 3: Exchange the token"

    @app.get("/fails")
    def fails():
        raise Failure(502, "Refused", where="exchange", error="consent_required", step="3")

    page = client.get("/fails")
    assert page.status_code == 502
    text = page.get_data(as_text=True)
    assert "T22" in text
    assert 'href="/troubleshooting#t22"' in text
    assert "Step 3: Exchange the token" in text


def test_the_error_page_shows_the_guides_title_cause_and_fix(app, settings, client):
    settings.troubleshooting_file.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")

    @app.get("/fails")
    def fails():
        raise Failure(502, "Refused", where="exchange", error="consent_required", step="3")

    text = client.get("/fails").get_data(as_text=True)
    entry = guide_entries()["T22"]
    assert f"T22: {entry.title}</h2>" in text
    assert "Likely cause:</strong> during an exchange no user is present" in text
    assert "What to do:</strong> <code>PATCH /api/v2/resource-servers/target-api</code>" in text


def test_a_failure_without_a_step_takes_its_entrys_section(app, settings):
    settings.troubleshooting_file.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    with app.app_context():
        assert Failure(400, "No refresh token", case=Case("T07")).step_name == "Step 1: Request tokens"


def test_every_rule_names_a_case_with_a_lowercase_anchor():
    for _, _, _, number in RULES:
        if number:
            assert re.fullmatch(r"/troubleshooting#t\d\d", Case(number).link)
