"""E2E_EXTERNAL against a stack whose limits are too low stops before any test, with one
message naming the settings; against one started as the README says, the run goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import external_limits

HERE = Path(__file__).resolve().parent


def external_run(stack, source_api_url: str) -> subprocess.CompletedProcess:
    """One test of the suite, run by a person with E2E_EXTERNAL against ``stack``."""
    urls = {name: stack[name].url for name in ("mock-idp", "target-api", "web-app")}
    env = {name: value for name, value in os.environ.items() if not name.startswith(("E2E_", "PYTEST_"))}
    env.update({f"E2E_{name.upper().replace('-', '_')}_URL": url for name, url in urls.items()})
    env.update(E2E_EXTERNAL="1", E2E_SOURCE_API_URL=source_api_url, OPERATOR_SECRET=stack.operator_secret)
    test = "test_step2_call_source_api.py::test_without_a_token_the_answer_is_a_bare_bearer_challenge"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_suites_own_stack_has_the_limits_it_needs(stack):
    assert external_limits.too_low(stack) == []


def test_a_source_api_with_the_default_budget_stops_the_run_with_one_message(stack):
    with stack.another("source-api", SOURCE_API_USER_EXCHANGE_LIMIT="20") as low:
        done = external_run(stack, low.url)

    shown = done.stdout + done.stderr
    assert done.returncode == 4, shown
    assert "the Source API allows 20 exchanges a user a window (SOURCE_API_USER_EXCHANGE_LIMIT)" in shown
    assert external_limits.START_COMMAND in shown
    assert "identity provider allows" not in shown  # its limits are the suite's, high enough
    assert " passed" not in shown  # no test ran
    assert " failed" not in shown


def test_a_stack_with_high_limits_runs_the_tests(stack):
    done = external_run(stack, stack["source-api"].url)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
