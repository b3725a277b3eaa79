"""http_trace: the hops a request made, with secrets masked and tokens kept for the inspector."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from flask import Flask

from obo_common import http_trace, request_id


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"access_token": "eyJ.x.y", "token_type": "Bearer"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def app():
    app = Flask(__name__)
    request_id.init_app(app)
    return app


def test_nothing_is_recorded_unless_the_request_asked(app, server):
    with app.test_request_context():
        response = requests.post(server + "/oauth/token", data={"a": "b"}, timeout=5)
        http_trace.record(response, step="3", title="t", caller="source-api", callee="identity provider")
        assert http_trace.hops() == []
        assert not http_trace.enabled()


def test_a_hop_keeps_the_token_and_masks_the_secret(app, server):
    # As RequestIds (the middleware around the app) leaves a sane incoming id.
    with app.test_request_context(environ_base={request_id.ENVIRON_KEY: "req-1"}):
        http_trace.begin()
        response = requests.post(
            server + "/oauth/token",
            data={
                "grant_type": "x",
                "subject_token": "eyJ.user.token",
                "client_secret": "hunter2",
                "pin": "pin-value-7",
            },
            timeout=5,
        )
        http_trace.record(
            response,
            step="3",
            title="Token exchange",
            caller="source-api",
            callee="identity provider",
            secrets={"pin": "SOURCE_API_PIN", "client_secret": "SOURCE_API_CLIENT_SECRET", "absent": "X"},
        )
        [hop] = http_trace.hops()
    assert hop["step"] == "3"
    assert hop["caller"] == "source-api"
    assert hop["request"]["method"] == "POST"
    assert hop["request"]["form"] == {
        "grant_type": "x",
        "subject_token": "eyJ.user.token",
        "client_secret": http_trace.MASK,
        "pin": http_trace.MASK,
    }
    assert hop["secrets"] == {"pin": "SOURCE_API_PIN", "client_secret": "SOURCE_API_CLIENT_SECRET"}
    assert "hunter2" not in repr(hop)
    assert "pin-value-7" not in repr(hop)
    assert hop["response"]["status"] == 200
    assert hop["response"]["body"]["access_token"] == "eyJ.x.y"
    assert hop["response"]["headers"]["Cache-Control"] == "no-store"
    assert hop["request_id"] == "req-1"
    assert hop["duration_ms"] >= 0


def test_basic_credentials_are_masked(app, server):
    with app.test_request_context():
        http_trace.begin()
        response = requests.post(server + "/t", data={"a": "b"}, auth=("client", "secret"), timeout=5)
        http_trace.record(response, step="1", title="t", caller="web-app", callee="identity provider")
        [hop] = http_trace.hops()
    assert hop["request"]["headers"]["Authorization"] == "Basic " + http_trace.MASK


def test_json_requests_failures_and_cache_hits(app, server):
    with app.test_request_context():
        http_trace.begin()
        response = requests.post(server + "/api", json={"name": "Eve"}, timeout=5)
        http_trace.record(response, step="4", title="Call", caller="source-api", callee="target-api")
        http_trace.record_failure(
            "GET", "http://x/", step="4", title="Call", caller="source-api", callee="target-api", error="timed out"
        )
        http_trace.record_cache(step="3", title="Cached", caller="source-api", note="held until 12:00")
        http_trace.extend([{"step": "2"}, "not a hop"])
        first, failed, cached, extended = http_trace.hops()
    assert first["request"]["json"] == {"name": "Eve"}
    assert first["request"]["form"] is None
    assert failed["response"] is None
    assert failed["error"] == "timed out"
    assert cached["cache"] == "hit"
    assert cached["request"] is None
    assert cached["note"] == "held until 12:00"
    assert extended == {"step": "2"}


def test_a_request_the_browser_made_is_recorded_by_its_outcome(app):
    with app.test_request_context():
        http_trace.record_seen(
            "GET",
            "http://idp.test/authorize?x=1",
            step="1",
            title="Authorization request",
            caller="browser",
            callee="identity provider",
            status=302,
            note="seen at the callback",
        )
        assert http_trace.hops() == []  # not traced: nothing kept
        http_trace.begin()
        http_trace.record_seen(
            "GET",
            "http://idp.test/authorize?x=1",
            step="1",
            title="Authorization request",
            caller="browser",
            callee="identity provider",
            status=302,
            body={"error": "access_denied"},
        )
        [hop] = http_trace.hops()
    assert hop["request"] == {
        "method": "GET",
        "url": "http://idp.test/authorize?x=1",
        "headers": {},
        "form": None,
        "json": None,
    }
    assert hop["response"] == {"status": 302, "headers": {}, "body": {"error": "access_denied"}}
    assert (hop["caller"], hop["callee"], hop["cache"], hop["error"]) == ("browser", "identity provider", None, None)
