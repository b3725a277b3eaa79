"""Failed logins, counted so that guessing slows down without handing anyone a lockout.

As OWASP's guidance on blocking brute force describes (Authentication and Credential
Stuffing cheat sheets: login throttling, device cookies):

- failures are counted per account *and* address together (the pair), per account over
  every address, and per address over every account, in SQLite (shared by the workers),
  over a sliding window; only failures count, so a busy address that logs in correctly (a
  class, the e2e suite) is never slowed down;
- past a few free failures, a key makes the next attempt wait: FIRST_DELAY seconds after
  its last failure, doubling with each further failure, at most MAX_DELAY. The right
  password is refused only during that wait, never for the whole window;
- a browser that has logged in to the account before holds a device cookie naming it
  (signed, HttpOnly): it is slowed only by its own failures for that account, counted
  under the cookie's random id, so guessing from anywhere else (another address, another
  browser behind the same NAT) cannot keep the owner out.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from . import clock
from .provider import idp

FIRST_DELAY = 10  # seconds of wait at the first failure past the free ones
MAX_DELAY = 120  # seconds: the longest wait, however many failures
DEVICE_COOKIE = "idp_device"
DEVICE_LIFETIME = 30 * 24 * 3600  # seconds a device cookie names its accounts
DEVICE_ACCOUNTS = 10  # accounts one device cookie remembers, the latest kept


def _account(email: str) -> str:
    return email.strip().lower()


def _keys(email: str, address: str | None) -> list[tuple[str, int]]:
    """(key, free failures) that apply to an attempt: its own device's count when this
    browser logged in to the account before, else its pair, the account's and the address's."""
    settings = idp().settings
    account, where = _account(email), address or "unknown"
    if trusted_device(email):
        return [(f"device:{account}|{_device()['id']}", settings.login_failures_per_account)]
    return [
        (f"pair:{account}|{where}", settings.login_failures_per_account),
        (f"account:{account}", settings.login_failures_per_account_any_address),
        (f"address:{where}", settings.login_failures_per_address),
    ]


def _wait(failures: int, free: int) -> int:
    return 0 if failures < free else min(FIRST_DELAY * 2 ** (failures - free), MAX_DELAY)


def blocked_until(email: str, address: str | None) -> int | None:
    """When the login form takes this account from this browser again; None when it does now."""
    now = clock.now()
    since = now - idp().settings.login_failure_window
    until = None
    for key, free in _keys(email, address):
        count, latest = idp().storage.latest_login_failure(key, since)
        if latest is not None and (wait := _wait(count, free)) and latest + wait > now:
            until = max(until or 0, latest + wait)
    return until


def record_failure(email: str, address: str | None) -> bool:
    """Count one failed login; True when it is the one that starts slowing this pair down."""
    settings = idp().settings
    storage, now = idp().storage, clock.now()
    storage.forget_login_failures_before(now - settings.login_failure_window)
    keys = [key for key, _ in _keys(email, address)]
    storage.add_login_failure(keys, now)
    count, _ = storage.login_failures(keys[0], now - settings.login_failure_window)
    return count == settings.login_failures_per_account


def unblock(email: str) -> None:
    """The account takes logins again from everywhere (its pairs and its own count)."""
    account = _account(email)
    idp().storage.clear_login_failures(f"account:{account}")
    escaped = account.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    idp().storage.clear_login_failures_like(f"pair:{escaped}|%")
    idp().storage.clear_login_failures_like(f"device:{escaped}|%")


def unblock_everyone() -> None:
    """Every account and every address takes logins again (``make reset``)."""
    idp().storage.clear_all_login_failures()


# -- the device cookie ----------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="login-device")  # create_app sets it


def _digest(email: str) -> str:
    return hashlib.sha256(_account(email).encode()).hexdigest()[:32]


def _device() -> dict:
    """This browser's device cookie: ``{"id": random, "accounts": [digest, ...]}``, or empty."""
    try:
        device = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_LIFETIME)
    except BadSignature:
        return {}
    valid = isinstance(device, dict) and isinstance(device.get("id"), str) and isinstance(device.get("accounts"), list)
    return device if valid else {}


def trusted_device(email: str) -> bool:
    """True when this browser has logged in to ``email``'s account before."""
    return _digest(email) in _device().get("accounts", [])


def remember_device(response: Response, email: str) -> Response:
    """After a successful login: this browser is known to that account from now on."""
    device = _device()
    accounts = [a for a in device.get("accounts", []) if a != _digest(email)] + [_digest(email)]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(
            {"id": device.get("id") or secrets.token_urlsafe(16), "accounts": accounts[-DEVICE_ACCOUNTS:]}
        ),
        max_age=DEVICE_LIFETIME,
        httponly=True,
        secure=idp().settings.session_cookie_secure,
        samesite="Lax",
    )
    return response
