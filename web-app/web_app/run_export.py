"""The recorded run as files an attendee can keep or share: HAR 1.2 and one JSON document.

Both are built from the flow inspector's record (the last login, call and refresh). Secrets
were masked when the hops were recorded (``obo_common.http_trace``) and stay so; tokens are
shortened the way the page shows them (``token_display.shorten``: ``eyJhbGciOiJSUz…x1Y2Zw``),
so a shared file holds no usable token. With ``whole_tokens`` they are kept as recorded,
for the attendee's own use of their demo tokens.

HAR has no place for a request that was not made, so a cache hit is only in the JSON
document; every HAR entry carries the hop's step, title, caller and callee as custom
``_step``, ``_title``, ``_caller``, ``_callee`` fields (HAR 1.2 allows fields starting
with ``_``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from obo_common import flow_sequence
from obo_common.flow_sequence import LANES

from . import hop_cases
from .inspector_page import ACTION_ORDER
from .token_display import looks_like_token, shorten

CREATOR = {"name": "On-Behalf-Of demo web app, flow inspector", "version": "1"}
FORMAT = "obo-flow-inspector-run"
# A JWT anywhere inside a longer text (an HTML page, an error message).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def actions_of(record: Any) -> list[dict]:
    """The record's actions in the order they happened: ``[{"action", "at", "status", "hops"}]``."""
    record = record if isinstance(record, dict) else {}
    actions = [
        {
            "action": name,
            "at": record[name].get("at") if isinstance(record[name].get("at"), int) else 0,
            "status": record[name].get("status"),
            "hops": [hop for hop in record[name]["hops"] if isinstance(hop, dict)],
        }
        for name in ACTION_ORDER
        if isinstance(record.get(name), dict) and isinstance(record[name].get("hops"), list)
    ]
    return sorted(actions, key=lambda action: action["at"])


def masked(value: Any, name: str = "", whole_tokens: bool = False) -> Any:
    """``value`` with every token shortened as the page shows it (kept whole if asked)."""
    if whole_tokens:
        return value
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, name) for v in value]
    if isinstance(value, str):
        if looks_like_token(name, value):
            return shorten(value)
        return _JWT.sub(lambda match: shorten(match.group(0)), value)
    return value


def document(record: Any, whole_tokens: bool = False, now: float | None = None) -> dict:
    """The run as one JSON document: the actions, every hop (with its anchor on the page and
    a failure's case) and the sequence the diagram draws."""
    actions = actions_of(record)
    hops: list[dict] = []
    anchors: list[str | None] = []
    for action in actions:
        for hop in action["hops"]:
            anchors.append(f"hop-{len(anchors) + 1}")
            hops.append({"action": action["action"], "anchor": anchors[-1], **masked(hop, "", whole_tokens)})
    sequence = flow_sequence.arrows(hops, hop_cases.case_of, anchors)
    return {
        "format": FORMAT,
        "version": 1,
        "exported_at": _iso(now if now is not None else datetime.now(UTC).timestamp()),
        "tokens": "whole" if whole_tokens else "shortened",
        "actions": [{k: action[k] for k in ("action", "at", "status")} for action in actions],
        "hops": hops,
        "sequence": [
            {**asdict(arrow), "from": LANES[arrow.source], "to": LANES[arrow.target], "label": arrow.label}
            for arrow in sequence
        ],
    }


def har(record: Any, whole_tokens: bool = False) -> dict:
    """The run as HAR 1.2: a page per action, an entry per request made."""
    pages, entries = [], []
    for action in actions_of(record):
        pages.append(
            {
                "startedDateTime": _iso(action["at"]),
                "id": action["action"],
                "title": f"{action['action']} (answered {action['status']})",
                "pageTimings": {},
            }
        )
        elapsed = 0.0
        for hop in action["hops"]:
            request = hop.get("request")
            if not isinstance(request, dict) or not isinstance(request.get("url"), str):
                continue  # a cache hit: no request was made
            duration = hop.get("duration_ms") if isinstance(hop.get("duration_ms"), int | float) else 0
            entries.append(_entry(action, hop, masked(request, "", whole_tokens), elapsed, duration, whole_tokens))
            elapsed += duration
    return {
        "log": {
            "version": "1.2",
            "creator": CREATOR,
            "pages": pages,
            "entries": entries,
            "comment": "Tokens "
            + ("kept whole" if whole_tokens else "shortened as the page shows them")
            + "; secrets masked. Cache hits (no request made) are in the JSON export.",
        }
    }


def _entry(action: dict, hop: dict, request: dict, elapsed: float, duration: float, whole: bool) -> dict:
    url = request["url"]
    response = hop.get("response") if isinstance(hop.get("response"), dict) else None
    entry = {
        "pageref": action["action"],
        "startedDateTime": _iso(action["at"] + elapsed / 1000),
        "time": duration,
        "request": {
            "method": str(request.get("method") or "GET"),
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(request.get("headers")),
            "queryString": _pairs(dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))),
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": _response(masked(response, "", whole) if response is not None else None, hop.get("error")),
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "_step": str(hop.get("step")),
        "_title": str(hop.get("title")),
        "_caller": str(hop.get("caller")),
        "_callee": str(hop.get("callee")),
        "_requestId": str(hop.get("request_id")),
    }
    form, body = request.get("form"), request.get("json")
    if isinstance(form, dict):
        params = _pairs(form)
        entry["request"]["postData"] = {
            "mimeType": "application/x-www-form-urlencoded",
            "params": params,
            "text": urlencode([(p["name"], p["value"]) for p in params]),
        }
    elif body is not None:
        entry["request"]["postData"] = {"mimeType": "application/json", "text": _text(body)}
    return entry


def _response(response: Any, error: Any) -> dict:
    if not isinstance(response, dict):  # no answer: HAR's way is status 0
        return {
            "status": 0,
            "statusText": str(error or "no answer"),
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": str(error or "no answer"),
        }
    headers: dict = response["headers"] if isinstance(response.get("headers"), dict) else {}
    text = _text(response.get("body"))
    status = response.get("status")
    return {
        "status": status if isinstance(status, int) and not isinstance(status, bool) else 0,
        "statusText": "",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(headers),
        "content": {
            "size": len(text.encode()),
            "mimeType": str(headers.get("Content-Type") or "x-unknown"),
            "text": text,
        },
        "redirectURL": str(headers.get("Location") or ""),
        "headersSize": -1,
        "bodySize": -1,
    }


def _pairs(mapping: Any) -> list[dict]:
    return [{"name": str(k), "value": str(v)} for k, v in mapping.items()] if isinstance(mapping, dict) else []


def _text(body: Any) -> str:
    if body is None:
        return ""
    return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
