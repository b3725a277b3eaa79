"""The gunicorn worker of every service: gevent, with a deadline on each request body.

A slow or silent client costs a greenlet here, not one of a handful of threads, so a few
hundred of them do not stop a service answering everyone else (docs/reliability.md).
Each such client is also dropped after a bounded time:
- waiting for a request line and headers: gunicorn's gevent worker gives up after
  `keepalive` seconds (each service's gunicorn.conf.py sets it, or gunicorn's 2 s);
- waiting for the body of a request whose headers have arrived: BODY_TIMEOUT seconds
  from the headers, however the bytes trickle in, then a 408 and the connection is shut.

An answer goes out in one write: gunicorn sends the status line and headers, then the
body, in two ``sendall`` calls; on loopback each is a system call that wakes the client,
and the first was a third of a small answer's time in a profile (docs/benchmarks.md).
``OneWriteResponse`` keeps the headers until the first body bytes (or the end of the
answer) and sends them together.

Each service's gunicorn.conf.py imports this module before anything else. Importing it
monkey-patches the standard library, in the master, before gunicorn loads the
application (preload_app): every lock, socket and SSL context the application makes,
including those made at import or in the app factory (the Source API's single-flight
locks, the JWKS cache's lock, requests' pools), is then gevent's. A real threading.Lock
held across I/O by one greenlet would block the whole process when a second greenlet
asks for it.

Every image installs this package (obo_serving), as the virtual environment does, so
each gunicorn.conf.py imports it as any other module.
"""

import contextlib  # patch_all leaves it as it is

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402  (after the patching, on purpose)
import time  # noqa: E402

import gevent  # noqa: E402
from gunicorn.http import wsgi  # noqa: E402
from gunicorn.workers.ggevent import GeventWorker  # noqa: E402

# Seconds a client has to send a whole body once its headers have arrived. The bodies
# of this project are forms and small JSON documents: a few kilobytes, sent at once by
# any real client, however slow its network.
BODY_TIMEOUT = 15.0
# Connections one worker process serves at once (gunicorn's default, said here).
WORKER_CONNECTIONS = 1000

TIMED_OUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class _BodyDeadline:
    """Stands in for the reader of one request's body: each read is cut at the deadline.

    At the deadline the client gets a 408 and the connection is shut, and the
    application reads the end of the body, as if the client had gone: frameworks already
    answer that case cleanly (Werkzeug raises ClientDisconnected, a 400 nobody receives).
    """

    def __init__(self, worker, req, sock, seconds: float):
        self._worker, self._req, self._sock = worker, req, sock
        self._reader = req.body.reader
        self._deadline = time.monotonic() + seconds
        self._seconds = seconds
        self._given_up = False

    def read(self, size):
        remaining = self._deadline - time.monotonic()
        if remaining > 0 and not self._given_up:
            timer = gevent.Timeout(remaining)
            timer.start()
            try:
                return self._reader.read(size)
            except gevent.Timeout as timeout:
                if timeout is not timer:  # an outer deadline (the worker's keepalive)
                    raise
            finally:
                timer.close()
        self._give_up()
        return b""

    def _give_up(self) -> None:
        if self._given_up:
            return
        self._given_up = True
        self._req.body.failed = True  # gunicorn must not read another request from it
        self._worker.log.info(
            "%s %s: body not received within %.0f s; 408 and connection closed",
            self._req.method,
            self._req.path,
            self._seconds,
        )
        # The send buffer of a connection that sent us a request is empty: this does not
        # wait on the client.
        with contextlib.suppress(OSError):
            self._sock.sendall(TIMED_OUT_RESPONSE)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)


class OneWriteResponse(wsgi.Response):
    """gunicorn's response, with the headers sent in the same write as the first body bytes."""

    _pending = b""

    def send_headers(self):
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend(f"{name}: {value}\r\n" for name, value in self.headers)
        self._pending = ("".join(lines) + "\r\n").encode("latin-1")
        self.headers_sent = True

    def _emit_body(self, data):
        if self.chunked:
            data = b"%X\r\n%s\r\n" % (len(data), data)
        self._send(data)

    def sendfile(self, respiter):
        # os.sendfile writes to the socket itself: the headers must be out before it.
        self.send_headers()
        self._send(b"")
        return super().sendfile(respiter)

    def close(self):
        self.send_headers()
        self._send(b"0\r\n\r\n" if self.chunked else b"")

    def _send(self, data: bytes) -> None:
        data, self._pending = self._pending + data, b""
        if data:
            self.sock.sendall(data)


# wsgi.create builds each request's response from this module attribute.
wsgi.Response = OneWriteResponse


class BodyDeadlineWorker(GeventWorker):
    """gunicorn's gevent worker, with BODY_TIMEOUT on every request body."""

    def handle_request(self, listener_name, req, sock, addr):
        if req.body is not None:
            req.body.reader = _BodyDeadline(self, req, sock, BODY_TIMEOUT)
        return super().handle_request(listener_name, req, sock, addr)
