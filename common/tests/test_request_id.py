"""request_id: one id per request, echoed, passed on, and in every log line."""

from __future__ import annotations

import io
import logging
import re

import pytest
from flask import Flask, jsonify

from obo_common import request_id

log = logging.getLogger("obo_common.tests.request_id")


@pytest.fixture
def client():
    app = Flask(__name__)
    request_id.init_app(app)

    @app.get("/work")
    def work():
        log.info("working on it")
        return jsonify(current=request_id.current(), outgoing=request_id.outgoing_headers())

    return app.test_client()


@pytest.fixture
def log_output():
    """What the handler request_id installed writes, for the duration of a test."""
    handlers = [h for h in logging.getLogger().handlers if h.formatter and h.formatter._fmt == request_id.LOG_FORMAT]
    assert len(handlers) == 1, "init_app installs exactly one handler, however many apps it is called for"
    buffer = io.StringIO()
    previous = handlers[0].setStream(buffer)
    yield buffer
    handlers[0].setStream(previous)


@pytest.mark.parametrize("incoming", ["abc-123", "0f8a9c2e.trace_1", "x" * 64])
def test_a_sane_incoming_id_is_echoed_passed_on_and_logged(client, log_output, incoming):
    answer = client.get("/work", headers={"X-Request-Id": incoming})
    assert answer.headers["X-Request-Id"] == incoming
    assert answer.get_json() == {"current": incoming, "outgoing": {"X-Request-Id": incoming}}
    assert f"[{incoming}] obo_common.tests.request_id: working on it" in log_output.getvalue()


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", "semi;colon", 'quote"d', "<script>", "ünïcode", "", "a/b"],
    ids=["too-long", "space", "semicolon", "quote", "markup", "non-ascii", "empty", "slash"],
)
def test_an_insane_incoming_id_is_replaced(client, log_output, incoming):
    answer = client.get("/work", headers={"X-Request-Id": incoming})
    made = answer.headers["X-Request-Id"]
    assert made != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert answer.get_json()["outgoing"] == {"X-Request-Id": made}
    assert f"[{made}]" in log_output.getvalue()


def test_without_an_incoming_id_each_request_gets_its_own(client):
    first = client.get("/work").headers["X-Request-Id"]
    second = client.get("/work").headers["X-Request-Id"]
    assert first != second


def test_outside_a_request_there_is_no_id_to_pass_on(log_output):
    assert request_id.current() == "-"
    assert request_id.outgoing_headers() == {}
    log.warning("at start-up")
    assert "[-] obo_common.tests.request_id: at start-up" in log_output.getvalue()


def test_init_app_for_a_second_app_adds_no_second_handler(client, log_output):
    request_id.init_app(Flask("another"))
    client.get("/work", headers={"X-Request-Id": "once"})
    assert log_output.getvalue().count("[once]") == 1


def test_an_error_answer_carries_the_id_too(client):
    answer = client.get("/nowhere", headers={"X-Request-Id": "lost-1"})
    assert answer.status_code == 404
    assert answer.headers["X-Request-Id"] == "lost-1"
