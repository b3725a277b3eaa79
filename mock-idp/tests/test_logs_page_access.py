"""The log page and its feed show user ids, addresses and failures: a client on this
machine's loopback reads them (the demo), a client from the network needs a Management API
token with ``read:logs``. In a container published on loopback only (compose's default),
every client that reaches the port is on this machine."""

from __future__ import annotations

import pytest

from .flows import ALICE_ID, Flows, Management

NETWORK = {"REMOTE_ADDR": "192.168.1.20"}
PATHS = ["/logs", "/logs/feed", "/logs?type=s", "/logs/feed?after=" + "0" * 24]


@pytest.fixture
def flows_with_entries(flows):
    flows.login_tokens()  # entries naming Alice
    return flows


@pytest.mark.parametrize("path", PATHS)
def test_a_network_client_without_a_token_reads_nothing(flows_with_entries, path):
    response = flows_with_entries.browser.get(path, environ_base=NETWORK)

    assert response.status_code == 401
    assert ALICE_ID not in response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("path", PATHS)
def test_a_network_client_with_a_read_logs_token_reads_them(flows_with_entries, path):
    token = Management(flows_with_entries, scope="read:logs").headers
    response = flows_with_entries.browser.get(path, environ_base=NETWORK, headers=token)
    assert response.status_code == 200
    other = Management(flows_with_entries, scope="read:clients").headers
    assert flows_with_entries.browser.get(path, environ_base=NETWORK, headers=other).status_code == 403


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_a_loopback_client_reads_them_without_a_token(flows_with_entries, address):
    response = flows_with_entries.browser.get("/logs", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    assert ALICE_ID in response.text


@pytest.mark.parametrize(("published_on", "status"), [("127.0.0.1", 200), ("0.0.0.0", 401), ("192.168.1.5", 401)])
def test_in_a_container_published_on_loopback_every_client_is_local(make_app, published_on, status):
    flows = Flows(make_app(published_on=published_on))
    assert flows.browser.get("/logs/feed", environ_base={"REMOTE_ADDR": "10.89.0.1"}).status_code == status
