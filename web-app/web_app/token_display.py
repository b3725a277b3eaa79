"""Tokens as the flow inspector shows them: found in the recorded hops, decoded for display
and compared claim by claim (``obo_common.token_display`` decodes and compares, as it
does for the terminal walkthrough; this module finds the tokens and words the rows).

Decoding here is for reading only: no signature is checked (the APIs verify every token
they accept). Anything that is not a readable JWT (an opaque refresh token, a mangled
value) is shown as "not a JWT", never an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from obo_common import token_display
from obo_common.bearer import bearer_token
from obo_common.http_trace import MASK

KINDS = {
    "access": "Your access token (for the Source API)",
    "id": "Your ID token",
    "refresh": "Your refresh token",
    "target": "The Target API token (exchanged by the Source API)",
    "actor": "The Source API's actor token (its own, sent with the exchange)",
    "target_refresh": "The Target API refresh token (held by the Source API)",
}
TIME_CLAIMS = ("iat", "exp", "nbf", "auth_time")
RULE_NAMESPACE = "https://obo.example.com/"  # the sample rule's (mock-idp/rules/)
BAD_TIME = "not a time"


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
    decoded = token_display.decode_unverified(token)
    raw = token if isinstance(token, str) else str(token)
    return Decoded(raw, *decoded) if decoded else Decoded(raw)


def shorten(value: str, keep: int = 14) -> str:
    return value if len(value) <= 2 * keep + 6 else f"{value[:keep]}…{value[-6:]}"


def looks_like_token(name: str, value: Any) -> bool:
    """Worth shortening on the page: a JWT, or a long value of a field that holds a secret."""
    if not isinstance(value, str):
        return False
    if value.count(".") == 2 and value.startswith("eyJ"):
        return True
    named = name.lower() in {
        "access_token",
        "id_token",
        "refresh_token",
        "subject_token",
        "actor_token",
        "code",
        "code_verifier",
    }
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
    def acted(self) -> str | None:
        """Who called on the user's behalf, for a delegated token (its ``act`` chain)."""
        return token_display.describe_act_chain(token_display.act_chain(self.decoded.claims or {}))

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
    if token := bearer_token(authorization):
        kind = "access" if hop.get("step") == "2" else "target"
        yield kind, token, f"{where}: Authorization header"
    form = as_dict(request.get("form"))
    if isinstance(form.get("subject_token"), str):
        yield "access", form["subject_token"], f"{where}: subject_token sent"
    if isinstance(form.get("actor_token"), str):
        yield "actor", form["actor_token"], f"{where}: actor_token sent"
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
        if value == MASK:  # a credential of the Source API's own, masked in its trace
            continue
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
    """The user's access token and the Target API token, claim by claim, in
    ``obo_common.token_display``'s order (the claims the exchange decides first)."""
    return [
        ClaimRow(
            row.claim,
            _shown(row.claim, row.first, row.derived),
            _shown(row.claim, row.second, row.derived),
            row.change != token_display.SAME,
            row.claim.startswith(("https://", "http://")),
        )
        for row in token_display.claim_diff(user, target)
    ]


def _shown(name: str, value: Any, derived: bool) -> str:
    if value is token_display.MISSING:
        return "(absent)"
    if derived:  # the lifetime, in seconds
        return f"{value} s ({token_display.duration(value)})"
    return show(name, value)


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
