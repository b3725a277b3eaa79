"""The gunicorn worker of every service serves its kept-alive connections in turns.

A client that sends its next request as soon as it has an answer finds the worker still
busy with what follows the answer (the access log, the end of the request), so its next
request is already waiting when the worker is done. The worker must not read it at once:
a request that another connection sent before it waits its turn first. Real gunicorn, one
worker (obo_serving/gunicorn_worker.py), a WSGI app that answers each request with its
place in the order the worker served them.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from real_gunicorn import BUSY_UNTIL_NEXT, WORKER_CONFIG, running

APP = """
import itertools

served = itertools.count(1)


def app(environ, start_response):
    body = str(next(served)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""

# Its keepalive from the test's mark (the fixture below); X-Busy-Until-Next: WORKER_CONFIG.
CONFIG = (
    WORKER_CONFIG
    + """
import os

keepalive = int(os.environ["TURNS_KEEPALIVE"])
"""
)

# A bound on the wait for the server to close an idle connection (keepalive 1 s), not a
# timing assertion: the test fails only if the connection is still open after it.
CLOSED_WITHIN = 20.0


@pytest.fixture
def connect(tmp_path: Path, request):
    """Opens connections to a fresh server; they are closed before it is stopped. Its
    keepalive: 30 s, or the test's ``keepalive`` mark."""
    mark = request.node.get_closest_marker("keepalive")
    with running(tmp_path, APP, CONFIG, {"TURNS_KEEPALIVE": str(mark.args[0] if mark else 30)}) as served:
        opened = []

        def open_one() -> Connection:
            opened.append(Connection(served.port))
            return opened[-1]

        yield open_one
        for connection in opened:
            connection.sock.close()


class Connection:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.unread = b""

    def send(self, busy_until_next: bool = False) -> None:
        extra = BUSY_UNTIL_NEXT if busy_until_next else ""
        self.sock.sendall(f"GET / HTTP/1.1\r\nHost: turns\r\n{extra}\r\n".encode())

    def answer(self) -> int:
        """The place of the next answer on this connection in the worker's order."""
        while b"\r\n\r\n" not in self.unread:
            self.unread += self._recv()
        head, _, self.unread = self.unread.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))
        while len(self.unread) < length:
            self.unread += self._recv()
        body, self.unread = self.unread[:length], self.unread[length:]
        return int(body)

    def _recv(self) -> bytes:
        data = self.sock.recv(4096)
        assert data, "the server closed the connection"
        return data


def test_a_waiting_request_is_served_before_a_busy_connections_next_two(connect):
    other, busy = connect(), connect()
    other.send()
    assert other.answer() == 1  # the worker holds both connections (each was answered once)
    busy.send()
    assert busy.answer() == 2

    busy.send(busy_until_next=True)
    assert busy.answer() == 3
    # The worker is busy after that answer. Meanwhile the other connection sends a request,
    # then the busy one sends its next: both are waiting when the worker is done.
    other.send()
    busy.send(busy_until_next=True)
    first_next = busy.answer()
    busy.send()
    second_next = busy.answer()
    waiting = other.answer()

    # In turns: the other connection's request is served before the busy connection's
    # second request after it (which of it and the first one goes first is the loop's).
    assert waiting < second_next, (waiting, first_next, second_next)
    assert sorted([waiting, first_next, second_next]) == [4, 5, 6]


@pytest.mark.keepalive(1)
def test_a_connection_waiting_for_its_turn_is_still_closed_after_keepalive(connect):
    """The wait for a turn is within the keepalive: an idle connection of a worker that holds
    others is closed by the server, as any idle kept-alive connection."""
    idle, other = connect(), connect()
    other.send()
    assert other.answer() == 1
    idle.send(busy_until_next=True)
    assert idle.answer() == 2
    # The worker is busy until the next request is there: it is read and answered without
    # the loop running, with the other connection open, so the one after it waits its turn.
    idle.send()
    assert idle.answer() == 3
    idle.sock.settimeout(CLOSED_WITHIN)
    assert idle.sock.recv(1) == b""  # closed by the server, not by this bound
