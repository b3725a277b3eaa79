"""The ``Bearer`` scheme of RFC 6750 for the provider's own protected endpoints (userinfo, the
Management API): the token a caller sends, and the challenge answered when it will not do.

The app services have the same two functions in ``obo_common.bearer``; mock-idp stands in
for an external provider and shares no code with its clients, so it keeps its own.
"""

from __future__ import annotations

import re

# b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 section 2.1)
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme in any case), else None: a
    credential that is not one b64token is malformed (RFC 6750 section 3.1)."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _B64TOKEN.fullmatch(token):
        return None
    return token


def bearer_challenge(
    realm: str, error: str | None = None, description: str | None = None, scope: str | None = None
) -> str:
    """``Bearer realm="...", error="...", error_description="...", scope="..."`` (the given ones)."""
    params = {"realm": realm, "error": error, "error_description": description, "scope": scope}
    return "Bearer " + ", ".join(f'{name}="{_quoted(value)}"' for name, value in params.items() if value)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
