"""Sessions in Redis (``WEB_APP_SESSION_URL``): shared by web app replicas behind one load
balancer, so a login on one is a login on all.

- Logged-in sessions: ``web-app:session:<id>``, expiring with the session, never pruned
  for room. Redis itself must not evict them either: run it with ``maxmemory-policy
  noeviction`` (its default), which the cap on pending logins keeps affordable.
- Pending ones: ``web-app:pending:<id>``, each expiring after ``PENDING_LIFETIME``, listed
  in the sorted set ``web-app:pending-logins`` by expiry; a save past ``PENDING_CAP``
  drops the ones nearest their end (``ZPOPMIN``, atomic across replicas).
- Records beside a session: ``web-app:<name>:<key_for(id)>``, with a time to live no
  longer than the session's, deleted with it.

The values are Flask-Session's msgpack (no pickle: what is read from the network is not
code). The session holds the user's tokens, so this Redis must be as private as the data
folder: a password, TLS (``rediss://``) across hosts, nothing persisted that a backup
would spread (docs/scale-out.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, cast

import msgspec
import redis
from flask import Flask, Request, Response, session
from flask_session.base import ServerSideSession

from ..failures import Failure
from . import PENDING_CAP, PENDING_LIFETIME, SessionStore

log = logging.getLogger(__name__)

NAMESPACE = "web-app:"
KEY_PREFIX = NAMESPACE + "session:"
PENDING_PREFIX = NAMESPACE + "pending:"
PENDING_INDEX = NAMESPACE + "pending-logins"
TIMEOUT = 2.0  # seconds for a connection and for each command


class RedisSessionStore(SessionStore):
    def __init__(self, app: Flask, client: redis.Redis, clock: Callable[[], float] = time.time):
        super().__init__(app, KEY_PREFIX, clock)
        self.client = client
        self.pending_seconds = int(PENDING_LIFETIME.total_seconds())
        app.before_request(_refuse_without_the_store)

    @classmethod
    def from_url(cls, app: Flask, url: str) -> RedisSessionStore:
        return cls(app, redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT))

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except redis.RedisError as error:
            # A page saying so (_refuse_without_the_store), not a stack trace; nothing is
            # saved for this request, so the session in Redis is left as it was.
            log.warning("the session store cannot be reached: %s", type(error).__name__)
            unreachable = self.session_class(sid=self._generate_sid(self.sid_length), permanent=self.permanent)
            unreachable.unreachable = True
            return unreachable

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if not getattr(session, "unreachable", False):
            super().save_session(app, session, response)

    def _open_records(self, name: str) -> RedisRecords:
        return RedisRecords(self.client, f"{NAMESPACE}{name}:", self.lifetime)

    def end_all(self) -> int:
        ended = _delete_matching(self.client, KEY_PREFIX)
        _delete_matching(self.client, PENDING_PREFIX)
        self.client.delete(PENDING_INDEX)
        for records in self.beside:
            records.clear()
        return ended

    def sweep(self) -> None:
        # Redis expires the keys; the index keeps their ids until swept.
        self.client.zremrangebyscore(PENDING_INDEX, "-inf", self.clock())

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        sid = store_id.removeprefix(KEY_PREFIX)
        login, pending = self.client.mget(store_id, PENDING_PREFIX + sid)
        saved = login if login is not None else pending
        return self.serializer.decode(saved) if saved is not None else None

    def _drop(self, store_id: str) -> None:
        sid = store_id.removeprefix(KEY_PREFIX)
        pipe = self.client.pipeline()
        pipe.delete(store_id, PENDING_PREFIX + sid)
        pipe.zrem(PENDING_INDEX, sid)
        pipe.execute()

    def _save(self, store_id: str, data: dict, seconds: int, logged_in: bool) -> None:
        sid = store_id.removeprefix(KEY_PREFIX)
        value = self.serializer.encode(data)
        pipe = self.client.pipeline()
        if logged_in:
            pipe.set(store_id, value, ex=seconds)
            pipe.delete(PENDING_PREFIX + sid)
            pipe.zrem(PENDING_INDEX, sid)
            pipe.execute()
            return
        now = self.clock()
        pipe.set(PENDING_PREFIX + sid, value, ex=seconds)
        pipe.delete(store_id)
        pipe.zadd(PENDING_INDEX, {sid: now + seconds})
        pipe.zremrangebyscore(PENDING_INDEX, "-inf", now)
        pipe.expire(PENDING_INDEX, self.pending_seconds)
        pipe.zcard(PENDING_INDEX)
        over = int(pipe.execute()[-1]) - PENDING_CAP
        if over > 0:
            # The ones nearest their end go; ZPOPMIN hands each to one replica only.
            dropped = cast(list[tuple[bytes, float]], self.client.zpopmin(PENDING_INDEX, over))
            if dropped:
                self.client.delete(*(PENDING_PREFIX + member.decode() for member, _ in dropped))


def _refuse_without_the_store() -> None:
    if getattr(session, "unreachable", False):
        raise Failure(
            503,
            "The web app cannot reach its session store",
            reported_by="this app",
            detail="Is the Redis of WEB_APP_SESSION_URL running? Try again in a moment.",
            retry_after="5",
        )


class RedisRecords:
    """Records beside the sessions, as msgpack under ``prefix`` + key."""

    def __init__(self, client: redis.Redis, prefix: str, default_timeout: int):
        self.client = client
        self.prefix = prefix
        self.default_timeout = default_timeout

    def get(self, key: str) -> Any:
        value = cast(bytes | None, self.client.get(self.prefix + key))
        return msgspec.msgpack.decode(value) if value is not None else None

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.client.set(self.prefix + key, msgspec.msgpack.encode(value), ex=timeout or self.default_timeout)
        return True

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(self.prefix + key))

    def has(self, key: str) -> bool:
        return bool(self.client.exists(self.prefix + key))

    def clear(self) -> bool:
        _delete_matching(self.client, self.prefix)
        return True


def _delete_matching(client: redis.Redis, prefix: str) -> int:
    """Delete every key under ``prefix`` (the operator's reset: rare, so a scan will do)."""
    deleted = 0
    batch: list[Any] = []
    for name in client.scan_iter(match=prefix + "*", count=500):
        batch.append(name)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted
