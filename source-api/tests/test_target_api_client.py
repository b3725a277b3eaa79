"""The Target API client's own pool: one per Target API, the base URL's path kept."""

from __future__ import annotations

from conftest import TARGET_URL

from source_api.target_api_client import TargetApi


def test_a_base_url_with_a_path_calls_below_it(network):
    network.route("GET", TARGET_URL + "/tenant-a/api/contacts", (200, {"contacts": []}))
    client = TargetApi(TARGET_URL + "/tenant-a/", (1.5, 4.0))

    assert client.call("GET", "/api/contacts", "target-at-1")[:2] == (200, {"contacts": []})
    (call,) = network.calls
    assert call.headers["Authorization"] == "Bearer target-at-1"
    assert call.timeout == (1.5, 4.0)


def test_the_pool_is_for_the_target_api_host_and_port():
    client = TargetApi("https://target.example.com", (1.5, 4.0))

    assert (client.pool.scheme, client.pool.host, client.pool.port) == ("https", "target.example.com", 443)
