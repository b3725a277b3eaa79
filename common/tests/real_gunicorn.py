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


@dataclass
class Running:
    process: subprocess.Popen
    port: int
    log: Path


@contextmanager
def running(folder: Path, app: str, config: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    """gunicorn serving ``app`` with ``config``, both written to ``folder``; stopped when the
    block ends (SIGTERM, then SIGKILL if it still runs 30 s later)."""
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
