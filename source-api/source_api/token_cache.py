"""Where Target API tokens are kept between requests: what an entry is keyed by, the
interface every cache offers, and the in-process cache (the default).

``TargetTokens`` (token_exchange.py) decides when a token is used, refreshed or exchanged;
a cache only keeps entries, groups them by login (so a logout drops them all) and gives
one caller at a time the right to fill an entry (single flight). The Redis cache shared by
replicas is ``redis_token_cache.RedisTokenCache``; ``token_cache_for`` picks one from the
settings.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class TargetToken:
    access_token: str
    expires_at: float
    scope: str
    obtained_at: float
    obtained_by: str  # "exchange" or "refresh"
    refresh_token: str | None = None


@dataclass(frozen=True)
class EntryKey:
    """What makes a cached Target API token valid for a request, as two hashes.

    ``entry``: issuer, user, login, the Source API's client, audience, sorted scopes and
    profile; ``login``: issuer, user and login, the group a logout or a revoked grant drops.
    Neither holds a raw token: the login is the token's ``grant_id``, else its ``jti``, else
    the hash of the token itself.
    """

    entry: str
    login: str

    @classmethod
    def of(cls, user_token: str, claims: Mapping[str, Any] | None, settings) -> EntryKey:
        claims = claims or {}
        login = (
            ("grant", claims["grant_id"])
            if claims.get("grant_id")
            else ("jti", claims["jti"])
            if claims.get("jti")
            else ("token", hashlib.sha256(user_token.encode()).hexdigest())
        )
        who = [claims.get("iss") or settings.issuer, claims.get("sub") or "", *login]
        what = [
            settings.client_id,
            settings.target_audience,
            sorted(settings.exchange_scope.split()),
            settings.exchange_profile,
            settings.send_actor_token,
        ]
        return cls(entry=_digest([*who, *what]), login=_digest(who))


# What json.dumps(parts, separators=(",", ":")) builds on every call, built once: the same text.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _digest(parts: list) -> str:
    # JSON keeps the parts apart: ("a b", "c") and ("a", "b c") never hash alike.
    return hashlib.sha256(_COMPACT.encode(parts).encode()).hexdigest()


class TokenCache(Protocol):
    kind: str  # "memory" or "redis"

    def get(self, key: EntryKey) -> TargetToken | None:
        """The entry, or None. An entry whose access token is past its use but that still
        holds a refresh token comes back with ``expires_at`` 0 and the refresh token."""

    def put(self, key: EntryKey, token: TargetToken, keep_until: float, renew_until: float) -> None:
        """Keep ``token`` until ``keep_until`` (its expiry minus the renew margin) and its
        refresh token until ``renew_until`` (a cache may keep both longer, never serving
        an access token past ``keep_until`` plus the renew margin)."""

    def forget(self, key: EntryKey) -> None: ...

    def forget_login(self, login: str, ended_until: float = 0) -> int:
        """Drop every entry of the login (``EntryKey.login``); answers how many. Until
        ``ended_until`` nothing is stored for it again: an exchange that was under way
        when the login ended does not put its token back."""

    def forget_all(self) -> int: ...

    def single_flight(self, key: EntryKey) -> Any:
        """A context manager: one holder at a time per entry; a waiter that cannot get in
        within a bounded time goes ahead rather than fail."""

    def health(self) -> dict[str, Any]: ...


class MemoryTokenCache:
    """The cache inside this process, bounded, least recently used first out.

    Entries stay until evicted or forgotten: ``TargetTokens`` reads their expiry, and a token
    still valid is used when the identity provider cannot renew it."""

    kind = "memory"

    def __init__(self, size: int, clock=time.time):
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[str, TargetToken]] = OrderedDict()
        self._logins: dict[str, set[str]] = {}
        self._ended: dict[str, float] = {}  # login -> until when nothing is stored for it
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: EntryKey) -> TargetToken | None:
        with self._guard:
            found = self._entries.get(key.entry)
            if found:
                self._entries.move_to_end(key.entry)
            return found[1] if found else None

    def put(self, key: EntryKey, token: TargetToken, keep_until: float, renew_until: float) -> None:
        with self._guard:
            if self._ended.get(key.login, 0) > self.clock():
                return
            self._entries[key.entry] = (key.login, token)
            self._entries.move_to_end(key.entry)
            self._logins.setdefault(key.login, set()).add(key.entry)
            while len(self._entries) > self.size:
                evicted, (login, _) = self._entries.popitem(last=False)
                self._locks.pop(evicted, None)
                self._unindex(login, evicted)

    def forget(self, key: EntryKey) -> None:
        with self._guard:
            if self._entries.pop(key.entry, None):
                self._unindex(key.login, key.entry)

    def forget_login(self, login: str, ended_until: float = 0) -> int:
        with self._guard:
            now = self.clock()
            if ended_until > now:
                self._ended[login] = ended_until
            for ended in [name for name, until in self._ended.items() if until <= now]:
                del self._ended[ended]
            while len(self._ended) > self.size:
                del self._ended[next(iter(self._ended))]
            entries = self._logins.pop(login, set())
            return sum(self._entries.pop(entry, None) is not None for entry in entries)

    def forget_all(self) -> int:
        with self._guard:
            forgotten = len(self._entries)
            self._entries.clear()
            self._logins.clear()
            # A get() under way holds its own reference to its lock and finishes normally.
            self._locks.clear()
            return forgotten

    @contextmanager
    def single_flight(self, key: EntryKey) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key.entry, threading.Lock())
        with lock:
            yield

    def health(self) -> dict[str, Any]:
        return {"cache": self.kind}

    def _unindex(self, login: str, entry: str) -> None:
        entries = self._logins.get(login)
        if entries is not None:
            entries.discard(entry)
            if not entries:
                del self._logins[login]


def token_cache_for(settings, clock) -> TokenCache:
    if settings.token_cache_kind == "redis":
        from .redis_token_cache import RedisTokenCache

        return RedisTokenCache.from_settings(settings, clock)
    return MemoryTokenCache(settings.cache_size, clock)
