"""Web app sessions in Redis (WEB_APP_SESSION_URL), so that web app replicas behind one
load balancer share their users' logins: Flask-Session's own Redis backend.

Unset, sessions stay in files in the data folder (create_app), which only processes on
one host share. The session holds the user's tokens, so the Redis named here must be as
private as that folder: a password, TLS (rediss://) across hosts, nothing persisted that
a backup would spread (docs/scale-out.md).
"""

from __future__ import annotations

import redis
from flask import Flask

PREFIX = "web-app:session:"


def use(app: Flask, url: str) -> None:
    """Configure ``app`` (before ``Session(app)``) to keep its sessions in Redis at ``url``."""
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0),
        SESSION_KEY_PREFIX=PREFIX,
    )


def in_use(app: Flask) -> bool:
    return app.config.get("SESSION_TYPE") == "redis"


def end_all(app: Flask) -> int:
    """End every session (the operator's reset); answers how many there were."""
    client: redis.Redis = app.config["SESSION_REDIS"]
    names = list(client.scan_iter(match=PREFIX + "*", count=500))
    if names:
        client.delete(*names)
    return len(names)
