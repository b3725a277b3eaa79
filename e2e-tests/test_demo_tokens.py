"""`make tokens` and `make code`: a demo user's tokens, or the code, as shell variables."""

from __future__ import annotations

import shlex

from backend_client import call_source, redeem_code
from demo_tenant import BOB
from terminal_tools import run_tool


def _exports(output: str) -> dict[str, str]:
    variables = {}
    for line in output.splitlines():
        assert line.startswith("export "), line
        name, _, value = line.removeprefix("export ").partition("=")
        variables[name] = shlex.split(value)[0]
    return variables


def test_the_printed_access_token_is_accepted_by_the_source_api(stack):
    done = run_tool(stack, "workshop.demo_tokens", "--email", BOB[0])

    assert done.returncode == 0, done.stderr
    variables = _exports(done.stdout)
    assert set(variables) == {"ACCESS_TOKEN", "REFRESH_TOKEN", "ID_TOKEN"}
    answer = call_source(stack, "/api/me", variables["ACCESS_TOKEN"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == BOB[1]


def test_the_printed_code_is_unredeemed_and_goes_with_its_verifier(stack):
    done = run_tool(stack, "workshop.demo_tokens", "--code")

    assert done.returncode == 0, done.stderr
    variables = _exports(done.stdout)
    assert set(variables) == {"CODE", "CODE_VERIFIER"}
    redeemed = redeem_code(stack, variables["CODE"], variables["CODE_VERIFIER"])
    assert redeemed.status_code == 200, redeemed.text
    assert call_source(stack, "/api/me", redeemed.json()["access_token"]).status_code == 200


def test_a_wrong_password_says_where_the_login_stopped(stack):
    done = run_tool(stack, "workshop.demo_tokens", "--password", "wrong")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "the login failed" in done.stderr
    assert "HTTP 401" in done.stderr
    assert "Wrong email or password" in done.stderr
    assert "<html" not in done.stderr
