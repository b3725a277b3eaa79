"""Slow and silent clients do not take a service offline, and are dropped in bounded time.

Against each of the four services at once: 200 connections that send a POST's headers with
a Content-Length and then one byte of the body, or none, and nothing more (half of them
keep trickling a byte now and then, so a deadline per read would not be enough). While
they are open, an ordinary request to the same service must be answered; then every one
of them must be closed by the server (408, then end of stream), within a cap.

The bounds, in obo_serving/gunicorn_worker.py and docs/reliability.md: a body that has not
arrived 15 s after its headers is given up; the first request line and headers of a
connection must arrive within 10 s, while an idle pooled connection stays open between
requests (the APIs' keepalive, 75 s).
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

# obo_serving/gunicorn_worker.py's BODY_TIMEOUT (not imported: importing it patches this
# process for gevent).
BODY_TIMEOUT = 15.0
SLOW_PER_SERVICE = 200
DECLARED_LENGTH = 4096
# Answered "at all" while the slow connections are open. Not a measure of speed: the
# requirement is an answer within 1 s (docs/reliability.md has the measured figures);
# 5 s leaves room for a machine shared with other work. Before the fix no answer ever
# came, the threads all waiting on bodies, so the request timed out whatever the bound.
ANSWER_WITHIN = 5.0
# How long the slow connections may stay open: the body deadline plus room for a busy
# machine. A cap on the polling below, not a timing assertion: the test fails only if a
# connection is still open after it.
CLOSED_WITHIN = BODY_TIMEOUT + 20.0
TRICKLE_EVERY = 2.0
SERVICES = ("mock-idp", "target-api", "source-api", "web-app")
# A POST for each service. The identity provider's token endpoint and the web app's CSRF
# check read the body before anything else, so they wait for it and answer 408 at the
# deadline; the APIs refuse the missing token from the headers alone (401), and the
# connection is closed when the rest of the body does not come.
POST_PATHS = {
    "mock-idp": "/oauth/token",
    "target-api": "/api/contacts",
    "source-api": "/api/contacts",
    "web-app": "/logout",
}
FIRST_ANSWER = {"mock-idp": 408, "web-app": 408, "target-api": 401, "source-api": 401}


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors():
    """800 client sockets at once, beside pytest's own files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(4 * SLOW_PER_SERVICE, SLOW_HEADERS) + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _open_slow(url: str, path: str, first_byte: bool) -> socket.socket:
    address = urlsplit(url)
    sock = socket.create_connection((address.hostname, address.port), timeout=5)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {DECLARED_LENGTH}\r\n\r\n"
    )
    sock.sendall(head.encode() + (b"a" if first_byte else b""))
    sock.setblocking(False)
    return sock


def _ended(sock: socket.socket, received: dict[socket.socket, bytes]) -> bool:
    """Read what the server sent; True at end of stream or when the server reset it."""
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
            received[sock] = received.get(sock, b"") + data
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


def _assert_each_service_answers(stack) -> None:
    for name in SERVICES:
        try:
            answer = requests.get(f"{stack[name].url}/healthz", timeout=ANSWER_WITHIN)
        except requests.Timeout:
            pytest.fail(f"{name} did not answer within {ANSWER_WITHIN} s beside {SLOW_PER_SERVICE} slow clients")
        assert answer.status_code == 200, name


def _wait_until_closed(
    slow: dict[socket.socket, str], received: dict[socket.socket, bytes], within: float = CLOSED_WITHIN, trickle=True
) -> dict:
    """Read every slow connection until the server closes it (or the cap), trickling on
    the half that sends a byte now and then; what is still open is returned."""
    open_ = dict(slow)
    trickling = [sock for number, sock in enumerate(slow) if trickle and number % 2 == 0]
    next_trickle = time.monotonic() + TRICKLE_EVERY
    cap = time.monotonic() + within
    with selectors.DefaultSelector() as waiting:  # epoll: no limit of 1024 descriptors
        for sock in open_:
            waiting.register(sock, selectors.EVENT_READ)
        while open_ and time.monotonic() < cap:
            for key, _ in waiting.select(timeout=0.5):
                if _ended(key.fileobj, received):
                    waiting.unregister(key.fileobj)
                    del open_[key.fileobj]
            if time.monotonic() >= next_trickle:
                for sock in trickling:
                    if sock in open_:
                        with contextlib.suppress(OSError):
                            sock.send(b"a")
                next_trickle = time.monotonic() + TRICKLE_EVERY
    return open_


