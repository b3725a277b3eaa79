"""Failed logins counted per account and per client address, in SQLite (shared by workers).

Only failures count: a busy address that logs in correctly (a class, the e2e suite) is
never slowed down. Past a bound, the form refuses that account or address, without
checking the password, until the oldest failure in the window is older than the window.
"""

from __future__ import annotations

from . import clock
from .provider import idp


def _account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def _address_key(address: str | None) -> str:
    return "address:" + (address or "unknown")


def blocked_until(email: str, address: str | None) -> int | None:
    """When the login form takes this account and address again; None when it does now."""
    settings = idp().settings
    window, now = settings.login_failure_window, clock.now()
    until = None
    for key, limit in (
        (_account_key(email), settings.login_failures_per_account),
        (_address_key(address), settings.login_failures_per_address),
    ):
        count, oldest = idp().storage.login_failures(key, now - window)
        if count >= limit and oldest is not None:
            until = max(until or 0, oldest + window)
    return until


def record_failure(email: str, address: str | None) -> bool:
    """Count one failed login; True when it is the one that blocks the account."""
    settings = idp().settings
    storage, now = idp().storage, clock.now()
    storage.forget_login_failures_before(now - settings.login_failure_window)
    storage.add_login_failure([_account_key(email), _address_key(address)], now)
    count, _ = storage.login_failures(_account_key(email), now - settings.login_failure_window)
    return count == settings.login_failures_per_account


def unblock(email: str) -> None:
    idp().storage.clear_login_failures(_account_key(email))


def unblock_everyone() -> None:
    """Every account and every address takes logins again (``make reset``)."""
    idp().storage.clear_all_login_failures()
