"""A service's public URL against the port it is really reachable on, told at start.

The URL a service is configured with (the issuer of mock-idp, the web app's base URL) is
what browsers are sent to; the port it listens on, or is published on by Docker Compose,
is set apart from it. When the two disagree the stack still starts healthy and a login
goes to the wrong place, so the service says so in its first log lines. A warning, not a
failure: behind a proxy the difference can be meant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit


def reachable_port(prefix: str, environ: Mapping[str, str] = os.environ) -> int | None:
    """``<PREFIX>_PORT`` (the published port, set by compose and the local launcher), else
    the port of ``<PREFIX>_BIND`` (gunicorn's address); None when neither says."""
    for value in (environ.get(f"{prefix}_PORT"), (environ.get(f"{prefix}_BIND") or "").rpartition(":")[2]):
        if value and value.isdigit():
            return int(value)
    return None


def url_port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def mismatch(service: str, setting: str, url: str, port: int | None, port_setting: str) -> str | None:
    """The warning to log when ``url`` names another port than ``port``; None when they agree."""
    named = url_port(url)
    if port is None or named is None or named == port:
        return None
    return (
        f"{service}: warning: {setting} is {url} (port {named}) but this service is reachable on port "
        f"{port} ({port_setting}): browsers sent to {setting} will not reach it. Set both to the same "
        f"port (docs/configuration.md, Ports), unless a proxy forwards {named} to {port}."
    )


def warn_if_elsewhere(service: str, setting: str, url: str, prefix: str) -> str | None:
    """Print :func:`mismatch`'s warning to stderr (gunicorn's log) and return it."""
    warning = mismatch(service, setting, url, reachable_port(prefix), f"{prefix}_PORT")
    if warning:
        print(warning, file=sys.stderr, flush=True)
    return warning
