"""Which failures earn the one retry on a new connection: only a reused connection that the
server closed before any byte of the answer (stale_connections.py)."""

from __future__ import annotations

import http.client

import pytest
import requests
from urllib3.exceptions import NewConnectionError, ProtocolError, ReadTimeoutError

from source_api import stale_connections


def closed(cause: BaseException) -> ProtocolError:
    return ProtocolError("Connection aborted.", cause)


@pytest.fixture
def reused():
    stale_connections.begin()
    stale_connections._attempt.reused = True
    yield
    stale_connections.begin()


@pytest.mark.parametrize(
    "error",
    [
        closed(http.client.RemoteDisconnected("Remote end closed connection without response")),
        closed(ConnectionResetError(104, "Connection reset by peer")),
        closed(BrokenPipeError(32, "Broken pipe")),
        requests.ConnectionError(closed(http.client.RemoteDisconnected("closed"))),  # as requests wraps it
    ],
    ids=["empty-answer", "reset", "broken-pipe", "requests-wrapped"],
)
def test_a_reused_connection_closed_before_the_answer_never_reached_the_server(reused, error):
    assert stale_connections.never_reached(error)


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(None, "http://target.test/", "Read timed out."),
        NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused"),
        closed(ConnectionRefusedError(111, "Connection refused")),
        requests.ReadTimeout("read timed out"),
    ],
    ids=["read-timeout", "new-connection", "refused", "requests-timeout"],
)
def test_other_failures_are_not_retried_even_on_a_reused_connection(reused, error):
    assert not stale_connections.never_reached(error)


def test_a_new_connection_closed_before_the_answer_is_not_retried():
    # The server may have read the request on a connection that carried nothing before.
    stale_connections.begin()
    assert not stale_connections.never_reached(closed(http.client.RemoteDisconnected("closed")))
