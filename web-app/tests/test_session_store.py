"""Server-side sessions, in files and in Redis (fakeredis here), keep the same promises:
anonymous traffic cannot push a logged-in user out, unfinished logins are kept apart and
bounded, and the flow inspector's record (tokens) ends with its session."""

from __future__ import annotations

import time

import fakeredis
import msgspec
import pytest

from web_app import session_store
from web_app.inspector import key_for
from web_app.session_store import in_redis

from .browser import Browser

SESSION_LIFETIME = 8 * 3600


class InFiles:
    """What the file store holds, by its files."""

    def __init__(self, app):
        self.store = app.session_interface
        self.records = app.extensions["inspector"]

    def logins(self) -> int:
        return sum(1 for _ in self.store.logins._list_dir())  # the session files, not the cache's own

    def pending(self) -> int:
        return sum(1 for _ in self.store.pending._list_dir())

    def record_count(self) -> int:
        return sum(1 for _ in self.records._list_dir())

    def has_record(self, key: str) -> bool:
        return self.records.has(key)

    def record_expires_in(self, key: str) -> float:
        with open(self.records._get_filename(key), "rb") as record:
            return int.from_bytes(record.read(4), "little") - time.time()

    def expires_in(self, sid: str) -> float:
        with open(self.store.logins._get_filename("session:" + sid), "rb") as saved:
            return int.from_bytes(saved.read(4), "little") - time.time()

    def expire_soon(self, sid: str, seconds: int) -> None:
        saved = self.store.logins.get("session:" + sid)
        expires = {**saved, "_expires_at": int(time.time()) + seconds}
        self.store.logins.set("session:" + sid, expires, timeout=seconds)

    def pass_the_sessions_lifetime(self) -> None:
        self.store.clock = lambda: time.time() + SESSION_LIFETIME + 1
        self.store.sweep()


class InRedis:
    """What the Redis store holds, by its keys."""

    def __init__(self, app, client):
        self.client = client

    def _count(self, prefix: str) -> int:
        return len(self.client.keys(prefix + "*"))

    def logins(self) -> int:
        return self._count(in_redis.KEY_PREFIX)

    def pending(self) -> int:
        return self._count(in_redis.PENDING_PREFIX)

    def record_count(self) -> int:
        return self._count("web-app:inspector:")

    def has_record(self, key: str) -> bool:
        return bool(self.client.exists("web-app:inspector:" + key))

    def record_expires_in(self, key: str) -> float:
        return self.client.ttl("web-app:inspector:" + key)

    def expires_in(self, sid: str) -> float:
        return self.client.ttl(in_redis.KEY_PREFIX + sid)

    def expire_soon(self, sid: str, seconds: int) -> None:
        saved = msgspec.msgpack.decode(self.client.get(in_redis.KEY_PREFIX + sid))
        expires = {**saved, "_expires_at": int(time.time()) + seconds}
        self.client.set(in_redis.KEY_PREFIX + sid, msgspec.msgpack.encode(expires), ex=seconds)

    def pass_the_sessions_lifetime(self) -> None:
        # Redis ends a key at its time to live; what expires with the session is checked
        # by comparing times to live, and an ended session is what Redis leaves.
        for name in self.client.keys("web-app:*"):
            if self.client.ttl(name) <= SESSION_LIFETIME:
                self.client.delete(name)


@pytest.fixture
def redis_server(monkeypatch):
    server = fakeredis.FakeServer()
    made = []

    def from_url(url, **options):
        made.append((url, options))
        return fakeredis.FakeRedis(server=server)

    monkeypatch.setattr(in_redis.redis.Redis, "from_url", from_url)
    return server, made


@pytest.fixture(params=["files", "redis"])
def backend(request):
    return request.param


@pytest.fixture
def settings(settings, backend, request):
    update = {"demo_tools": "on"}
    if backend == "redis":
        request.getfixturevalue("redis_server")
        update["session_url"] = "redis://sessions.test:6379/1"
    return settings.model_copy(update=update)


@pytest.fixture
def held(app, backend, request):
    if backend == "files":
        return InFiles(app)
    server, _ = request.getfixturevalue("redis_server")
    return InRedis(app, fakeredis.FakeRedis(server=server))


def sid_of(browser: Browser) -> str:
    return browser.client.get_cookie("web_app_session").value