def test_slow_clients_neither_block_a_service_nor_stay_open(stack):
    stack.controllable()  # an external stack's bounds are not this suite's to know
    slow: dict[socket.socket, str] = {}
    try:
        for name in SERVICES:
            for number in range(SLOW_PER_SERVICE):
                sock = _open_slow(stack[name].url, POST_PATHS[name], first_byte=number % 2 == 0)
                slow[sock] = name

        _assert_each_service_answers(stack)

        received: dict[socket.socket, bytes] = {}
        open_ = _wait_until_closed(slow, received)
        still = sorted(set(open_.values()))
        assert not open_, f"{len(open_)} slow connections still open after {CLOSED_WITHIN:.0f} s, to {still}"
        for sock, name in slow.items():
            status = received.get(sock, b"").partition(b"\r\n")[0]
            assert status.startswith(f"HTTP/1.1 {FIRST_ANSWER[name]} ".encode()), (name, status)
    finally:
        for sock in slow:
            sock.close()


# -- headers that never finish ----------------------------------------------------------

# common/serving/obo_serving/gunicorn_worker.py's HEADER_TIMEOUT and WORKER_CONNECTIONS (not imported, as above).
HEADER_TIMEOUT = 10.0
WORKER_CONNECTIONS = 1000
# More than one worker's pool: the last ones wait in the listen backlog until slots free.
SLOW_HEADERS = WORKER_CONNECTIONS + 100
# Caps, not timing assertions: the APIs keep an idle connection 75 s (their keepalive),
# which is how long a connection whose first headers never finish was kept before. A
# fresh client waits behind a full pool for one header deadline (two for the sockets of
# the backlog, which are served in the same round as it at worst), plus room.
FRESH_ANSWER_WITHIN = 2 * HEADER_TIMEOUT + 20.0
SLOW_HEADERS_CLOSED_WITHIN = 2 * HEADER_TIMEOUT + 25.0


def _request_on(sock: socket.socket, host: str) -> bytes:
    """One GET /healthz on an open connection; the status line, or b"" if it was closed."""
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        answer += chunk
    return answer.partition(b"\r\n")[0]


@pytest.mark.parametrize(("service", "env"), [("source-api", {}), ("target-api", {"TARGET_API_WORKERS": "1"})])
def test_headers_that_never_finish_are_dropped_while_pooled_connections_stay(stack, service, env):
    """A client that opens more connections than a worker serves and never finishes a
    request line does not stop the API beyond the header deadline; a caller's idle pooled
    connection, which has already sent a whole request, is kept across that deadline."""
    with stack.another(service, **env) as api:
        address = urlsplit(api.url)
        pooled = socket.create_connection((address.hostname, address.port), timeout=10)
        slow: list[socket.socket] = []
        try:
            assert _request_on(pooled, address.netloc).startswith(b"HTTP/1.1 200 ")
            for _ in range(SLOW_HEADERS):
                sock = socket.create_connection((address.hostname, address.port), timeout=5)
                sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {address.netloc}\r\nX-Slow: ".encode())
                sock.setblocking(False)
                slow.append(sock)

            try:
                fresh = requests.get(api.url + "/healthz", timeout=FRESH_ANSWER_WITHIN)
            except requests.RequestException as error:
                pytest.fail(f"{service} did not answer beside {SLOW_HEADERS} unfinished requests: {error}")
            assert fresh.status_code == 200

            open_ = _wait_until_closed(dict.fromkeys(slow, service), {}, SLOW_HEADERS_CLOSED_WITHIN, trickle=False)
            assert not open_, f"{len(open_)} connections with unfinished headers still open"
            # The pooled connection was idle through all of that, longer than the header
            # deadline: it still serves its caller.
            assert _request_on(pooled, address.netloc).startswith(b"HTTP/1.1 200 ")
        finally:
            pooled.close()
            for sock in slow:
                sock.close()
