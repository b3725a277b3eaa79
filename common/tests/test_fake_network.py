"""obo_testing's FakeNetwork: what the unit suites rely on when they fake HTTP."""

from __future__ import annotations

import pytest
import requests
from flask import Flask, jsonify, request
from requests.adapters import HTTPAdapter

from obo_testing import FakeNetwork

URL = "http://idp.test/oauth/token"


@pytest.fixture
def network():
    with FakeNetwork().installed() as network:
        yield network


def test_every_session_sends_through_it_even_with_its_own_adapter(network):
    network.route("GET", "http://api.test/ping", {"pong": True})
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=4))
    assert session.get("http://api.test/ping").json() == {"pong": True}
    assert requests.get("http://api.test/ping").json() == {"pong": True}


def test_leaving_it_gives_sessions_their_own_adapters_back():
    with FakeNetwork().installed():
        pass
    assert isinstance(requests.Session().get_adapter("http://api.test/"), HTTPAdapter)


def test_a_call_is_recorded_as_sent_with_its_form_headers_and_timeout(network):
    network.route("POST", URL, (200, {}))
    session = requests.Session()
    session.headers["X-Request-Id"] = "req-1"
    session.post(URL, data={"grant_type": "refresh_token", "scope": ""}, headers={"A": "b"}, timeout=(1, 2))
    [call] = network.calls_to("POST", URL)
    assert call.data == {"grant_type": "refresh_token", "scope": ""}
    assert call.json is None
    assert call.headers["A"] == "b"
    assert call.headers["X-Request-Id"] == "req-1"  # the session's headers too
    assert call.timeout == (1, 2)
    assert network.calls_to_path("/oauth/token") == [call]


def test_a_json_body_is_read_back(network):
    network.route("POST", "http://api.test/contacts", lambda call: (201, call.json))
    answer = requests.post("http://api.test/contacts", json={"name": "Zoe"})
    assert answer.status_code == 201
    assert answer.json() == {"name": "Zoe"}
    assert network.calls[0].data is None


def test_answers_given_as_a_list_are_used_in_turn_and_the_last_repeats(network):
    network.route("GET", URL, [requests.ConnectionError("down"), (503, {"n": 1}, {"Retry-After": "3"}), {"n": 2}])
    with pytest.raises(requests.ConnectionError):
        requests.get(URL)
    refused = requests.get(URL)
    assert (refused.status_code, refused.headers["Retry-After"]) == (503, "3")
    assert [requests.get(URL).json() for _ in range(2)] == [{"n": 2}, {"n": 2}]


def test_the_answer_carries_the_request_that_was_sent(network):
    network.route("GET", URL, {})
    answer = requests.get(URL, params={"a": "1"})
    assert answer.request.url == URL + "?a=1"
    assert answer.url == URL + "?a=1"


def test_anything_unrouted_is_a_refused_connection(network):
    with pytest.raises(requests.ConnectionError):
        requests.get("http://nowhere.test/")
    assert [call.url for call in network.calls] == ["http://nowhere.test/"]


def test_a_served_host_gets_every_path_with_its_query_form_and_headers(network):
    app = Flask("stand_in")

    @app.post("/echo")
    def echo():
        return jsonify(args=request.args, form=request.form, auth=request.headers.get("Authorization")), 202

    network.serve("http://svc.test", app)
    answer = requests.post("http://svc.test/echo?x=1", data={"y": "2"}, headers={"Authorization": "Bearer t"})
    assert answer.status_code == 202
    assert answer.reason == "ACCEPTED"
    assert answer.json() == {"args": {"x": "1"}, "form": {"y": "2"}, "auth": "Bearer t"}


def test_a_route_wins_over_the_served_host(network):
    network.serve("http://svc.test", Flask("stand_in"))
    network.route("GET", "http://svc.test/special", {"routed": True})
    assert requests.get("http://svc.test/special").json() == {"routed": True}
    assert requests.get("http://svc.test/other").status_code == 404


def test_a_down_host_refuses_and_a_slow_one_times_out_whatever_is_routed(network):
    network.route("GET", "http://svc.test/a", {})
    network.down.add("http://svc.test")
    with pytest.raises(requests.ConnectionError):
        requests.get("http://svc.test/a")
    network.down.clear()
    network.slow.add("http://svc.test")
    with pytest.raises(requests.ReadTimeout):
        requests.get("http://svc.test/a")
    network.slow.clear()
    assert requests.get("http://svc.test/a").json() == {}
