"""The recorded flow as a sequence: who called whom, in order, with what answer.

One model for both pictures of a run: the web app's inspector draws it as an SVG sequence
diagram (``web_app/sequence_svg.py``) and ``make walkthrough`` prints it as text
(``as_text``). It is built from hops in the shape of ``obo_common.http_trace`` (``step``,
``caller``, ``callee``, ``request``, ``response``, ``cache``, ``error``); anything of another
shape becomes an arrow that says so, never an error.

Each arrow runs from the caller's lane to the callee's; a cache hit (no call made) stays on
the caller's lane. Its kind says how it is drawn: ``call``, ``cache`` (a cache hit),
``refresh`` (step 5) or ``failed`` (no answer, or an HTTP status of 400 or more), the last
with the troubleshooting case the caller names (``case_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# The lanes, left to right, and the names a hop's caller or callee may have for each.
LANES = ("browser", "web app", "Source API", "identity provider", "Target API")
_LANE_OF = {
    "browser": 0,
    "web-app": 1,
    "web app": 1,
    "source-api": 2,
    "source api": 2,
    "identity provider": 3,
    "identity-provider": 3,
    "target-api": 4,
    "target api": 4,
}
CALL, CACHE, REFRESH, FAILED = "call", "cache", "refresh", "failed"


@dataclass(frozen=True)
class Arrow:
    number: int  # its place in the run, from 1
    step: str  # the tutorial's step ("1".."5"), or "?" when the hop names none
    title: str  # the hop's title ("Token exchange")
    source: int  # index into LANES
    target: int  # index into LANES; == source for a cache hit
    method: str
    endpoint: str  # the path called ("/oauth/token"), or "" for a cache hit
    outcome: str  # "200", "cache hit", "no answer: timed out"
    kind: str  # CALL, CACHE, REFRESH or FAILED
    case: str | None = None  # a failure's troubleshooting case ("T16")
    anchor: str | None = None  # where the hop's details are (the inspector's "hop-3")

    @property
    def label(self) -> str:
        """What the arrow says: "POST /oauth/token 200"; a failure adds its case."""
        request = f"{self.method} {self.endpoint}".strip()
        text = f"{request} {self.outcome}" if request else self.outcome
        return f"{text} ({self.case})" if self.case else text


def arrows(
    hops: Iterable[Any],
    case_of: Callable[[dict], str | None] | None = None,
    anchors: Iterable[str | None] | None = None,
) -> list[Arrow]:
    """One arrow per hop; ``case_of(hop)`` names a failed hop's case; ``anchors`` are the
    hops' detail anchors, in the same order."""
    anchor_list = list(anchors) if anchors is not None else []
    result: list[Arrow] = []
    for index, hop in enumerate(hops):
        hop = hop if isinstance(hop, dict) else {}
        anchor = anchor_list[index] if index < len(anchor_list) else None
        result.append(_arrow(len(result) + 1, hop, case_of, anchor))
    return result


def _arrow(number: int, hop: dict, case_of: Callable[[dict], str | None] | None, anchor: str | None) -> Arrow:
    request: dict = hop["request"] if isinstance(hop.get("request"), dict) else {}
    response: dict | None = hop["response"] if isinstance(hop.get("response"), dict) else None
    step = str(hop.get("step")) if str(hop.get("step")) in ("1", "2", "3", "4", "5") else "?"
    source = lane(hop.get("caller"))
    hit = hop.get("cache") == "hit"
    target = source if hit else lane(hop.get("callee"), default=source)
    status = response.get("status") if response else None
    if hit:
        outcome = "cache hit"
    elif isinstance(status, int) and not isinstance(status, bool):
        outcome = str(status)
    else:
        outcome = "no answer" + (f": {hop['error']}" if isinstance(hop.get("error"), str) and hop["error"] else "")
    # An OAuth error may come back in a redirect (the /authorize answer): a failure too.
    redirected_error = _redirected_error(response, status)
    if redirected_error:
        outcome += f" {redirected_error}"
    failed = not hit and (
        response is None or not isinstance(status, int) or status >= 400 or bool(hop.get("error")) or redirected_error
    )
    kind = FAILED if failed else CACHE if hit else REFRESH if step == "5" else CALL
    case = None
    if failed and case_of is not None:
        named = case_of(hop)
        case = named if isinstance(named, str) else None
    return Arrow(
        number=number,
        step=step,
        title=str(hop.get("title") or "a call"),
        source=source,
        target=target,
        method="" if hit else str(request.get("method") or "").upper()[:10],
        endpoint="" if hit else _endpoint(request.get("url")),
        outcome=outcome[:80],
        kind=kind,
        case=case,
        anchor=anchor,
    )


def _redirected_error(response: dict | None, status: Any) -> str:
    body = response.get("body") if response else None
    redirect = isinstance(status, int) and 300 <= status < 400
    if redirect and isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"][:40]
    return ""


def lane(name: Any, default: int = 1) -> int:
    """The lane of a caller or callee, by the names hops use; the web app's for an unknown one."""
    return _LANE_OF.get(str(name).lower(), default) if isinstance(name, str) else default


def _endpoint(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return (path or "/")[:60]


def as_text(sequence: list[Arrow]) -> list[str]:
    """The sequence as lines for a terminal: number, step, who called whom, what and the answer."""
    if not sequence:
        return ["(nothing recorded)"]
    width = max(len(name) for name in LANES)
    lines = []
    for arrow in sequence:
        who = f"{LANES[arrow.source]:<{width}} -> {LANES[arrow.target]:<{width}}"
        if arrow.kind == CACHE:
            who = f"{LANES[arrow.source]:<{width}}    {'(its cache)':<{width}}"
        mark = {FAILED: "  <- failed", REFRESH: "  (refresh)"}.get(arrow.kind, "")
        lines.append(f"{arrow.number:>2}. step {arrow.step}  {who}  {arrow.label}{mark}")
    return lines
