"""Tenant logs: ``GET /api/v2/logs`` for programs and ``/logs`` for people.

Filters: ``type`` (comma-separated), ``client_id``, ``user_id``, ``audience``, and
``from``/``to`` (ISO 8601 times, inclusive); paging with ``page`` (from 0) and
``per_page`` (1-100). Newest first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request

from ..management_auth import ApiError, render_api_error, requires_scope
from ..provider import idp
from ..tenant_log import DESCRIPTIONS

bp = Blueprint("logs", __name__)
bp.register_error_handler(ApiError, render_api_error)


def _time(name: str) -> str | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"Query validation error: {name} must be an ISO 8601 time", "invalid_query_string"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _number(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name, str(default))
    if not value.isdigit() or not low <= int(value) <= high:
        raise ApiError(
            400,
            f"Query validation error: {name} must be a number from {low} to {high}",
            "invalid_query_string",
        )
    return int(value)


def _query():
    page, per_page = _number("page", 0, 0, 100_000), _number("per_page", 50, 1, 100)
    types = tuple(t for t in request.args.get("type", "").split(",") if t)
    entries, total = idp().storage.logs(
        limit=per_page,
        offset=page * per_page,
        types=types,
        since=_time("from"),
        until=_time("to"),
        client_id=request.args.get("client_id"),
        user_id=request.args.get("user_id"),
        audience=request.args.get("audience"),
    )
    return entries, total, page, per_page


@bp.get("/api/v2/logs")
@requires_scope("read:logs")
def search_logs():
    entries, total, page, per_page = _query()
    if request.args.get("include_totals") == "true":
        return jsonify(start=page * per_page, limit=per_page, length=len(entries), total=total, logs=entries)
    return jsonify(entries)


@bp.get("/api/v2/logs/<log_id>")
@requires_scope("read:logs")
def get_log(log_id):
    entries, _ = idp().storage.logs(limit=1, log_id=log_id)
    if not entries:
        raise ApiError(404, "The log entry does not exist", "inexistent_log")
    return jsonify(entries[0])


@bp.get("/logs")
def logs_page():
    """For people at a workshop: the same entries, filterable. Open, as the demo tenant is local."""
    try:
        entries, total, page, per_page = _query()
        problem = None
    except ApiError as error:
        entries, total, page, per_page, problem = [], 0, 0, 50, error.message
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "logs.html",
        entries=entries,
        total=total,
        page=page,
        per_page=per_page,
        args=args,
        problem=problem,
        event_types=DESCRIPTIONS,
        page_url=lambda n: "/logs?" + urlencode({**args, "page": n}),
        tenant=idp().tenant(),
    )
