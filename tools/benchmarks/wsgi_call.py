"""One request sent straight to a WSGI app, as gunicorn would hand it over, for the
in-process measurements (benchmarks.*_in_process): no socket, no server, no gevent, so
the CPU time they count is the app's own work."""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


class WsgiCall:
    """A request, built once, sent as often as asked; ``headers`` by their HTTP names."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        host: str = "localhost",
    ):
        self.app = app
        self.body = body
        self.environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": host.partition(":")[0],
            "SERVER_PORT": host.partition(":")[2] or "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            self.environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
        if body:
            self.environ["CONTENT_LENGTH"] = str(len(body))
        self.status = ""

    def _start_response(self, status: str, headers: list, exc_info: Any = None) -> None:
        self.status = status

    def send(self) -> bytes:
        """The answer's body; a status other than 200 stops the measurement, saying why."""
        environ = dict(self.environ, **{"wsgi.input": io.BytesIO(self.body)})
        answer = b"".join(self.app(environ, self._start_response))
        if not self.status.startswith("200"):
            raise SystemExit(f"the request was answered {self.status}: {answer[:300]!r}")
        return answer

    def cpu_us(self, times: int) -> float:
        """Microseconds of CPU per request over ``times`` of them."""
        return cpu_us(self.send, times)


def cpu_us(call: Callable[[], object], times: int) -> float:
    """Microseconds of CPU (time.process_time, which waiting for a core does not count) per
    ``call()`` over ``times`` of them."""
    start = time.process_time()
    for _ in range(times):
        call()
    return (time.process_time() - start) / times * 1e6


def profile_round(call: WsgiCall, times: int, path: Path, where: str) -> None:
    """One more round of ``call`` under cProfile: its statistics written to ``path``, and the
    largest cumulative entries of the modules matching ``where`` printed (the profiler slows
    every call down: read its shares, not its times)."""
    profile = cProfile.Profile()
    profile.runcall(call.cpu_us, times)
    profile.dump_stats(path)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(where, 30)


def round_arguments(doc: str, unit: str, count: int, rounds: int, argv: list[str] | None) -> argparse.Namespace:
    """The command line of an in-process measurement: ``--<unit>`` a round, ``--rounds``
    (the best is kept), ``--profile FILE`` for one more round under cProfile."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(f"--{unit}", type=int, default=count, help=f"{unit} per round ({count})")
    parser.add_argument("--rounds", type=int, default=rounds, help=f"rounds; the best is kept ({rounds})")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics of one more round here")
    return parser.parse_args(argv)
