"""The Target API's kept-alive connections (keep_alive.py) against a real local server:
reuse, what is never reused, timeouts and the one resend of a request that a reused
connection lost (target_api_client.py)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest
from urllib3.util.wait import wait_for_read

from source_api.keep_alive import OriginPool
from source_api.problems import UpstreamRefused
from source_api.target_api_client import TargetApi

BODY = b'{"contacts": []}'
#: appended to an answer: the server closes the connection once it is sent
CLOSE = b"<close>"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)


class Server(socketserver.ThreadingTCPServer):
    """Answers each request as ``answer(connection number, request number on it)`` says:
    bytes to send, or None to close the connection without answering."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: Callable[[int, int], bytes | None]):
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        self.server.connections += 1
        number = self.server.connections
        for count in range(1, 100):
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline()
                if not line:
                    return
                head += line
            self.server.requests.append(head)
            answer = self.server.answer(number, count)
            if answer is None:
                return
            self.wfile.write(answer.removesuffix(CLOSE))
            self.wfile.flush()
            if answer.endswith(CLOSE) or b"Connection: close" in answer:
                return


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[int, int], bytes | None]], Server]]:
    servers: list[Server] = []

    def start(answer: Callable[[int, int], bytes | None]) -> Server:
        server = Server(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_one_connection_carries_the_requests_one_after_another(serve):
    server = serve(lambda connection, count: OK)
    pool = OriginPool(server.url, (1.0, 5.0))

    answers = [pool.request("GET", "/api/contacts", None, {"Authorization": "Bearer t"}) for _ in range(3)]

    assert [(a.status, a.data, a.headers.get("content-type")) for a in answers] == [(200, BODY, "application/json")] * 3
    assert server.connections == 1
    assert b"Authorization: Bearer t\r\n" in server.requests[0]
    assert server.requests[0].startswith(b"GET /api/contacts HTTP/1.1\r\n")


def test_an_answer_that_closes_its_connection_is_not_followed_on_it(serve):
    closing = OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    server = serve(lambda connection, count: closing)
    pool = OriginPool(server.url, (1.0, 5.0))

    for _ in range(2):
        assert pool.request("GET", "/api/contacts", None, {}).status == 200
    assert server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_not_written_to(serve):
    # The server answers, then closes the connection (no "Connection: close" said).
    server = serve(lambda connection, count: OK + CLOSE)
    pool = OriginPool(server.url, (1.0, 5.0))
    assert pool.request("GET", "/api/contacts", None, {}).status == 200
    assert wait_for_read(pool._idle[0].sock, timeout=5)  # the close arrived

    assert pool.request("GET", "/api/contacts", None, {}).status == 200
    assert server.connections == 2
    assert len(server.requests) == 2  # nothing was sent on the closed connection


def test_a_request_lost_on_a_reused_connection_is_sent_once_more_on_a_new_one(serve):
    # The server takes the second request on the first connection and closes without
    # answering: what a keep-alive timeout met at the moment of reuse looks like.
    server = serve(lambda connection, count: None if (connection, count) == (1, 2) else OK)
    client = TargetApi(server.url, (1.0, 5.0))

    assert client.call("GET", "/api/contacts", "t")[0] == 200
    assert client.call("GET", "/api/contacts", "t")[0] == 200
    assert server.connections == 2


def test_a_request_lost_on_a_new_connection_is_not_sent_again(serve):
    server = serve(lambda connection, count: None)
    client = TargetApi(server.url, (1.0, 5.0))

    with pytest.raises(UpstreamRefused):
        client.call("GET", "/api/contacts", "t")
    assert len(server.requests) == 1


def test_a_silent_server_is_a_timeout(serve):
    never = threading.Event()
    server = serve(lambda connection, count: never.wait(10) and None)
    pool = OriginPool(server.url, (1.0, 0.2))

    with pytest.raises(TimeoutError):
        pool.request("GET", "/api/contacts", None, {})
    never.set()


def test_a_refused_connection_is_an_os_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = OriginPool(f"http://127.0.0.1:{port}", (1.0, 1.0))

    with pytest.raises(ConnectionRefusedError):
        pool.request("GET", "/api/contacts", None, {})


def test_a_base_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        OriginPool("ftp://target.example.com", (1.0, 1.0))
