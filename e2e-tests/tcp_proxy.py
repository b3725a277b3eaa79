"""A tiny loopback TCP proxy a test puts between a service and the identity provider.

Its mode says what the service meets: ``pass`` forwards bytes as they come, ``slow``
holds each chunk the upstream sends for ``delay`` seconds before passing it on (a slow
provider, as seen from the service), ``refuse`` closes every new connection at once (a
provider that cannot be reached, while the real one keeps serving everyone else),
``close-on-reuse`` closes a connection that already carried an answer when the next
request arrives on it, without passing that request on: a server closing an idle
keep-alive connection at the very moment the client reuses it (``closed_on_reuse``
counts them).
Threads, one pair a connection; loopback only; closed with the ``with`` block.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.mode = "pass"
        self.delay = 0.0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._open: set[socket.socket] = set()
        self._answered: set[socket.socket] = set()  # client sockets that got bytes back
        self.closed_on_reuse = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def set(self, mode: str, delay: float = 0.0) -> None:
        """Switch mode for new bytes and connections; ``pass`` also drops open ones, so a
        pooled connection made in another mode is not reused."""
        self.mode, self.delay = mode, delay
        if mode not in ("slow", "close-on-reuse"):
            self.drop_connections()

    def drop_connections(self) -> None:
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self.drop_connections()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_upstream: bool) -> None:
        source.settimeout(None)
        try:
            while data := source.recv(65536):
                if from_upstream and self.mode == "slow":
                    time.sleep(self.delay)  # the slowness under test, not a wait for readiness
                if not from_upstream and self.mode == "close-on-reuse" and source in self._answered:
                    with self._lock:
                        self.closed_on_reuse += 1
                    break  # the new request is dropped unread by the upstream; both ends close
                sink.sendall(data)
                if from_upstream:
                    self._answered.add(sink)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
