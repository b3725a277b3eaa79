"""Real gunicorn for the tests of the services' worker (obo_serving): an app and a
gunicorn.conf.py given as module text, served on a free loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTED_WITHIN = 30.0
# The services' worker, one process. A request with X-Busy-Until-Next holds the whole
# worker after its answer until the connection's next request has arrived (a real select,
# not gevent's): the state of a worker under load, made certain. That next request is then
# read and answered without the loop running, so with another connection open the one after
# it waits for its turn. The bound only keeps a broken worker from hanging a test. A test
# adds its own settings (keepalive, graceful_timeout) after this text.
WORKER_CONFIG = """
from gevent import monkey

from obo_serving import gunicorn_worker

real_select = monkey.get_original("select", "select")

worker_class = gunicorn_worker.BodyDeadlineWorker
workers = 1
errorlog = "-"


def post_request(worker, req, environ, resp):
    if environ.get("HTTP_X_BUSY_UNTIL_NEXT"):
        real_select([resp.sock], [], [], 5)
"""
BUSY_UNTIL_NEXT = "X-Busy-Until-Next: 1\r\n"


@dataclass
class Running:
    process: subprocess.Popen
    port: int
    log: Path


@contextmanager
def running(folder: Path, app: str, config: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    """gunicorn serving ``app`` with ``config`` (WORKER_CONFIG and a test's own settings),
    both written to ``folder``; stopped when the block ends (SIGTERM, then SIGKILL if it
    still runs 30 s later)."""
    (folder / "served_app.py").write_text(app)
    (folder / "served_conf.py").write_text(config)
    log = folder / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "served_conf.py", "--bind", "127.0.0.1:0", "served_app:app"]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=folder, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTED_WITHIN
        while not (found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"gunicorn did not start: {log.read_text()}"
            time.sleep(0.05)
        yield Running(process, int(found.group(1)), log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
