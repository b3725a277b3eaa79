"""What a local `make up` started, recorded in its run folder, so `make down` can stop it
even when the launcher itself is gone (killed hard, or its terminal closed).

local_stack/run_local.py writes ``services.json`` beside its pid file: its own pid, the URLs,
and for each service the pid, start time and program of its process: a gunicorn master,
or with SOURCE_API_REPLICAS the load balancer (haproxy) and Redis (redis-server); each runs
in a session of its own, so nothing else stops it. Before signalling a recorded pid we
check it is still that process: same start time (``/proc/<pid>/stat``) and the recorded
program in its command line, so a pid reused since is never touched.

    python -m local_stack.run_state stop     # what local_stack/down.sh runs; stdlib only
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

STATE_NAME = "services.json"


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def describe(pid: int, program: str | None = None) -> dict:
    entry: dict = {"pid": pid, "start_time": start_time(pid)}
    if program:
        entry["program"] = program
    return entry


def write(
    folder: Path,
    launcher_pid: int,
    urls: dict[str, str],
    pids: dict[str, int],
    programs: dict[str, str] | None = None,
) -> None:
    """``programs``: each service's program by name, where it is not gunicorn."""
    programs = programs or {}
    state = {
        "launcher": describe(launcher_pid),
        "urls": urls,
        "services": {name: describe(pid, programs.get(name, "gunicorn")) for name, pid in pids.items()},
    }
    path = folder / STATE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    temporary.replace(path)  # a reader never sees half a file


def read(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STATE_NAME).read_text())
    except (OSError, ValueError):
        return None


def is_same(entry: dict, command: str) -> bool:
    """The recorded process still runs, is the one recorded, and runs ``command``."""
    pid = entry.get("pid")
    if not isinstance(pid, int) or entry.get("start_time") is None or start_time(pid) != entry["start_time"]:
        return False
    try:
        return command in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def launcher_running(folder: Path) -> bool:
    state = read(folder)
    return bool(state) and is_same(state.get("launcher", {}), "local_stack.run_local")


def left_running(folder: Path) -> dict[str, int]:
    """The recorded services whose process still runs: name -> pid."""
    state = read(folder) or {}
    return {
        name: entry["pid"]
        for name, entry in state.get("services", {}).items()
        if is_same(entry, entry.get("program", "gunicorn"))
    }


def stop_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM to the service's session (master and workers), SIGKILL what is left after ``timeout``."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop_left_running(folder: Path) -> list[str]:
    """Stop every recorded service still running; their names."""
    stopped = []
    for name, pid in left_running(folder).items():
        if os.getpgid(pid) == pid:  # its own session, as the launcher starts it
            stop_group(pid)
        else:
            os.kill(pid, signal.SIGTERM)
        stopped.append(name)
    return stopped


def main(argv: list[str]) -> int:
    if argv != ["stop"]:
        print("usage: run_state.py stop", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parents[2]
    folder = root / (os.environ.get("DEMO_RUN_DIR") or ".run")
    if launcher_running(folder):
        print("make down: the launcher still runs: stop it first (kill -TERM its pid)", file=sys.stderr)
        return 1
    stopped = stop_left_running(folder)
    if stopped:
        print(f"Stopped {', '.join(stopped)}, left running by a make up that did not end.")
    (folder / STATE_NAME).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
