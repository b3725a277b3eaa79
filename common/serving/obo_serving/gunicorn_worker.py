"""The gunicorn worker of every service: gevent, with a deadline on each request body.

A slow or silent client costs a greenlet here, not one of a handful of threads, so a few
hundred of them do not stop a service answering everyone else (docs/reliability.md).
Each such client is also dropped after a bounded time:
- waiting for the first request line and headers of a connection: HEADER_TIMEOUT
  seconds from the accept (or `keepalive`, when shorter), however the bytes trickle in;
- waiting for a later request of a kept-alive connection: `keepalive` seconds (each
  service's gunicorn.conf.py sets it, or gunicorn's 2 s): a caller's pooled connection
  stays open between its requests as long as the service allows;
- waiting for the body of a request whose headers have arrived: BODY_TIMEOUT seconds
  from the headers, however the bytes trickle in, then a 408 and the connection is shut.

Connections take turns: a pooled client under load sends its next request as soon as it
has an answer, so the request is often there when the worker is done with the last one.
gunicorn read it at once, and could serve that connection again and again while the
requests of the worker's other connections waited, hundreds of milliseconds at 16 busy
connections. Now, when a request was read and answered without the loop running meanwhile
and the worker holds other connections, the connection's next request is waited for
through gevent's loop, as one that has not arrived is, so the others waiting are served
first. The wait is within the connection's `keepalive`. A request that had to be waited
for, or that waited itself (a call out), has already let the loop run: nothing is added.

An answer goes out in one write: gunicorn sends the status line and headers, then the
body, in two ``sendall`` calls; on loopback each is a system call that wakes the client,
and the first was a third of a small answer's time in a profile (docs/benchmarks.md).
``OneWriteResponse`` keeps the headers until the first body bytes (or the end of the
answer) and sends them together.

A graceful stop (SIGTERM: `make stop`, `docker compose stop`, a rolling deployment) ends
the connections that wait for a request at once, and lets the requests in progress finish,
each answer closing its connection. gunicorn waited for every connection, an idle kept-alive
one included, up to its `graceful_timeout` (30 s): a caller's pool holding one connection to
the service (the Source API's to the Target API, say) kept it running that long, or until a
supervisor's own timeout killed it mid-way. A connection is waiting from the moment gunicorn
starts reading its next request until the request is read; ending it is what the client of
a kept-alive connection is ready for at any time (it sends the request again on a new one).

New connections spread over the workers: with more than one, a worker holding open
connections puts each accept off by a millisecond for each (at most 4 ms), so an idle or
less busy worker takes the connection first (accept_spreading.py). Nothing above changes:
the deadlines count from the accept, and a worker shutting down stops accepting at once.

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
from gunicorn.http import errors as http_errors  # noqa: E402
from gunicorn.http import wsgi  # noqa: E402
from gunicorn.http.body import LengthReader  # noqa: E402
from gunicorn.workers import ggevent  # noqa: E402
from gunicorn.workers.ggevent import GeventWorker  # noqa: E402

from obo_serving.accept_spreading import SpreadingStreamServer  # noqa: E402

# Seconds a client has to send a whole body once its headers have arrived. The bodies
# of this project are forms and small JSON documents: a few kilobytes, sent at once by
# any real client, however slow its network.
BODY_TIMEOUT = 15.0
# Seconds a new connection has to send its first request line and headers. gunicorn's
# gevent worker gives the first request the same `keepalive` as an idle pooled connection
# (75 s at the APIs): a client opening connections and sending nothing whole held each
# for that long, and a worker's pool (WORKER_CONNECTIONS) was full with a thousand.
HEADER_TIMEOUT = 10.0
# Connections one worker process serves at once (gunicorn's default, said here).
WORKER_CONNECTIONS = 1000

TIMED_OUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class _BodyDeadline:
    """Stands in for the reader of one request's body: each read is cut at the deadline.

    At the deadline the client gets a 408 and the connection is shut, and the
    application reads the end of the body, as if the client had gone: frameworks already
    answer that case cleanly (Werkzeug raises ClientDisconnected, a 400 nobody receives).
    A body read whole is never given up: reading past its end, at any time, gives b"".
    """

    def __init__(self, worker, req, sock, seconds: float):
        self._worker, self._req, self._sock = worker, req, sock
        self._reader = req.body.reader
        self._deadline = time.monotonic() + seconds
        self._seconds = seconds
        self._given_up = False
        self._ended = False

    def at_end(self) -> bool:
        """Whether the whole body has been read (a chunked one once its end was read)."""
        return self._ended or (isinstance(self._reader, LengthReader) and self._reader.length == 0)

    def read(self, size):
        if self.at_end():
            return b""
        remaining = self._deadline - time.monotonic()
        if remaining > 0 and not self._given_up:
            timer = gevent.Timeout(remaining)
            timer.start()
            try:
                data = self._reader.read(size)
                self._ended = not data
                return data
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
# GeventWorker.run builds its server for each listening socket from this module attribute.
ggevent.StreamServer = SpreadingStreamServer


def _without_query(line: str) -> str:
    """A request line as the logs may show it: up to the path, the query string left out
    (an authorization code, a state, whatever a client put there), as the access logs do."""
    path_and_rest = line.split("?", 1)
    return path_and_rest[0] + ("?..." if len(path_and_rest) > 1 else "")  # ASCII: it is answered too


class _TurnThenRequest:
    """timeout_ctx() of a kept-alive connection whose turn comes first: the keepalive
    deadline, as gunicorn's, and inside it the wait for the connection's turn."""

    def __init__(self, seconds: float, readable, read_at: dict, connection):
        self._timeout = gevent.Timeout(seconds, False)
        self._readable = readable  # the connection's own read watcher
        self._read_at, self._connection = read_at, connection

    def __enter__(self):
        self._timeout.start()
        hub = gevent.get_hub()
        try:
            hub.wait(self._readable)
        except gevent.Timeout as timeout:
            self._timeout.close()
            if timeout is not self._timeout:
                raise
            raise StopIteration() from None  # no request within keepalive: gunicorn closes
        except BaseException:  # the connection ended while it waited (a graceful stop)
            self._timeout.close()
            raise
        self._read_at[self._connection] = hub.loop.iteration
        return self

    def __exit__(self, kind, value, traceback):
        return self._timeout.__exit__(kind, value, traceback)


class BodyDeadlineWorker(GeventWorker):
    """gunicorn's gevent worker, with HEADER_TIMEOUT on the first request of each connection,
    BODY_TIMEOUT on every request body, and kept-alive connections served in turns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The greenlets (one a connection) whose first request has not been read yet.
        self._before_first_request: set = set()
        # Connections open in this worker; the loop's pass when each started reading its
        # request; those whose next request waits for its turn, and the read watcher of
        # each connection that has waited (kept while it is open).
        self._open = 0
        self._read_at: dict = {}
        self._turn_due: set = set()
        self._readable: dict = {}
        # The connections waiting for a request: ended at once by a graceful stop.
        self._waiting: set = set()

    def handle(self, listener, client, addr):
        connection = gevent.getcurrent()
        self._before_first_request.add(connection)
        self._open += 1
        try:
            super().handle(listener, client, addr)
        finally:
            self._open -= 1
            self._before_first_request.discard(connection)
            self._read_at.pop(connection, None)
            self._turn_due.discard(connection)
            self._waiting.discard(connection)
            readable = self._readable.pop(connection, None)
            if readable is not None:
                readable.close()

    def handle_error(self, req, client, addr, exc):
        # gunicorn logs a request line it cannot parse whole ("Invalid request from ip=...:
        # Invalid HTTP request line: 'GET /callback?code=...'"), and the URI of a request
        # whose handling failed; the query string goes before either is written.
        if isinstance(exc, http_errors.InvalidRequestLine):
            exc.req = _without_query(str(exc.req))
        if req is not None and isinstance(getattr(req, "uri", None), str):
            req.uri = _without_query(req.uri)
        return super().handle_error(req, client, addr, exc)

    def timeout_ctx(self):
        # gunicorn wraps the reading of each request line and headers of a kept-alive
        # connection in this (base_async.AsyncWorker.handle), the first request's included.
        connection = gevent.getcurrent()
        if not self.alive and connection not in self._before_first_request:
            # Stopping: a request answered since has left its connection open; no other is
            # read on it (gunicorn closes it, as after a request that asked to close).
            raise StopIteration()
        self._waiting.add(connection)
        if connection in self._turn_due:
            self._turn_due.discard(connection)
            return _TurnThenRequest(self.cfg.keepalive, self._readable[connection], self._read_at, connection)
        self._read_at[connection] = gevent.get_hub().loop.iteration
        if connection in self._before_first_request:
            self._before_first_request.discard(connection)
            return gevent.Timeout(min(HEADER_TIMEOUT, self.cfg.keepalive), False)
        return super().timeout_ctx()

    def handle_request(self, listener_name, req, sock, addr):
        self._waiting.discard(gevent.getcurrent())
        if req.body is not None:
            req.body.reader = _BodyDeadline(self, req, sock, BODY_TIMEOUT)
        super().handle_request(listener_name, req, sock, addr)
        # Answered, and the connection stays open (gunicorn raises StopIteration otherwise).
        # A turn is due when the loop has not run since this request began to be read: it
        # was there at once and was served without a wait. A request that had to be waited
        # for, or one served with a wait (a call out, say), let the loop serve the others.
        connection = gevent.getcurrent()
        if (
            self._open > 1
            and self._read_at.get(connection) == gevent.get_hub().loop.iteration
            and _nothing_read_ahead(req, sock)
        ):
            if connection not in self._readable:
                self._readable[connection] = gevent.get_hub().loop.io(sock.fileno(), 1)
            self._turn_due.add(connection)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)  # each answer from now on closes its connection
        # From the loop, not from the signal handler: the connections are all parked then,
        # and those still waiting are parked in the read of their next request.
        gevent.get_hub().loop.run_callback(self._end_waiting_connections)

    def _end_waiting_connections(self):
        for connection in list(self._waiting):
            if connection in self._waiting:  # an earlier one may have ended it meanwhile
                # As if the client had closed it: gunicorn closes the connection quietly.
                connection.throw(http_errors.NoMoreData(b""))


def _nothing_read_ahead(req, sock) -> bool:
    """Whether the connection's next bytes are still on the socket: not read ahead by
    gunicorn (a pipelined request) or held inside TLS, and no rest of a body that gunicorn
    reads first, within the body's deadline (or it closes the connection)."""
    if req.unreader.buf.getbuffer().nbytes or (hasattr(sock, "pending") and sock.pending()):
        return False
    return req.body is None or (not req.body.failed and req.body.reader.at_end())
