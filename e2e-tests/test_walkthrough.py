"""`make walkthrough`: the tutorial's five steps from the terminal, against the stack.

Run as a person runs it but without a terminal (so it does not pause), it must show each
step, each hop as a curl command, each token decoded and the exchange's claim diff, and
never a client secret or the password.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from demo_tenant import PASSWORD, SOURCE_API, SOURCE_CLIENT, TARGET_API, WEB_APP
from terminal_tools import run_tool, tool_environment

STEPS = ["Request tokens", "Call the Source API", "Exchange the token", "Call the Target API", "Refresh tokens"]


@pytest.fixture(scope="module")
def walked(stack) -> subprocess.CompletedProcess:
    return run_tool(stack, "workshop.walkthrough")


def sections(output: str) -> dict[str, str]:
    """The text under each "-- title" subheading, up to the next heading of either level."""
    parts = re.split(r"^(?:--|==) (.+?)=*$", output, flags=re.M)
    return {title.strip(): text for title, text in zip(parts[1::2], parts[2::2], strict=True)}


def commands(output: str) -> list[str]:
    """Each printed curl command, its continuation lines joined."""
    return [
        re.sub(r" \\\n\s+", " ", match) for match in re.findall(r"^\$ (curl .+?)(?=\n\n|\n[^ ])", output, re.M | re.S)
    ]


def claim(section: str, name: str) -> str:
    match = re.search(rf"^\s+{re.escape(name)}\s+(.+)$", section, re.M)
    assert match, f"no {name} claim in:\n{section}"
    return match.group(1)


def test_it_runs_the_five_steps_in_order(walked):
    assert walked.returncode == 0, walked.stdout + walked.stderr
    headings = re.findall(r"^== Step (\d) of 5: (.+?) =+$", walked.stdout, re.M)
    assert headings == [(str(n), title) for n, title in enumerate(STEPS, 1)]
    assert "Press Enter" not in walked.stdout  # no terminal: no pauses


def test_each_token_is_decoded_and_says_it_was_not_verified(walked):
    found = sections(walked.stdout)

    user = found["The access token: for the Source API"]
    assert SOURCE_API in claim(user, "aud")
    assert TARGET_API not in claim(user, "aud")
    assert re.search(r"in (23h|1d)", claim(user, "exp")), claim(user, "exp")
    assert claim(found["The ID token: for the web app, who logged in"], "aud") == WEB_APP["client_id"]
    target = found["The Target API token"]
    assert claim(target, "aud") == TARGET_API
    assert claim(target, "client_id") == SOURCE_CLIENT["client_id"]
    assert claim(user, "sub") == claim(target, "sub")
    for token in (user, target):
        assert "without verifying the signature" in token
        assert re.search(r"^\s+alg\s+RS256$", token, re.M), token


def test_the_diff_marks_what_the_exchange_changed(walked):
    diff = sections(walked.stdout)["Claim by claim: the user's access token -> the Target API token"]

    assert re.search(rf"^  ~ aud .+\n\s+-> {re.escape(TARGET_API)}$", diff, re.M), diff
    assert re.search(r"^  ~ scope .+\n\s+-> read:contacts offline_access$", diff, re.M), diff
    assert re.search(r"^  ~ client_id\s+web-app\n\s+-> source-api$", diff, re.M), diff
    assert re.search(r"^    sub\s+auth0\|", diff, re.M), diff  # unmarked: the same user
    assert re.search(r"^  (  |~ )lifetime \(exp - iat\)\s+\d+s \(", diff, re.M), diff
    assert re.search(r"^  \+ https://obo\.example\.com/exchanged_by\s+source-api$", diff, re.M), diff


def test_every_hop_is_a_curl_command(walked, stack):
    printed = commands(walked.stdout)
    token_endpoint = stack.token_endpoint

    def hop(url: str, *parts: str) -> list[str]:
        return [c for c in printed if c.split()[2] == url and all(part in c for part in parts)]

    assert hop(
        token_endpoint, "grant_type=authorization_code", "code_verifier=", '"client_secret=$WEB_APP_CLIENT_SECRET"'
    )
    assert hop(stack["source-api"].url + "/api/me", '"Authorization: Bearer $ACCESS_TOKEN"')
    assert hop(
        token_endpoint,
        "grant_type=urn:ietf:params:oauth:grant-type:token-exchange",
        '"subject_token=$ACCESS_TOKEN"',
        "subject_token_type=urn:ietf:params:oauth:token-type:access_token",
        f"audience={TARGET_API}",
        "'scope=read:contacts offline_access'",
        '"client_secret=$SOURCE_API_CLIENT_SECRET"',
    )
    assert hop(stack["target-api"].url + "/api/contacts", '"Authorization: Bearer $TARGET_ACCESS_TOKEN"')
    assert hop(stack["source-api"].url + "/api/contacts", '"Authorization: Bearer $ACCESS_TOKEN"')
    assert hop(token_endpoint, '"refresh_token=$REFRESH_TOKEN"', '"client_secret=$WEB_APP_CLIENT_SECRET"')
    assert hop(token_endpoint, '"refresh_token=$TARGET_REFRESH_TOKEN"', '"client_secret=$SOURCE_API_CLIENT_SECRET"')
    assert len(printed) == 7, printed


def test_step_5_says_whether_each_refresh_token_was_rotated(walked):
    step5 = walked.stdout.split("== Step 5 of 5")[1]

    assert step5.count("The refresh token was rotated") == 2, step5
    assert "Target API refresh token" in step5


def test_no_secret_and_no_whole_token_is_printed(walked):
    printed = walked.stdout + walked.stderr

    for secret in (WEB_APP["client_secret"], SOURCE_CLIENT["client_secret"], PASSWORD):
        assert secret not in printed
    assert "password    ********" in printed
    assert not re.search(r"eyJ[\w-]{60,}\.", printed), "a whole JWT was printed"


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_printed_exchange_runs_as_printed(stack):
    """With --show-tokens the export lines and the exchange's curl, pasted into a shell, work."""
    shown = run_tool(stack, "workshop.walkthrough", "--show-tokens")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    exports = re.findall(r"^export ACCESS_TOKEN=(\S+)$", shown.stdout, re.M)
    exchange = next(c for c in commands(shown.stdout) if "token-exchange" in c)

    script = f"ACCESS_TOKEN={exports[0]}\n{exchange}"
    env = {**tool_environment(stack), "SOURCE_API_CLIENT_SECRET": SOURCE_CLIENT["client_secret"]}
    ran = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)

    assert ran.returncode == 0, ran.stderr
    assert '"issued_token_type"' in ran.stdout, ran.stdout
    assert '"access_token"' in ran.stdout, ran.stdout


def test_a_wrong_source_api_secret_stops_at_step_3_and_names_T17(stack):
    done = run_tool(stack, "workshop.walkthrough", env={"SOURCE_API_CLIENT_SECRET": "not-the-secret"})

    assert done.returncode == 1, done.stdout
    assert "== Step 3 (Exchange the token) failed" in done.stdout
    assert "== Step 4 of 5" not in done.stdout
    assert '"error_description": "Unauthorized"' in done.stdout  # what came back
    assert '"client_secret=$SOURCE_API_CLIENT_SECRET"' in done.stdout  # what was sent
    assert "not-the-secret" not in done.stdout + done.stderr
    assert re.search(r"step 3 \(Exchange the token\) failed: .+ T17 ", done.stderr), done.stderr
