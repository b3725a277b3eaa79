"""allowed_hosts: a service answers only to its configured hosts (DNS rebinding)."""

from __future__ import annotations

import pytest
from flask import Flask

from obo_common import allowed_hosts

ALLOWED = allowed_hosts.allowed_hosts(
    "web-app", ["http://localhost:9000/", "http://class.example:3000", None, ""], "proxy.example, Other.Example"
)


@pytest.fixture
def client():
    app = Flask(__name__)
    allowed_hosts.init_app(app, ALLOWED)

    @app.post("/thing")
    def thing():
        return "done"

    return app.test_client()


def test_the_allowed_hosts_are_loopback_the_service_its_urls_and_the_listed_ones():
    assert {
        "localhost",
        "127.0.0.1",
        "::1",
        "web-app",
        "class.example",
        "proxy.example",
        "other.example",
    } == ALLOWED


@pytest.mark.parametrize(
    "host", ["localhost:3000", "127.0.0.1", "[::1]:3000", "web-app:3000", "CLASS.example:3000", "localhost."]
)
def test_a_configured_host_is_answered(client, host):
    assert client.post("/thing", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:3000",
        "localhost.attacker.example",
        "127.0.0.2:3000",
        "[::2]:3000",
        "localhost:3000@attacker.example",
        "web-app:3000:1",
        "",
        "\u0141ocalhost",
    ],
)
def test_any_other_host_is_a_clear_400_before_the_view(client, host):
    answer = client.post("/thing", headers={"Host": host})
    assert answer.status_code == 400
    assert answer.mimetype == "text/plain"
    assert "does not answer to the host" in answer.get_data(as_text=True)
    assert "done" not in answer.get_data(as_text=True)
    assert "web-app" not in answer.get_data(as_text=True)  # the answered names are not told


def test_an_unknown_path_with_another_host_is_refused_too(client):
    assert client.get("/nothing", headers={"Host": "attacker.example"}).status_code == 400
