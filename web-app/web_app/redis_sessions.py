"""Web app sessions in Redis (WEB_APP_SESSION_URL), so that web app replicas behind one
load balancer share their users' logins: Flask-Session's own Redis backend.

Unset, sessions stay in files in the data folder (session_store.py), which only processes
on one host share. The session holds the user's tokens, so the Redis named here must be as
private as that folder: a password, TLS (rediss://) across hosts, nothing persisted that
a backup would spread (docs/scale-out.md).
"""

from __future__ import annotations

import redis
from cachelib.base import BaseCache
from flask import Flask
from flask_session.redis import RedisSessionInterface

from .session_store import key_for

PREFIX = "web-app:session:"


class RedisSessions(RedisSessionInterface):
    def __init__(self, app: Flask, url: str):
        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        super().__init__(app, client=client, key_prefix=PREFIX, permanent=app.config["SESSION_PERMANENT"])
        self.beside: list[BaseCache] = []

    def keep_beside(self, records: BaseCache) -> None:
        self.beside.append(records)

    def end_all(self) -> int:
        """End every session (the operator's reset); answers how many there were."""
        names = list(self.client.scan_iter(match=PREFIX + "*", count=500))
        if names:
            self.client.delete(*names)
        for records in self.beside:
            records.clear()
        return len(names)

    def _delete_session(self, store_id: str) -> None:
        super()._delete_session(store_id)
        for records in self.beside:
            records.delete(key_for(store_id.removeprefix(PREFIX)))
