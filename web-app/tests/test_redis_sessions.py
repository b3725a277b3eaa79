"""WEB_APP_SESSION_URL: sessions in Redis (fakeredis here), shared by web app replicas."""

from __future__ import annotations

import fakeredis
import pytest
from pydantic import SecretStr

from web_app import create_app, redis_sessions

from .browser import Browser
from .fakes import OPERATOR_SECRET

OPERATOR = {"Authorization": f"Bearer {OPERATOR_SECRET}"}


@pytest.fixture
def shared_redis(monkeypatch):
    server = fakeredis.FakeServer()
    made = []

    def from_url(url, **options):
        made.append((url, options))
        return fakeredis.FakeRedis(server=server)

    monkeypatch.setattr(redis_sessions.redis.Redis, "from_url", from_url)
    return fakeredis.FakeRedis(server=server), made


@pytest.fixture
def replicas(settings, idp, source_api, shared_redis, tmp_path):
    apps = []
    for n in range(2):
        app = create_app(
            settings.model_copy(
                update={
                    "session_url": "redis://sessions.test:6379/1",
                    "session_secret": SecretStr("one secret for every replica"),
                    "data_dir": tmp_path / f"replica-{n}",
                    "demo_tools": "on",
                }
            )
        )
        app.config["TESTING"] = True
        apps.append(app)
    return apps


def test_a_login_on_one_replica_is_a_login_on_the_other(replicas, idp, shared_redis):
    client, made = shared_redis
    first = Browser(replicas[0].test_client(), idp)
    first.log_in()
    cookie = first.client.get_cookie("web_app_session").value
    second = replicas[1].test_client()
    second.set_cookie("web_app_session", cookie)
    assert second.get("/profile").status_code == 200
    assert made[0][0] == "redis://sessions.test:6379/1"
    assert len(client.keys(redis_sessions.PREFIX + "*")) == 1


def test_the_operator_ends_every_session_in_redis(replicas, idp, shared_redis):
    client, _ = shared_redis
    alice, bob = Browser(replicas[0].test_client(), idp), Browser(replicas[1].test_client(), idp)
    alice.log_in()
    bob.log_in()
    answer = replicas[1].test_client().delete("/operator/sessions", headers=OPERATOR)
    assert answer.get_json() == {"ended": 2}
    assert not client.keys(redis_sessions.PREFIX + "*")
    assert alice.client.get("/profile").status_code == 401


def test_without_a_session_url_sessions_stay_in_files(app):
    assert not isinstance(app.session_interface, redis_sessions.RedisSessions)
