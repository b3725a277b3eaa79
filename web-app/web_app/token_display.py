"""Tokens as the flow inspector shows them: found in the recorded hops, decoded for display
and compared claim by claim.

Decoding here is for reading only: no signature is checked (the APIs verify every token
they accept). Anything that is not a readable JWT (an opaque refresh token, a mangled
value) is shown as "not a JWT", never an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = {
    "access": "Your access token (for the Source API)",
    "id": "Your ID token",
    "refresh": "Your refresh token",
    "target": "The Target API token (exchanged by the Source API)",
    "target_refresh": "The Target API refresh token (held by the Source API)",
}
TIME_CLAIMS = ("iat", "exp", "nbf", "auth_time")
RULE_NAMESPACE = "https://obo.example.com/"  # the sample rule's (mock-idp/rules/)
BAD_TIME = "not a time"
_COMPARED = ("aud", "scope", "client_id", "azp", "sub", "iss", "iat", "exp")


@dataclass(frozen=True)
class Decoded:
    raw: str
    header: dict | None = None
    claims: dict | None = None

    @property
    def is_jwt(self) -> bool:
        return self.claims is not None


def decode(token: Any) -> Decoded:
    """Header and claims of a compact JWS, unverified; ``is_jwt`` False for anything else."""
    if not isinstance(token, str):
        return Decoded(str(token))
    parts = token.split(".")
    if len(parts) != 3:
        return Decoded(token)
    try:
        header, claims = (json.loads(_unbase64(part)) for part in parts[:2])
    except (ValueError, binascii.Error):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return Decoded(token)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return Decoded(token)
    return Decoded(token, header, claims)


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def shorten(value: str, keep: int = 14) -> str:
    return value if len(value) <= 2 * keep + 6 else f"{value[:keep]}…{value[-6:]}"


def looks_like_token(name: str, value: Any) -> bool:
    """Worth shortening on the page: a JWT, or a long value of a field that holds a secret."""
    if not isinstance(value, str):
        return False
    if value.count(".") == 2 and value.startswith("eyJ"):
        return True
    named = name.lower() in {"access_token", "id_token", "refresh_token", "subject_token", "code", "code_verifier"}
    return (named or value.lower().startswith("bearer ")) and len(value) > 34


@dataclass
class SeenToken:
    kind: str
    decoded: Decoded
    seen_in: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def claim_rows(self) -> list[tuple[str, str, float | None]]:
        """(claim, value as text, the epoch to count down to for ``exp``)."""
        claims = self.decoded.claims or {}
        return [(name, show(name, value), _epoch(value) if name == "exp" else None) for name, value in claims.items()]


def tokens_in(hop: dict) -> Iterator[tuple[str, str, str]]:
    """(kind, token, where) for each token a hop sent or received."""
    ours = hop.get("caller") == "web-app"
    where = f"step {hop.get('step')}, {hop.get('title')}"
    request = as_dict(hop.get("request"))
    authorization = str(as_dict(request.get("headers")).get("Authorization", ""))
    if authorization.lower().startswith("bearer "):
        kind = "access" if hop.get("step") == "2" else "target"
        yield kind, authorization[7:].strip(), f"{where}: Authorization header"
    form = as_dict(request.get("form"))
    if isinstance(form.get("subject_token"), str):
        yield "access", form["subject_token"], f"{where}: subject_token sent"
    if isinstance(form.get("refresh_token"), str):
        yield "refresh" if ours else "target_refresh", form["refresh_token"], f"{where}: refresh_token sent"
    body = as_dict(hop.get("response")).get("body")
    if isinstance(body, dict):
        kinds = {
            "access_token": "access" if ours else "target",
            "id_token": "id",
            "refresh_token": "refresh" if ours else "target_refresh",
        }
        for name, kind in kinds.items():
            if isinstance(body.get(name), str) and body[name]:
                yield kind, body[name], f"{where}: {name} received"


def as_dict(value: Any) -> dict:
    """``value`` if it is a dict, else an empty one: hops come from other services too."""
    return value if isinstance(value, dict) else {}


def tokens_on_the_way(hops: list[dict], held: dict[str, str]) -> list[SeenToken]:
    """Every token in ``hops`` and those the web app holds now, once each, in order of kind."""
    seen: dict[str, SeenToken] = {}
    found = [found for hop in hops for found in tokens_in(hop)]
    found += [(name.removesuffix("_token"), value, "held now by the web app") for name, value in held.items()]
    for kind, value, where in found:
        token = seen.setdefault(value, SeenToken(kind, decode(value)))
        if where not in token.seen_in:
            token.seen_in.append(where)
    return sorted(seen.values(), key=lambda token: list(KINDS).index(token.kind))


def last_of(hops: list[dict], kind: str) -> str | None:
    values = [value for hop in hops for found_kind, value, _ in tokens_in(hop) if found_kind == kind]
    return values[-1] if values else None


@dataclass(frozen=True)
class ClaimRow:
    name: str
    user: str
    target: str
    changed: bool
    from_rule: bool


def claim_diff(user: dict, target: dict) -> list[ClaimRow]:
    """The user's access token and the Target API token, claim by claim: the compared
    claims first, then the lifetime, the namespaced (rule-added) claims, the rest."""
    names = [name for name in _COMPARED if name in user or name in target]
    rows = [_row(name, user.get(name), target.get(name)) for name in names]
    rows.append(_row("lifetime (exp - iat)", _lifetime(user), _lifetime(target)))
    others = sorted((set(user) | set(target)) - set(_COMPARED), key=lambda name: (not _namespaced(name), name))
    rows += [_row(name, user.get(name), target.get(name)) for name in others]
    return rows


def _row(name: str, user: Any, target: Any) -> ClaimRow:
    return ClaimRow(name, show(name, user), show(name, target), user != target, _namespaced(name))


def _namespaced(name: str) -> bool:
    return name.startswith(("https://", "http://"))


def _lifetime(claims: dict) -> str | None:
    iat, exp = _epoch(claims.get("iat")), _epoch(claims.get("exp"))
    if iat is None or exp is None:
        return None
    seconds = int(exp - iat)
    return f"{seconds} s ({seconds / 3600:g} h)" if seconds >= 3600 else f"{seconds} s"


def show(name: str, value: Any) -> str:
    """A claim's value as text; times also as UTC."""
    if value is None:
        return "(absent)"
    if name in TIME_CLAIMS and _epoch(value) is not None:
        return f"{int(value)} ({utc(value)})"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _epoch(value: Any) -> float | None:
    """``value`` if it is a time a datetime can show (JSON also allows NaN and 1e999)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and utc(value) != BAD_TIME:
        return value
    return None


def utc(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return BAD_TIME
