"""Tenant logs: ``GET``/``DELETE /api/v2/logs`` for programs, ``/logs`` and its live
feed ``/logs/feed`` for people.

Filters: ``type`` (comma-separated), ``client_id``, ``user_id``, ``audience``, and
``from``/``to`` (ISO 8601 times, inclusive); paging with ``page`` (from 0) and
``per_page`` (1-100). Newest first. The page and the feed also take ``management=show``:
without it they leave out the Management API's own token requests. They are open to
clients on this machine only; others need a token with ``read:logs``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import wraps
from ipaddress import ip_address
from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request
from markupsafe import Markup

from ..management_auth import ApiError, render_api_error, requires_scope
from ..management_log import record_change
from ..provider import idp
from ..tenant_log import descriptions

bp = Blueprint("logs", __name__)
bp.register_error_handler(ApiError, render_api_error)
bp.after_request(record_change)

LOG_ID = re.compile(r"^[0-9a-f]{24}$")  # tenant_log.record: secrets.token_hex(12)
# The page counts the entries of a search up to this many (or up to the end of the page it
# shows), then says "more than": a poll or a page must not cost a count of the whole log.
COUNTED_AT_MOST = 1000
# Where a long identifier may break on a narrow column: after "https://", after "auth0|".
BREAK_AFTER = re.compile(r"(?<=://)|(?<=\|)")


def _invalid(message: str) -> ApiError:
    return ApiError(400, f"Query validation error: {message}", "invalid_query_string")


def _time(name: str) -> str | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)  # OverflowError at the ends of the calendar
    except (ValueError, OverflowError):
        raise _invalid(f"{name} must be an ISO 8601 time") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _number(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name, str(default))
    # isascii: "²".isdigit() is true, and int("²") raises.
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise _invalid(f"{name} must be a number from {low} to {high}")
    return int(value)


def _filters() -> dict:
    """The search filters of the query, checked: a bad one raises a 400 naming it."""
    return {
        "types": tuple(t for t in request.args.get("type", "").split(",") if t),
        "since": _time("from"),
        "until": _time("to"),
        "client_id": request.args.get("client_id"),
        "user_id": request.args.get("user_id"),
        "audience": request.args.get("audience"),
    }


def _showing_management() -> bool:
    value = request.args.get("management") or "hide"
    if value not in ("show", "hide"):
        raise _invalid("management must be show or hide")
    return value == "show"


def _management_clients() -> tuple[str, ...]:
    """The clients granted the Management API (``management``): whose token requests are its own."""
    audience = idp().management_audience
    return tuple(
        g.client_id for g in idp().tenant().client_grants if g.audience == audience and g.subject_type == "client"
    )


def _people_filters() -> dict:
    """What the page and the feed search: the filters, the Management API's entries hidden."""
    hidden = () if _showing_management() else _management_clients()
    return {**_filters(), "hide_client_credentials_of": hidden}


# -- the Management API ----------------------------------------------------------------


@bp.get("/api/v2/logs")
@requires_scope("read:logs")
def search_logs():
    page, per_page = _number("page", 0, 0, 100_000), _number("per_page", 50, 1, 100)
    totals = request.args.get("include_totals") == "true"
    # Counted only when asked for (and the log is bounded: MOCK_IDP_LOG_RETENTION_ENTRIES).
    entries, total = idp().storage.logs(
        limit=per_page, offset=page * per_page, count_at_most=None if totals else 0, **_filters()
    )
    if totals:
        return jsonify(start=page * per_page, limit=per_page, length=len(entries), total=total, logs=entries)
    return jsonify(entries)


@bp.delete("/api/v2/logs")
@requires_scope("delete:logs")
def clear_logs():
    """The mock's own addition: an operator empties the log before a workshop. One entry
    stays: the clear itself (management_log), so a log is never emptied without a trace."""
    idp().storage.clear_logs()
    return "", 204


@bp.get("/api/v2/logs/<log_id>")
@requires_scope("read:logs")
def get_log(log_id):
    entries, _ = idp().storage.logs(limit=1, log_id=log_id)
    if not entries:
        raise ApiError(404, "The log entry does not exist", "inexistent_log")
    return jsonify(entries[0])


