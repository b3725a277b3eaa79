"""The token cache in Redis, shared by every Source API replica (docs/scale-out.md).

Per entry (``EntryKey.entry``, a hash) Redis holds:

- ``<prefix>entry:<hash>``: the Target API access token, its scope and times, sealed
  (cache_sealing.py), expiring at the token's expiry minus the renew margin;
- ``<prefix>renew:<hash>``: its refresh token (when one was issued), sealed, expiring with
  the user's token, so an entry past its use can still be renewed without an exchange;
- ``<prefix>login:<hash>``: a set of the login's entries (``EntryKey.login``), so a logout
  or a revoked grant drops them without scanning;
- ``<prefix>lock:<hash>``: redis-py's ``Lock`` while one replica exchanges or refreshes;
- ``<prefix>ended:<hash>``: a login that ended (logout, revoked grant), until its user
  token expires: an exchange that was under way then stores nothing for it.

Redis is a cache here, never the authority: any Redis error (down, slow past the socket
timeout, a value that does not open) is a miss, logged, and costs an exchange. After an
error Redis is left alone for ``PAUSE`` seconds, so a stopped Redis does not add a
timeout to every request; the next call after that tries it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.exceptions import LockError, RedisError
from redis.retry import Retry

from .cache_sealing import Sealer, Unsealable
from .token_cache import EntryKey, TargetToken

log = logging.getLogger(__name__)

PREFIX = "source-api:token-cache:"
#: seconds Redis is left alone after an error
PAUSE = 1.0
#: how often a replica waiting for another's exchange looks at the lock
LOCK_POLL = 0.02
T = TypeVar("T")


class RedisLink:
    """The Redis client and whether it answered lately; shared by the cache and the budget."""

    def __init__(self, client: redis.Redis, clock=time.monotonic):
        self.client = client
        self.clock = clock
        self._paused_until = 0.0
        self._down = False
        self._guard = threading.Lock()

    @classmethod
    def from_url(cls, url: str, timeout: float) -> RedisLink:
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One try: a retry would double the wait a slow Redis adds to a request.
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        return cls(client)

    def attempt(self, what: str, call: Callable[[redis.Redis], T], otherwise: T) -> T:
        """``call(client)``, or ``otherwise`` when Redis fails (or failed less than PAUSE ago)."""
        if self._paused_until > self.clock():
            return otherwise
        try:
            result = call(self.client)
        except RedisError as error:
            with self._guard:
                self._paused_until = self.clock() + PAUSE
                if not self._down:
                    log.warning("token cache: Redis failed (%s: %s); exchanging without it", what, type(error).__name__)
                self._down = True
            return otherwise
        if self._down:
            with self._guard:
                if self._down:
                    log.warning("token cache: Redis answers again; caching in it")
                self._down = False
        return result

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError:
            return False


class RedisTokenCache:
    kind = "redis"

    def __init__(self, link: RedisLink, sealer: Sealer, lock_timeout: float, clock=time.time):
        self.link = link
        self.sealer = sealer
        # The longest one exchange may hold the lock, and the longest a replica waits for it.
        self.lock_timeout = lock_timeout
        self.clock = clock
        self._local_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @classmethod
    def from_settings(cls, settings, clock=time.time) -> RedisTokenCache:
        secret = settings.token_cache_key.get_secret_value()
        # An exchange's own timeouts, and a second to store what it got.
        lock_timeout = settings.connect_timeout + settings.read_timeout + 1.0
        link = RedisLink.from_url(settings.token_cache_url, settings.token_cache_timeout)
        return cls(link, Sealer(secret), lock_timeout, clock)

    # -- entries --------------------------------------------------------------------------

    def get(self, key: EntryKey) -> TargetToken | None:
        names = (_name("entry", key.entry), _name("renew", key.entry))
        nothing: list = [None, None]
        values = self.link.attempt("read", lambda r: list(r.mget(names)), nothing)
        entry = self._open(values[0], names[0])
        renew = self._open(values[1], names[1])
        refresh_token = renew.get("refresh_token") if renew else None
        if entry:
            try:
                return TargetToken(
                    access_token=entry["access_token"],
                    expires_at=float(entry["expires_at"]),
                    scope=entry["scope"],
                    obtained_at=float(entry["obtained_at"]),
                    obtained_by=entry["obtained_by"],
                    refresh_token=refresh_token,
                )
            except (KeyError, TypeError, ValueError):
                log.warning("token cache: an entry without its fields; treated as a miss")
        if isinstance(refresh_token, str):
            # Past its use, still renewable: TargetTokens refreshes rather than exchanges.
            return TargetToken(
                access_token="", expires_at=0, scope="", obtained_at=0, obtained_by="", refresh_token=refresh_token
            )
        return None

    def put(self, key: EntryKey, token: TargetToken, keep_until: float, renew_until: float) -> None:
        now = self.clock()
        keep_ms = int((keep_until - now) * 1000)
        renew_ms = int((renew_until - now) * 1000) if token.refresh_token else 0
        if keep_ms <= 0 and renew_ms <= 0:
            return
        entry_name, renew_name, login_name = (
            _name("entry", key.entry),
            _name("renew", key.entry),
            _name("login", key.login),
        )
        value = {
            "access_token": token.access_token,
            "expires_at": token.expires_at,
            "scope": token.scope,
            "obtained_at": token.obtained_at,
            "obtained_by": token.obtained_by,
        }

        def store(r: redis.Redis) -> None:
            if r.exists(_name("ended", key.login)):
                return
            with r.pipeline(transaction=True) as pipe:
                if keep_ms > 0:
                    pipe.set(entry_name, self.sealer.seal(value, entry_name), px=keep_ms)
                else:
                    pipe.delete(entry_name)
                if renew_ms > 0:
                    sealed = self.sealer.seal({"refresh_token": token.refresh_token}, renew_name)
                    pipe.set(renew_name, sealed, px=renew_ms)
                else:
                    pipe.delete(renew_name)
                pipe.sadd(login_name, key.entry)
                # The index lives as long as the longest-lived entry it names.
                longest = max(keep_ms, renew_ms)
                pipe.pexpire(login_name, longest, nx=True)
                pipe.pexpire(login_name, longest, gt=True)
                pipe.execute()

        self.link.attempt("write", store, None)

    def forget(self, key: EntryKey) -> None:
        def drop(r: redis.Redis) -> None:
            with r.pipeline(transaction=True) as pipe:
                pipe.delete(_name("entry", key.entry), _name("renew", key.entry))
                pipe.srem(_name("login", key.login), key.entry)
                pipe.execute()

        self.link.attempt("forget", drop, None)

    def forget_login(self, login: str, ended_until: float = 0) -> int:
        index = _name("login", login)
        ended_ms = int((ended_until - self.clock()) * 1000)

        def drop(r: redis.Redis) -> int:
            if ended_ms > 0:
                r.set(_name("ended", login), b"1", px=ended_ms)
            entries = [_text(member) for member in r.smembers(index)]
            names = [_name(kind, entry) for entry in entries for kind in ("entry", "renew")]
            with r.pipeline(transaction=True) as pipe:
                pipe.delete(index, *names)
                pipe.execute()
            return len(entries)

        return self.link.attempt("forget a login", drop, 0)

    def forget_all(self) -> int:
        # The demo panel's reset only: a scan is fine here, never on a request's path.
        def drop(r: redis.Redis) -> int:
            # Logins that ended stay ended.
            ended = _name("ended", "").encode()
            names = [name for name in r.scan_iter(match=PREFIX + "*", count=500) if not name.startswith(ended)]
            if names:
                r.delete(*names)
            return sum(name.startswith(_name("entry", "").encode()) for name in names)

        return self.link.attempt("forget all", drop, 0)

    # -- single flight ----------------------------------------------------------------------

    @contextmanager
    def single_flight(self, key: EntryKey) -> Iterator[None]:
        # The requests of this process queue here first, so only one of them polls Redis.
        with self._guard:
            local = self._local_locks.setdefault(key.entry, threading.Lock())
            if len(self._local_locks) > 10_000:
                self._local_locks.clear()
        with local:
            lock = self.link.client.lock(
                _name("lock", key.entry),
                timeout=self.lock_timeout,
                sleep=LOCK_POLL,
                blocking_timeout=self.lock_timeout,
                raise_on_release_error=False,
            )
            held = self.link.attempt("lock", lambda _: lock.acquire(), None)
            if held is False:
                log.warning("token cache: waited %.1f s for another replica's exchange; exchanging", self.lock_timeout)
            try:
                yield
            finally:
                if held:
                    # Released only by its owner (redis-py checks the lock's token): a lock
                    # that timed out and was taken by another replica is left to it.
                    self.link.attempt("unlock", lambda _: _release(lock), None)

    def health(self) -> dict[str, Any]:
        return {"cache": self.kind, "redis": "up" if self.link.answers() else "down"}

    def _open(self, sealed: bytes | None, name: str) -> dict | None:
        if sealed is None:
            return None
        try:
            return self.sealer.open(sealed, name)
        except Unsealable as why:
            log.warning("token cache: an entry that does not open (%s); treated as a miss", why)
            return None


def _release(lock) -> None:
    try:
        lock.release()
    except LockError:
        log.warning("token cache: the exchange outlasted its lock; another replica holds it now")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _name(kind: str, digest: str) -> str:
    return f"{PREFIX}{kind}:{digest}"
