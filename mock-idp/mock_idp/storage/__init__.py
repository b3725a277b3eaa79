"""Durable state in SQLite: signing keys, codes, refresh tokens, consents, tenant logs.

The only place with SQL in the service: one module per group of tables, combined into the
one ``Storage`` object the rest of the service holds (swap it to leave SQLite).

Several gunicorn workers share one database file. WAL mode lets readers run beside a
writer; every state change that must not race (using a code, rotating a refresh token,
creating the first signing key) is a single conditional UPDATE or runs under
BEGIN IMMEDIATE. Each thread of each process opens its own connection.
"""

from __future__ import annotations

from .codes_and_refresh_tokens import CodesAndRefreshTokens
from .consents import Consents
from .logins import Logins
from .logs import TenantLogs
from .rate_limits import RateLimitCounters
from .signing_keys import SigningKeyRows
from .stored_settings import StoredSettings
from .tenant_state import TenantState

__all__ = ["Storage"]


class Storage(
    StoredSettings,
    TenantState,
    SigningKeyRows,
    CodesAndRefreshTokens,
    Consents,
    RateLimitCounters,
    Logins,
    TenantLogs,
):
    """All durable state of the identity provider, behind one small interface."""
