"""Tokens as people read them: a JWT's header and claims, and how two tokens differ.

For the terminal walkthrough (tools/workshop/walkthrough.py) and the web app's inspector. Display
only: nothing here verifies a signature, so nothing here may decide whether a token is
accepted (that is ``AccessTokenValidator``'s job).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

# The claims the On-Behalf-Of flow changes (audience, scope, client) and keeps, in the order
# a reader compares them; every other claim follows, by name.
KEY_CLAIMS = ("aud", "scope", "client_id", "azp", "sub", "iss", "iat", "exp", "auth_time", "jti")
TIME_CLAIMS = ("iat", "exp", "nbf", "auth_time")
LIFETIME = "lifetime (exp - iat)"

SAME, CHANGED, ONLY_FIRST, ONLY_SECOND = "same", "changed", "only first", "only second"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # the value of a claim a token does not have


def decode_unverified(token: Any) -> tuple[dict, dict] | None:
    """The header and claims of a compact JWS whose payload is a JSON object, unverified.

    None for anything else (an opaque refresh token, garbage, a non-string): never raises.
    """
    if not isinstance(token, str):
        return None
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(_b64url(part)) for part in parts[:2])
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def _b64url(part: str) -> bytes:
    if not part or not part.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass(frozen=True)
class ClaimRow:
    """One line of a comparison: ``first``/``second`` are MISSING where a token lacks the claim."""

    claim: str
    first: Any
    second: Any
    change: str  # SAME, CHANGED, ONLY_FIRST or ONLY_SECOND
    derived: bool = False  # computed from other claims (the lifetime), not a claim itself


def claim_diff(first: dict, second: dict) -> list[ClaimRow]:
    """Every claim of either token, side by side; the key claims first, then by name.

    A lifetime row (exp - iat) follows ``exp`` when either token has both.
    """
    names = [name for name in KEY_CLAIMS if name in first or name in second]
    names += sorted((set(first) | set(second)) - set(KEY_CLAIMS))
    rows = []
    for name in names:
        rows.append(_row(name, first.get(name, MISSING), second.get(name, MISSING)))
        if name == "exp":
            lifetimes = lifetime(first), lifetime(second)
            if lifetimes != (None, None):
                a, b = (MISSING if value is None else value for value in lifetimes)
                rows.append(_row(LIFETIME, a, b, derived=True))
    return rows


def _row(name: str, first: Any, second: Any, derived: bool = False) -> ClaimRow:
    if first is MISSING:
        change = ONLY_SECOND
    elif second is MISSING:
        change = ONLY_FIRST
    else:
        change = SAME if first == second else CHANGED
    return ClaimRow(name, first, second, change, derived)


# Nesting deeper than this is not a delegation chain a person needs to read (the provider
# allows five actors).
MAX_ACTORS = 10


def act_chain(claims: dict) -> list[str]:
    """Who acted for the subject (RFC 8693 4.1 ``act``), the current actor first, then each
    one before it; empty when the token is not delegated."""
    chain: list[str] = []
    act = claims.get("act")
    while isinstance(act, dict) and len(chain) < MAX_ACTORS:
        chain.append(str(act.get("sub", "(no sub)")))
        act = act.get("act")
    return chain


def describe_act_chain(chain: list[str]) -> str | None:
    """``source-api``, or ``b, after a`` for a nested chain; None when nobody acted."""
    return ", after ".join(chain) if chain else None


def lifetime(claims: dict) -> int | None:
    """Seconds from ``iat`` to ``exp``, when both are numbers."""
    iat, exp = claims.get("iat"), claims.get("exp")
    if _is_number(iat) and _is_number(exp):
        return int(exp - iat)
    return None


def duration(seconds: float) -> str:
    """A span of time as a person says it: ``24h``, ``1h 30m``, ``45s``, ``30d``."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    if not days and not hours:
        parts.append(f"{secs}s" if secs or not minutes else "")
    return " ".join(part for part in parts if part)


def describe_time(value: Any, now: float | None = None) -> str:
    """A NumericDate claim with its UTC time and how far from now: ``... (in 24h)``."""
    if not _is_number(value):
        return repr(value)
    now = time.time() if now is None else now
    try:
        when = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"{value}"
    delta = value - now
    relative = "now" if abs(delta) < 1 else (f"in {duration(delta)}" if delta > 0 else f"{duration(delta)} ago")
    return f"{value} ({when}, {relative})"


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
