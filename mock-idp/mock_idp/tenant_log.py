"""Tenant log entries: one per interaction, the way a user diagnoses a failure.

Event types are the imitated provider's (``s``, ``f``, ``seacft``, ``feacft``, ...); each
grant declares its own (``grants/registry.py``), the others are listed here.
Entries carry identifiers only: never a secret, a password or a token value.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from functools import cache, lru_cache

from flask import current_app, has_request_context, request

from . import clock

# The events of no grant: logins, logout, revocation, warnings and limits.
OTHER_DESCRIPTIONS = {
    "s": "Success Login",
    "f": "Failed Login",
    "srrt": "Refresh Token Revoked",
    "slo": "Success Logout",
    "w": "Warning",
    "api_limit": "Rate Limit Exceeded",
    "limit_wc": "Blocked Account",
    "sapi": "Success API Operation",
    "gd_auth_succeed": "MFA Authentication Success",
    "gd_auth_failed": "MFA Authentication Failed",
}


@cache
def descriptions() -> dict[str, str]:
    """Every event type this server writes, with its description."""
    # Imported here: the grants write their entries through this module.
    from .grants.registry import LOG_DESCRIPTIONS

    return {**OTHER_DESCRIPTIONS, **LOG_DESCRIPTIONS}


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The longest text an entry keeps of one value: many values come from the caller (a
# client_id, a scope, a grant type, an error quoting them) and entries are written for
# unauthenticated requests, so what one request can store is bounded.
MAX_TEXT = 200
MAX_ITEMS = 20  # of a list or an object in ``details``


def _cut(value):
    """``value`` with every string in it at most MAX_TEXT characters (an ellipsis marks a
    cut), and every list or object at most MAX_ITEMS long."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"
    if isinstance(value, dict):
        return {_cut(key): _cut(item) for key, item in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, list | tuple):
        return [_cut(item) for item in value[:MAX_ITEMS]]
    return value


def _request_id() -> dict:
    """The caller's X-Request-Id, when it sent a sane one: links the entry to its log lines."""
    value = request.headers.get("X-Request-Id", "") if has_request_context() else ""
    return {"request_id": value} if _REQUEST_ID.match(value) else {}


def record(
    type: str,
    description: str | None = None,
    *,
    client_id: str | None = None,
    audience: str | None = None,
    user_id: str | None = None,
    details: dict | None = None,
) -> None:
    idp = current_app.extensions["mock_idp"]
    client = idp.tenant().client(client_id) if client_id else None
    now = clock.now()
    entry = {
        "log_id": secrets.token_hex(12),
        "date": _date(now),
        "type": type,
        "description": description or descriptions().get(type, type),
        "client_id": client_id,
        "client_name": client.name if client else None,
        "audience": audience,
        "user_id": user_id,
        "ip": request.remote_addr if has_request_context() else None,
        "details": {**(details or {}), **_request_id()},
    }
    idp.storage.append_log(
        _cut(entry),
        keep=idp.settings.log_retention_entries,
        since=_date(now - idp.settings.log_retention_days * 24 * 3600),
    )


@lru_cache(maxsize=16)  # an entry's date and its retention bound: the same few seconds, request after request
def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
