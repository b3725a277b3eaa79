"""A graceful stop of the gunicorn worker of every service (obo_serving/gunicorn_worker.py)
ends the kept-alive connections that wait for a request at once, and lets a request in
progress finish with its whole answer. Real gunicorn with the worker, SIGTERM to its master
as `make stop` and `docker compose stop` send it, a `graceful_timeout` longer than the bound
the test waits: a server that waits for idle connections fails the test.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_gunicorn import BUSY_UNTIL_NEXT, WORKER_CONFIG, running

APP = """
import os
import time
from pathlib import Path

FOLDER = Path(os.environ["STOP_FOLDER"])


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        (FOLDER / "started").touch()
        while not (FOLDER / "release").exists():
            time.sleep(0.01)  # gevent's: the worker serves the others meanwhile
    body = b"answered " + environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""

CONFIG = (
    WORKER_CONFIG
    + """
keepalive = 75
graceful_timeout = 120
"""
)

# Bounds on the waits, not timing assertions: a server that kept an idle connection until
# its graceful_timeout (120 s) would still hold it after them.
ENDED_WITHIN = 20.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    try:
        with running(tmp_path, APP, CONFIG, {"STOP_FOLDER": str(tmp_path)}) as served:
            yield Server(served.process, served.port, tmp_path, served.log)
    finally:
        (tmp_path / "release").touch()  # a request still held must not hold the stop


class Server:
    def __init__(self, process: subprocess.Popen, port: int, folder: Path, log: Path):
        self.process, self.port, self.folder, self.log = process, port, folder, log

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=ENDED_WITHIN)

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: gunicorn's graceful stop

    def exited(self) -> int:
        try:
            return self.process.wait(timeout=ENDED_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gunicorn still runs after the stop: {self.log.read_text()}")


def ask(connection: socket.socket, path: str, busy_until_next: bool = False) -> None:
    extra = BUSY_UNTIL_NEXT if busy_until_next else ""
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: stop\r\n{extra}\r\n".encode())


def read_answer(connection: socket.socket) -> tuple[bytes, bytes]:
    """The head and body of the next answer on the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(4096)
        assert chunk, f"the connection ended before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))
    while len(body) < length:
        chunk = connection.recv(4096)
        assert chunk, f"the connection ended inside an answer: {head + body!r}"
        body += chunk
    return head, body


def test_an_idle_kept_alive_connection_is_ended_at_once_and_the_server_exits(server):
    idle = server.connect()
    ask(idle, "/")
    head, body = read_answer(idle)
    assert body == b"answered /"
    assert b"Connection: close" not in head  # kept alive

    server.stop()

    assert idle.recv(1) == b""  # ended by the server, within the bound
    assert server.exited() == 0


def test_a_connection_waiting_for_its_turn_is_ended_too(server):
    waiting, other = server.connect(), server.connect()
    ask(other, "/")
    read_answer(other)
    ask(waiting, "/", busy_until_next=True)
    read_answer(waiting)
    ask(waiting, "/")
    read_answer(waiting)  # its next request now waits for its turn, the other connection open

    server.stop()

    assert waiting.recv(1) == b""
    assert other.recv(1) == b""
    assert server.exited() == 0


def test_a_request_in_progress_finishes_and_then_its_connection_ends(server):
    idle, busy = server.connect(), server.connect()
    ask(idle, "/")
    read_answer(idle)
    ask(busy, "/slow")
    deadline = time.monotonic() + ENDED_WITHIN
    while not (server.folder / "started").exists():
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.01)

    server.stop()
    assert idle.recv(1) == b""  # the waiting one ends while the other is still in progress
    assert server.process.poll() is None
    (server.folder / "release").touch()

    head, body = read_answer(busy)
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b"answered /slow"
    assert busy.recv(1) == b""  # no further request on it
    assert server.exited() == 0
