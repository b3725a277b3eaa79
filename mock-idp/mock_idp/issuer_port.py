"""The issuer's port against the port this server is reachable on, told at start.

Tokens and discovery name the issuer, and browsers are sent to it: an issuer on another
port than the one this server listens on (or Docker Compose publishes, MOCK_IDP_PORT)
gives a healthy stack whose logins go nowhere. A warning, not a failure: behind a proxy
the difference can be meant. (The same check as obo_common.public_address, which this
image does not install.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit


def reachable_port(environ: Mapping[str, str] = os.environ) -> int | None:
    """MOCK_IDP_PORT (the published port), else the port of MOCK_IDP_BIND; None if neither."""
    for value in (environ.get("MOCK_IDP_PORT"), (environ.get("MOCK_IDP_BIND") or "").rpartition(":")[2]):
        if value and value.isdigit():
            return int(value)
    return None


def mismatch(issuer: str, port: int | None) -> str | None:
    parts = urlsplit(issuer)
    try:
        named = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        named = None
    if port is None or named is None or named == port:
        return None
    return (
        f"mock-idp: warning: its issuer (MOCK_IDP_ISSUER, from OIDC_ISSUER) is {issuer} (port {named}) "
        f"but this server is reachable on port {port} (MOCK_IDP_PORT): browsers sent to the issuer "
        f"will not reach it. Set both to the same port (docs/configuration.md, Ports); for a real "
        f"tenant, run without mock-idp (docker-compose.tenant.yml)."
    )


def warn_if_elsewhere(issuer: str) -> str | None:
    warning = mismatch(issuer, reachable_port())
    if warning:
        print(warning, file=sys.stderr, flush=True)
    return warning
