"""How the Source API got the data: its ``via`` object told as the hops of the flow."""

from __future__ import annotations

from dataclasses import dataclass

SUMMARIES = {
    "cache": "The Source API reused a Target API token from its cache: no exchange was needed.",
    "exchange": "The Source API exchanged your access token for a Target API token (a fresh exchange).",
    "refresh": "The Source API's Target API token had expired; it renewed it with its refresh token.",
}


@dataclass(frozen=True)
class Hop:
    step: str
    sender: str
    receiver: str
    what: str


@dataclass(frozen=True)
class Account:
    kind: str | None
    summary: str
    hops: list[Hop]


def how_obtained(via: dict | None, source_api_audience: str) -> Account:
    via = via if isinstance(via, dict) else {}
    kind = via.get("target_token")
    audience = via.get("audience", "the Target API")
    client = via.get("client_id", "its own client")
    scope = via.get("scope", "")
    hops = [Hop("2", "this app", "Source API", f"your access token (audience {source_api_audience})")]
    if kind == "exchange":
        what = f"token exchange as client {client}: your access token for a token for {audience}"
        hops.append(Hop("3", "Source API", "identity provider", what))
    elif kind == "refresh":
        hops.append(Hop("5", "Source API", "identity provider", f"refresh_token grant as client {client}"))
    elif kind == "cache":
        what = "no call to the identity provider: a cached token was still valid"
        hops.append(Hop("3", "Source API", "its token cache", what))
    what = f"the Target API token (audience {audience}, scope {scope or 'n/a'})"
    hops.append(Hop("4", "Source API", "Target API", what))
    summary = SUMMARIES.get(kind or "", "The Source API did not say how it got its Target API token.")
    return Account(kind, summary, hops)
