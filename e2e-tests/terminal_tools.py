"""The repository's terminal tools (the packages in tools/), run as a person runs them, against the stack."""

from __future__ import annotations

import os
import subprocess
import sys


def tool_environment(stack) -> dict[str, str]:
    """The settings that point the tools at this stack instead of `make up`'s ports."""
    return {
        **os.environ,
        "OIDC_ISSUER": stack.issuer,
        "WEB_APP_BASE_URL": stack["web-app"].url,
        "WEB_APP_SOURCE_API_URL": stack["source-api"].url,
        "SOURCE_API_TARGET_URL": stack["target-api"].url,
    }


def run_script(module: str, *args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``python -m <module>`` with exactly ``env``, no terminal and no input; its output kept."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_tool(
    stack, module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``python -m <module>`` against ``stack``; ``env`` adds to or replaces settings."""
    return run_script(module, *args, env={**tool_environment(stack), **(env or {})}, timeout=timeout)
