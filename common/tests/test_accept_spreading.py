"""Kept-alive connections spread over a service's gunicorn workers (obo_serving/accept_spreading.py).

Real gunicorn, two workers of the services' worker class, on a listening socket this test
opens and hands over, serving an app that answers with its worker's pid. Each worker writes
its pid to a pipe once it is ready, so the test starts only when both are.

The waits are made long here (ACCEPT_WAIT_PER_CONNECTION of 50 ms) so that which worker
accepts depends on the connections each holds and never on how the machine schedules the
two processes: a busier worker's wait is 50 ms longer than a less busy one's.
"""

from __future__ import annotations

import http.client
import os
import select
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

CONNECTIONS = 8

APP = """
import os

def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""

CONFIG = """
import os

from obo_serving import gunicorn_worker
from obo_serving import accept_spreading

accept_spreading.ACCEPT_WAIT_PER_CONNECTION = 0.05
accept_spreading.ACCEPT_WAIT_MAX = 1.0

bind = "fd://" + os.environ["SPREAD_TEST_LISTENER"]
workers = 2
worker_class = gunicorn_worker.BodyDeadlineWorker
keepalive = 75
graceful_timeout = 5
accesslog = None
errorlog = "-"
control_socket_disable = True


def post_worker_init(worker):
    os.write(int(os.environ["SPREAD_TEST_READY"]), b"%d\\n" % worker.pid)
"""


class Workers:
    def __init__(self, port: int, pids: set[int]):
        self.port, self.pids = port, pids

    def answerer(self, connection: http.client.HTTPConnection) -> int:
        """Sends a request on ``connection`` and reads the pid of the worker that answered."""
        connection.request("GET", "/")
        answer = connection.getresponse()
        assert answer.status == 200
        return int(answer.read())

    def open_in_turn(self, stack: ExitStack, count: int) -> Counter:
        """``count`` kept-alive connections, each opened once the one before was answered;
        how many each worker answered."""
        answered: Counter = Counter()
        for _ in range(count):
            connection = stack.enter_context(closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)))
            answered[self.answerer(connection)] += 1
        return answered


def _read_ready_pids(ready, count: int, within: float = 60.0) -> set[int]:
    lines = b""
    while lines.count(b"\n") < count:
        readable, _, _ = select.select([ready], [], [], within)
        if not readable:
            pytest.fail(f"gunicorn's workers were not ready within {within:.0f} s")
        chunk = os.read(ready, 4096)
        if not chunk:
            pytest.fail("gunicorn stopped before its workers were ready")
        lines += chunk
    return {int(line) for line in lines.split()}


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    (tmp_path / "pid_app.py").write_text(APP)
    (tmp_path / "gunicorn.conf.py").write_text(CONFIG)
    listener = socket.create_server(("127.0.0.1", 0))
    ready, ready_write = os.pipe()
    env = {**os.environ, "SPREAD_TEST_LISTENER": str(listener.fileno()), "SPREAD_TEST_READY": str(ready_write)}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "pid_app:app"]
    with (tmp_path / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(
            command, cwd=tmp_path, env=env, pass_fds=(listener.fileno(), ready_write), stdout=log, stderr=log
        )
    os.close(ready_write)  # the pipe ends when gunicorn's processes have all gone
    try:
        pids = _read_ready_pids(ready, 2)
        yield Workers(listener.getsockname()[1], pids)
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.close(ready)
        listener.close()


def test_connections_opened_in_turn_are_shared_evenly(workers):
    with ExitStack() as stack:
        answered = workers.open_in_turn(stack, CONNECTIONS)

    assert set(answered) <= workers.pids
    assert sorted(answered.values()) == [CONNECTIONS // 2, CONNECTIONS // 2], answered


def test_a_busy_worker_still_accepts_when_the_other_cannot(workers):
    stopped, running = sorted(workers.pids)
    os.kill(stopped, signal.SIGSTOP)
    try:
        with ExitStack() as stack:
            answered = workers.open_in_turn(stack, CONNECTIONS)
    finally:
        os.kill(stopped, signal.SIGCONT)

    assert answered == {running: CONNECTIONS}
