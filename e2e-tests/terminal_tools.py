"""The repository's terminal tools (scripts/), run as a person runs them, against the stack."""

from __future__ import annotations

import os
import subprocess
import sys

from launcher import ROOT  # scripts/, on the path from conftest


def tool_environment(stack) -> dict[str, str]:
    """The settings that point the tools at this stack instead of `make up`'s ports."""
    return {
        **os.environ,
        "OIDC_ISSUER": stack.issuer,
        "WEB_APP_BASE_URL": stack["web-app"].url,
        "WEB_APP_SOURCE_API_URL": stack["source-api"].url,
        "SOURCE_API_TARGET_URL": stack["target-api"].url,
    }


def run_script(script: str, *args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``scripts/<script>`` with exactly ``env``, no terminal and no input; its output kept."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_tool(
    stack, script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``scripts/<script>`` against ``stack``; ``env`` adds to or replaces settings."""
    return run_script(script, *args, env={**tool_environment(stack), **(env or {})}, timeout=timeout)
