"""WEB_APP_SESSION_URL: sessions in Redis (fakeredis here), shared by web app replicas.
The promises both backends keep are in test_session_store.py."""

from __future__ import annotations

import fakeredis
import pytest
from pydantic import SecretStr

from web_app import create_app
from web_app.session_store import in_redis

from .browser import Browser
from .fakes import OPERATOR_SECRET

OPERATOR = {"Authorization": f"Bearer {OPERATOR_SECRET}"}


@pytest.fixture
def server(monkeypatch):
    server = fakeredis.FakeServer()
    monkeypatch.setattr(in_redis.redis.Redis, "from_url", lambda url, **options: fakeredis.FakeRedis(server=server))
    return server


@pytest.fixture
def replicas(settings, idp, source_api, server, tmp_path):
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


def test_a_login_on_one_replica_is_a_login_on_the_other(replicas, idp, server):
    first = Browser(replicas[0].test_client(), idp)
    first.log_in()
    second = Browser(replicas[1].test_client(), idp)
    second.client.set_cookie("web_app_session", first.client.get_cookie("web_app_session").value)
    assert second.client.get("/profile").status_code == 200
    # The inspector's record too: written by one replica, shown by the other.
    assert first.post("/call", endpoint="contacts").status_code == 200
    assert "contacts" in second.client.get("/inspector").text
    assert len(fakeredis.FakeRedis(server=server).keys(in_redis.KEY_PREFIX + "*")) == 1


def test_the_operator_ends_every_session_in_redis(replicas, idp, server):
    alice, bob = Browser(replicas[0].test_client(), idp), Browser(replicas[1].test_client(), idp)
    alice.log_in()
    bob.log_in()
    answer = replicas[1].test_client().delete("/operator/sessions", headers=OPERATOR)
    assert answer.get_json() == {"ended": 2}
    assert not fakeredis.FakeRedis(server=server).keys("web-app:*")
    assert alice.client.get("/profile").status_code == 401


def test_a_redis_that_does_not_answer_is_a_page_saying_so_not_a_500(replicas, idp, server):
    browser = Browser(replicas[0].test_client(), idp)
    browser.log_in()
    server.connected = False
    page = browser.client.get("/profile")
    assert page.status_code == 503
    assert "session store" in page.text
    assert "Traceback" not in page.text
    server.connected = True
    assert browser.client.get("/profile").status_code == 200  # the login was kept as it was
