"""Kept-alive connections to one origin (the Target API), on the standard library's
``http.client``: the least a request can cost and still be sent over a pooled connection.

The Target API is called on every user request, one host, with small JSON answers read
whole: a general client's per-request work (a pool manager's URL parsing and pool lookup,
retry and timeout objects, its own response object and header dict) is what this leaves out.
What it keeps of such a pool:

- at most ``maxsize`` idle connections, the most recently used taken first;
- a connection the server closed while it was idle (keep-alive timeout, restart) is
  dropped when taken, not written to (a zero-timeout poll: readable means closed, as
  urllib3 checks);
- connecting waits at most ``connect_timeout``, every read ``read_timeout``;
- a connection that failed, or that the answer said would close, is never reused;
- each connection counts the requests it carried (``stale_connections``), so a request
  sent on a reused one that the server closed at that moment can be told apart.

Failures are the standard library's own: ``TimeoutError`` for a timeout (connecting or
reading), another ``OSError`` for a refused or broken connection, ``http.client``'s
``HTTPException`` for an answer that is not HTTP.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

from .stale_connections import Tracked

try:
    # The system's poll even under the gevent worker: a zero-timeout poll never blocks, and
    # gevent's cooperative one sets up watchers for a wait that never comes (a third of the
    # call's own cost).
    from gevent.monkey import get_original

    _system_poll = get_original("select", "poll")
except ImportError:  # no gevent: nothing is patched
    _system_poll = select.poll


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage  # case-insensitive ``get``
    data: bytes


class _ReadTimeout(Tracked):
    """Connects under the connect timeout given to the constructor, then reads under
    ``read_timeout``."""

    read_timeout: float | None = None

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self.read_timeout)  # type: ignore[attr-defined]


class _Connection(_ReadTimeout, http.client.HTTPConnection):
    pass


class _TlsConnection(_ReadTimeout, http.client.HTTPSConnection):
    pass


class OriginPool:
    def __init__(self, url: str, timeout: tuple[float, float], maxsize: int = 16):
        address = urlsplit(url)
        if address.scheme not in ("http", "https") or not address.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.scheme = address.scheme
        self.host = address.hostname
        self.port = address.port or (443 if self.scheme == "https" else 80)
        self.connect_timeout, self.read_timeout = timeout
        self.maxsize = maxsize
        # The system's trust store, and SSL_CERT_FILE when set (a local CA), as urllib3's default.
        self._tls = ssl.create_default_context() if self.scheme == "https" else None
        self._idle: list[http.client.HTTPConnection] = []

    def request(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str], fresh: bool = False
    ) -> Answer:
        """Send on an idle connection (``fresh``: on a new one) and read the whole answer."""
        connection = self.new_connection() if fresh else self._take()
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        elif len(self._idle) < self.maxsize:
            self._idle.append(connection)
        else:
            connection.close()
        return Answer(response.status, response.headers, data)

    def new_connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._tls is not None:
            connection = _TlsConnection(self.host, self.port, timeout=self.connect_timeout, context=self._tls)
        else:
            connection = _Connection(self.host, self.port, timeout=self.connect_timeout)
        connection.read_timeout = self.read_timeout
        return connection

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _take(self) -> http.client.HTTPConnection:
        # list.pop and list.append are atomic: threads and greenlets share the list safely.
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:
                break
            if connection.sock is not None and not _closed_while_idle(connection.sock):
                return connection
            connection.close()  # closed by the server while idle
        return self.new_connection()


def _closed_while_idle(sock: socket.socket) -> bool:
    """An idle connection has nothing to read: readable (the close, or stray bytes) or in
    error, it is not reused."""
    poller = _system_poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))
