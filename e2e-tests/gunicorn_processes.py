"""A gunicorn master's worker processes, read from /proc (psutil is not installed)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def workers_of(master: int) -> set[int]:
    """The pids of the processes whose parent is ``master``: gunicorn's workers."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == master:
            children.add(int(stat.parent.name))
    return children


def wait_for_workers(master: int, count: int, without: set[int] = frozenset(), within: float = 30.0) -> set[int]:
    """Poll until ``master`` has ``count`` workers, none of them in ``without``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        workers = workers_of(master)
        if len(workers) == count and not workers & without:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"gunicorn {master} has workers {sorted(workers_of(master))}, not {count} new ones")


def kill(pid: int) -> None:
    """SIGKILL, as the kernel's OOM killer or a crash would end it: no clean shutdown."""
    os.kill(pid, signal.SIGKILL)
