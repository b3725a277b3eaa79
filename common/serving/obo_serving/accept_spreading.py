"""New connections spread over the gunicorn workers that share one listening socket.

Every worker watches the socket the master opened; when a connection arrives the kernel
wakes them all and the first to call accept() has it. A worker already running, busy with
its own connections, is often first, so a few kept-alive connections opened together (a
balancer's pool, the Source API's pooled client, `make bench`'s 8) landed all on one worker
while the other's core stayed idle (docs/benchmarks.md).

Here a worker holding k open connections puts the accept off by k times
ACCEPT_WAIT_PER_CONNECTION seconds (at most ACCEPT_WAIT_MAX), its watch on the socket
stopped meanwhile, and then accepts if the connection is still waiting. An idle worker
accepts at once and a less busy one before a busier one, with nothing shared between the
workers: each counts only its own connections. When no other worker takes the connection
(all as busy, or stopped), the busy one takes it at the end of its wait, so no connection
waits longer than ACCEPT_WAIT_MAX for a worker that could take it.

The steps are milliseconds because gevent's event loop (libev on epoll) sleeps at least
1 ms: two shorter waits would end together and decide nothing.
"""

from gevent.server import StreamServer

# Seconds a worker puts an accept off for each connection it holds, and at most. Only new
# connections wait: a kept-alive one pays this once, not for each of its requests.
ACCEPT_WAIT_PER_CONNECTION = 0.001
ACCEPT_WAIT_MAX = 0.004


def accept_wait(open_connections: int) -> float:
    """Seconds a worker holding ``open_connections`` waits before accepting a new one."""
    return min(open_connections * ACCEPT_WAIT_PER_CONNECTION, ACCEPT_WAIT_MAX)


class SpreadingStreamServer(StreamServer):
    """gevent's StreamServer, putting each accept off by accept_wait() of its open connections
    when it shares the socket with other processes."""

    _wait = None  # the hub timer of an accept put off

    def _do_read(self):
        # The listening socket is readable: gevent's watcher calls this.
        wait = self._accept_wait()
        if wait > 0:
            self.stop_accepting()
            self._wait = self.loop.timer(wait)
            self._wait.start(self._accept_after_wait)
            return
        super()._do_read()

    def _accept_wait(self) -> float:
        # gunicorn sets max_accept to 1 exactly when it runs more than one worker
        # (gunicorn/workers/ggevent.py): when other processes accept from this socket too.
        if self.max_accept != 1 or self.pool is None:
            return 0.0
        return accept_wait(len(self.pool))

    def _accept_after_wait(self):
        self._end_wait()
        # Watching again first: gevent's accept below stops it itself when the pool is full
        # or accept() fails, and finds nothing (EAGAIN) when another worker took the connection.
        self.start_accepting()
        super()._do_read()

    def start_accepting(self):
        # The pool restarts accepting when one of its connections ends; during a wait the
        # end of the wait does.
        if self._wait is None:
            super().start_accepting()

    def stop_accepting(self):
        # Also what close() calls when the worker shuts down: a wait under way ends with it.
        super().stop_accepting()
        self._end_wait()

    def _end_wait(self) -> None:
        if self._wait is not None:
            self._wait.stop()
            self._wait.close()
            self._wait = None
