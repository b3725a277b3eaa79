"""The bounded load run (benchmarks/load_run.py, `make load`) in a small configuration.

It starts a stack of its own and runs 5 users, 2 clients each, for 10 s. What must hold
whatever the machine: no 5xx, no answer with another user's data (or nobody's), every
request answered, and each user's login exchanged once. The figures of a full run are
in docs/reliability.md, "Load run"; none of the timings is asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_a_small_load_run_has_no_5xx_and_no_cross_user_answer():
    if os.environ.get("E2E_EXTERNAL"):
        pytest.skip("E2E_EXTERNAL: the suite does not start processes of its own")
    command = [
        sys.executable,
        "-m",
        "benchmarks.load_run",
        "--users",
        "5",
        "--seconds",
        "10",
        "--refresh",
        "3",
        "--json",
    ]
    # A cap on a hung run, not a timing assertion: start-up, 5 logins, 10 s of load.
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert finished.stdout.strip(), finished.stderr
    result = json.loads(finished.stdout.strip().splitlines()[-1])

    assert result["requests"] > 0, result
    assert result["5xx"] == 0, result
    assert result["cross_user"] == 0, result
    assert result["wrong_data"] == 0, result
    assert result["no_answer"] == {}, result
    assert set(result["statuses"]) == {"200"}, result
    assert set(result["refreshes"]) == {"200"}, result
    # Each user's login was exchanged exactly once, however many of the user's clients called
    # at the same time and however often the access token was refreshed meanwhile.
    assert result["access_tokens_per_user"]["min"] > 1, result  # refreshed during the run
    assert result["exchanges_beyond_one_a_login"] == {"min": 0, "max": 0}, result
    assert finished.returncode == 0, finished.stderr