def test_the_settings_choose_the_backend(app, backend, redis_server):
    chosen = type(app.session_interface).__name__
    assert chosen == {"files": "FileSessionStore", "redis": "RedisSessionStore"}[backend]
    _, made = redis_server
    assert [url for url, _ in made] == (["redis://sessions.test:6379/1"] if backend == "redis" else [])


def test_a_flood_of_anonymous_logins_does_not_log_a_user_out(app, held, logged_in):
    # The user logged in a minute before the flood (a store that evicts evicts them first).
    held.expire_soon(sid_of(logged_in), SESSION_LIFETIME - 60)
    flood = app.test_client()
    for _ in range(session_store.PENDING_CAP + 100):  # more than the store of unfinished logins holds
        flood.delete_cookie("web_app_session")
        assert flood.get("/login").status_code == 302

    assert logged_in.client.get("/profile").status_code == 200
    assert held.pending() <= session_store.PENDING_CAP
    assert held.logins() == 1


def test_unfinished_logins_are_kept_apart_and_bounded(app, held, logged_in):
    for _ in range(30):
        app.test_client().get("/login")

    assert held.logins() == 1  # only the logged-in user
    assert held.pending() == 30


def test_an_unfinished_login_lasts_no_longer_than_the_pending_lifetime(app, held, backend):
    client = app.test_client()
    client.get("/login")
    if backend == "redis":
        pending = session_store.PENDING_LIFETIME.total_seconds()
        assert 0 < held.client.ttl(in_redis.PENDING_PREFIX + client.get_cookie("web_app_session").value) <= pending
    else:
        (name,) = held.store.pending._list_dir()
        with open(name, "rb") as saved:
            left = int.from_bytes(saved.read(4), "little") - time.time()
        assert 0 < left <= session_store.PENDING_LIFETIME.total_seconds()


def test_a_login_started_in_the_flood_still_finishes(app, idp):
    browser = Browser(app.test_client(), idp)
    location = browser.start_login()
    for _ in range(20):
        app.test_client().get("/login")
    browser.callback(browser.authorize(location))
    assert browser.client.get("/profile").status_code == 200


def test_the_inspector_record_is_deleted_with_its_session_at_a_new_login(app, held, logged_in):
    assert logged_in.post("/call", endpoint="contacts").status_code == 200
    first = key_for(sid_of(logged_in))
    assert held.has_record(first)

    logged_in.log_in()  # a new session id: the old session and its record are gone

    assert not held.has_record(first)
    assert held.logins() == 1


def test_the_inspector_record_is_deleted_with_its_session_at_logout(app, held, logged_in):
    logged_in.post("/call", endpoint="contacts")
    key = key_for(sid_of(logged_in))
    logged_in.post("/logout")
    assert not held.has_record(key)
    assert held.logins() == 0


def test_the_inspector_record_expires_with_its_session(app, held, logged_in):
    logged_in.post("/call", endpoint="contacts")
    key = key_for(sid_of(logged_in))
    assert 0 < held.record_expires_in(key) <= held.expires_in(sid_of(logged_in)) + 1

    held.pass_the_sessions_lifetime()

    assert held.record_count() == 0  # gone, not only unread
    assert held.logins() == 0
    assert logged_in.client.get("/profile").status_code == 401


def test_a_call_does_not_keep_the_record_past_its_session(app, held, logged_in):
    csrf = logged_in.csrf_token()  # the session as the call finds it, saved
    held.expire_soon(sid_of(logged_in), 60)

    logged_in.client.post("/call", data={"csrf_token": csrf, "endpoint": "contacts"})

    assert 0 < held.record_expires_in(key_for(sid_of(logged_in))) <= 61


def test_the_operator_ends_logged_in_and_pending_sessions_and_the_records(app, held, logged_in):
    logged_in.post("/call", endpoint="contacts")
    app.test_client().get("/login")
    ended = app.session_interface.end_all()
    assert ended == 1
    assert held.record_count() == 0
    assert held.pending() == 0
    assert held.logins() == 0
    assert logged_in.client.get("/profile").status_code == 401


@pytest.mark.parametrize("ending", ["a new login", "logout"])
def test_any_record_kept_beside_a_session_is_deleted_with_it(app, logged_in, ending):
    notes = app.session_interface.records("notes")  # not the inspector, which also deletes its own
    key = key_for(sid_of(logged_in))
    notes.set(key, {"kept": "beside"})
    assert notes.get(key) == {"kept": "beside"}

    if ending == "logout":
        logged_in.post("/logout")
    else:
        logged_in.log_in()

    assert notes.get(key) is None
    assert not notes.has(key)
