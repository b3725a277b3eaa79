"""What the flow inspector page shows, built from the hops kept for the session.

The record holds the last login, call and refresh (``{"login": {"at": ..., "hops": [...]},
...}``); the page lays their hops out under the tutorial's five steps, with the tokens
they carried decoded and the user's token compared with the Target API token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from obo_common.http_trace import MASK

from . import curl_commands
from .token_display import (
    Decoded,
    SeenToken,
    as_dict,
    claim_diff,
    decode,
    last_of,
    looks_like_token,
    shorten,
    tokens_on_the_way,
)
from .troubleshooting_cases import STEPS

# "step_up": the call that met a step-up challenge (RFC 9470), kept across the login it asked for.
ACTION_ORDER = ("step_up", "login", "call", "refresh")
_HIDDEN_HEADERS = {"user-agent", "accept-encoding", "connection", "content-length"}  # and Accept: */*


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    short: str | None = None  # a token, shown shortened with a "show" toggle
    variable: str | None = None  # a masked secret: the environment variable that holds it


@dataclass
class HopView:
    anchor: str
    action: str
    hop: dict
    headers: list[Field]
    params: list[Field]
    request_json: str | None
    body: str | None
    body_in_full: str | None  # the body with whole tokens, when the first one is shortened
    curl: str | None
    caveat: str | None

    @property
    def response(self) -> dict:
        return as_dict(self.hop.get("response"))

    @property
    def request(self) -> dict:
        return as_dict(self.hop.get("request"))

    @property
    def failed(self) -> bool:
        status = self.response.get("status")
        return bool(self.hop.get("error")) or (isinstance(status, int) and status >= 400)


@dataclass(frozen=True)
class StepView:
    number: str
    name: str
    hops: list[HopView]

    @property
    def outcome(self) -> str:
        """What its hops got, in order: "200", "401, 200", "cache hit", "no answer"."""
        return ", ".join(_outcome(view.hop) for view in self.hops) or "not yet"


def _outcome(hop: dict) -> str:
    if hop.get("cache") == "hit":
        return "cache hit"
    response = hop.get("response")
    return str(response.get("status")) if isinstance(response, dict) else "no answer"


@dataclass
class InspectorPage:
    actions: list[dict]
    steps: list[StepView]
    tokens: list[SeenToken]
    user_token: Decoded | None = None
    target_token: Decoded | None = None
    diff: list = field(default_factory=list)
    #: the RFC 9470 challenges the step-up call met, as (who answered, WWW-Authenticate)
    step_up_challenges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.actions


def build(record: dict | None, held: dict[str, str]) -> InspectorPage:
    record = record if isinstance(record, dict) else {}
    actions = [
        {"action": name, **record[name]}
        for name in ACTION_ORDER
        if isinstance(record.get(name), dict) and isinstance(record[name].get("hops"), list)
    ]
    actions.sort(key=lambda action: action.get("at") or 0)
    views: list[HopView] = []
    for action in actions:
        action["hops"] = [hop for hop in action["hops"] if isinstance(hop, dict)]
        for hop in action["hops"]:
            views.append(_hop_view(hop, action["action"], f"hop-{len(views) + 1}"))
    steps = [StepView(n, STEPS[n], [v for v in views if str(v.hop.get("step")) == n]) for n in "12345"]
    page = InspectorPage(actions, steps, tokens_on_the_way([v.hop for v in views], held))
    page.step_up_challenges = _step_up_challenges(actions)
    call: list[dict] = next((action["hops"] for action in actions if action["action"] == "call"), [])
    user, target = last_of(call, "access"), last_of(call, "target")
    if user and target:
        page.user_token, page.target_token = decode(user), decode(target)
        user_claims, target_claims = page.user_token.claims, page.target_token.claims
        if user_claims is not None and target_claims is not None:
            page.diff = claim_diff(user_claims, target_claims)
    return page


def _step_up_challenges(actions: list[dict]) -> list[tuple[str, str]]:
    """The ``insufficient_user_authentication`` challenges of the call a step-up login followed."""
    found = []
    for action in actions:
        if action["action"] != "step_up":
            continue
        for hop in action["hops"]:
            headers = as_dict(as_dict(hop.get("response")).get("headers"))
            challenge = headers.get("WWW-Authenticate")
            if isinstance(challenge, str) and "insufficient_user_authentication" in challenge:
                found.append((str(hop.get("callee") or "?"), challenge))
    return found


def _hop_view(hop: dict, action: str, anchor: str) -> HopView:
    request, response, secrets = as_dict(hop.get("request")), as_dict(hop.get("response")), as_dict(hop.get("secrets"))
    headers, form = as_dict(request.get("headers")), as_dict(request.get("form"))
    body = response.get("body")
    shown, in_full = pretty(body, short=True), pretty(body, short=False)
    return HopView(
        anchor=anchor,
        action=action,
        hop=hop,
        headers=[
            _field(k, v) for k, v in headers.items() if k.lower() not in _HIDDEN_HEADERS and (k, v) != ("Accept", "*/*")
        ],
        params=[_field(k, v, secrets) for k, v in form.items()],
        request_json=pretty(request.get("json"), short=True),
        body=shown,
        body_in_full=in_full if in_full != shown else None,
        curl=curl_commands.curl(hop),
        caveat=curl_commands.caveat(hop),
    )


def _field(name: str, value: Any, secrets: dict | None = None) -> Field:
    value = str(value)
    if value == MASK:
        return Field(name, value, variable=(secrets or {}).get(name))
    return Field(name, value, short=shorten(value) if looks_like_token(name, value) else None)


def pretty(body: Any, short: bool) -> str | None:
    """A body as indented JSON (text as it came), tokens shortened when ``short``."""
    if body is None:
        return None
    if isinstance(body, str):
        return body
    return json.dumps(_shortened(body) if short else body, indent=2, ensure_ascii=False)


def _shortened(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _shortened(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v, name) for v in value]
    return shorten(value) if looks_like_token(name, value) else value
