"""The ``Bearer`` scheme of RFC 6750 in one place: the ``Authorization`` header a caller sends,
and the ``WWW-Authenticate`` challenge an API answers with (built here, read here).
"""

from __future__ import annotations

import re

# auth-param = token "=" ( token / quoted-string ) (RFC 9110 section 11.2)
_AUTH_PARAM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme in any case), else None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_challenge(
    realm: str,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
    **extra: str | None,
) -> str:
    """``Bearer realm="...", error="...", error_description="...", scope="..."`` (the given
    ones), then ``extra`` parameters (e.g. RFC 9470's ``acr_values`` and ``max_age``)."""
    params = {"realm": realm, "error": error, "error_description": description, "scope": scope, **extra}
    return "Bearer " + ", ".join(f'{name}="{_quoted(value)}"' for name, value in params.items() if value)


def parse_bearer_challenge(header: str | None) -> dict[str, str] | None:
    """The parameters of a ``Bearer`` challenge (``{}`` for a bare one), None for another scheme."""
    scheme, _, params = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return {
        name.lower(): re.sub(r"\\(.)", r"\1", quoted) if quoted or not bare else bare
        for name, quoted, bare in _AUTH_PARAM.findall(params)
    }


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