# -- the page and its feed: open on this machine; identifiers only ---------------------


def _on_this_machine() -> bool:
    """The client is on loopback, or this process is a container published on loopback
    only (every client that reaches it is then on this machine)."""
    return _is_loopback(request.remote_addr) or _is_loopback(idp().settings.published_on)


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ip_address(address).is_loopback
    except ValueError:
        return False


def for_this_machine_or_read_logs(view):
    """Open to a client on this machine (the demo); anyone else needs a Management API
    token with ``read:logs``, as ``GET /api/v2/logs`` does: the entries name users, their
    addresses and their failures."""
    protected = requires_scope("read:logs")(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if _on_this_machine():
            return view(*args, **kwargs)
        if not request.headers.get("Authorization"):
            raise ApiError(401, "The tenant log is open to this machine only: send a token with read:logs")
        return protected(*args, **kwargs)

    return wrapper


@bp.get("/logs/feed")
@for_this_machine_or_read_logs
def logs_feed():
    """Entries for the page's live view.

    With ``after=<log_id>``: those written after it (at most ``per_page``, the oldest of
    them; ``more`` says to ask again at once). If that entry is gone (the log was
    cleared), ``cleared`` is true and the newest entries are answered instead.
    """
    search, per_page = _people_filters(), _number("per_page", 50, 1, 100)
    after = request.args.get("after") or None
    if after and not LOG_ID.match(after):
        raise _invalid("after must be the log_id of an entry")
    storage = idp().storage
    cleared = bool(after) and not storage.logs(limit=1, log_id=after, count_at_most=0)[0]
    entries, total = storage.logs(
        limit=per_page, after=None if cleared else after, count_at_most=per_page + 1, **search
    )
    return jsonify(entries=entries, more=total > len(entries), cleared=cleared)


@bp.get("/logs")
@for_this_machine_or_read_logs
def logs_page():
    """For people at a workshop: the same entries, filterable, updated live by static/logs.js."""
    args = {k: v for k, v in request.args.items() if k not in ("page", "after") and v}
    showing_management = request.args.get("management") == "show"
    others = {k: v for k, v in args.items() if k != "management"}
    storage = idp().storage
    try:
        page, per_page = _number("page", 0, 0, 100_000), _number("per_page", 50, 1, 100)
        # One more than counted, so "more than" can be told from "exactly".
        bound = max(COUNTED_AT_MOST, (page + 1) * per_page) + 1
        entries, total = storage.logs(limit=per_page, offset=page * per_page, count_at_most=bound, **_people_filters())
        problem = None
    except ApiError as error:
        entries, total, page, per_page, problem, bound = [], 0, 0, 50, error.message, 1
    newest = storage.logs(limit=1, count_at_most=0)[0]
    tenant = idp().tenant()
    return render_template(
        "logs.html",
        entries=entries,
        total=total,
        capped=total == bound,  # then "more than total - 1"
        page=page,
        per_page=per_page,
        args=args,
        problem=problem,
        showing_management=showing_management,
        # Live on the newest page of a valid search; it polls from the newest entry of all.
        feed_url=None if problem or page else "/logs/feed?" + urlencode(args),
        after=newest[0]["log_id"] if newest else "",
        event_types=descriptions(),
        client_ids=[c.client_id for c in tenant.clients],
        audiences=[a.identifier for a in tenant.resource_servers],
        user_ids=[u.user_id for u in tenant.users],
        page_url=lambda n: "/logs?" + urlencode({**args, "page": n}),
        toggle_url="/logs?" + urlencode(others if showing_management else {**others, "management": "show"}),
        raw_json=lambda entry: json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False),
        breakable=breakable,
        issuer=idp().issuer,
        tenant=tenant,
    )


def breakable(value: str | None) -> Markup:
    """``value`` escaped, in parts a narrow column moves to the next line whole (as logs.js)."""
    parts = BREAK_AFTER.split(value) if value else []
    return Markup("").join(Markup('<span class="part">%s</span>') % part for part in parts)
