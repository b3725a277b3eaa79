"""Pooled connections that know whether they were reused, and the one retry a stale one earns.

A server closes an idle keep-alive connection when it likes (the identity provider after
2 s, a load balancer after its idle timeout). urllib3 (and keep_alive.py) drops a pooled
connection that was closed before it is taken, but not one closed at the very moment it is
reused: the request goes out, and the answer is a reset or an empty read. Such a request
never reached the application behind the socket (the server closed without reading it), so
sending it once more, on a new connection, is safe even for a POST; any other failure is
reported as is.

``never_reached(error)`` says whether a failure was that: the connection had already
carried a request (so the server closed an idle connection, not one it was answering),
and it failed with a reset, a broken pipe or a close before any byte of the answer.
``begin()`` is called before each attempt, so an earlier request's connection is never
taken for this one's.
"""

from __future__ import annotations

import http.client
import threading

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

# Per thread (per greenlet under gevent, which patches threading.local): the connection
# the current attempt was sent on.
_attempt = threading.local()
# Closed by the server before any byte of the answer (http.client raises RemoteDisconnected
# for an empty status line; a reset or broken pipe is the same close seen while sending).
_NO_ANSWER = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Tracked:
    """Counts the requests sent on the current socket (a reconnect starts again at 0)."""

    _sent_on_socket = 0

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._sent_on_socket = 0

    def request(self, *args, **kwargs) -> None:
        _attempt.reused = getattr(self, "sock", None) is not None and self._sent_on_socket > 0
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        finally:
            # After: a connection opened by this request (connect() inside) counts it too.
            self._sent_on_socket += 1


class _TrackedHTTPConnection(Tracked, HTTPConnection):
    pass


class _TrackedHTTPSConnection(Tracked, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


POOL_CLASSES = {"http": _Pool, "https": _TlsPool}


class TrackedAdapter(HTTPAdapter):
    """Tracked connections for a ``requests.Session`` (mounted on its http:// and https://)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES


def begin() -> None:
    """Before each attempt: nothing is known yet of the connection it will use."""
    _attempt.reused = False


def never_reached(error: BaseException) -> bool:
    """A reused connection that the server closed before answering this request."""
    return bool(getattr(_attempt, "reused", False)) and _closed_before_answer(error, depth=0)


def _closed_before_answer(error: BaseException | None, depth: int) -> bool:
    # requests wraps urllib3's ProtocolError, which wraps what http.client raised: look
    # through the wrappers (their args, and the exceptions they were raised from).
    if error is None or depth > 6:
        return False
    if isinstance(error, TimeoutError):
        return False
    if isinstance(error, _NO_ANSWER):
        return True
    inner: list[BaseException | None] = [arg for arg in error.args if isinstance(arg, BaseException)]
    inner += [error.__cause__, error.__context__, getattr(error, "reason", None)]
    return any(_closed_before_answer(each, depth + 1) for each in inner if each is not error)
