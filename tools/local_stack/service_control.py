"""make stop SERVICE=... / make start SERVICE=...: one service of the running demo, the
others untouched, to show what its absence does (docs/troubleshooting.md T31, T32).

    make stop SERVICE=target-api     # the Source API now answers 502 for contacts (T31)
    make start SERVICE=target-api    # back, on the same port and data

Works with either mode of `make up`: local processes (asks local_stack/run_local.py over its
control socket in .run/, or DEMO_RUN_DIR) or Docker Compose (``docker compose stop/start``).
Waits until the service's port refuses connections, or its /healthz answers. Asking for
the state a service is already in does nothing and says so (exit 0); an unknown service
exits 2; a failure, or no `make up` running, exits 1.

With SOURCE_API_REPLICAS (local processes), ``SERVICE=source-api`` is every replica and the
load balancer; ``SERVICE=source-api-2`` one replica, ``SERVICE=redis`` the token cache
(local_stack/scale_out.py). The launcher answers for those once the process is gone or ready.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from local_stack import demo_settings, scale_out
from local_stack.launcher import DEFAULT_PORTS, ROOT, STOP_GRACE
from local_stack.run_local import SOCKET_NAME, local_urls, run_dir

SERVICES = list(DEFAULT_PORTS)
ACTIONS = ("stop", "start")
STOP_TIMEOUT, START_TIMEOUT = 30.0, 90.0  # an image's first start in compose can be slow


class ControlError(Exception):
    """The request could not be carried out: the message says why, for the person."""


# -- the two modes of make up ---------------------------------------------------------------


def ask_local(path: Path, action: str, name: str) -> dict | None:
    """The local launcher's answer; None when no launcher listens at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(START_TIMEOUT + 10)  # it answers when the service is up
        try:
            connection.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        except OSError as error:
            raise ControlError(f"cannot reach the local launcher at {path}: {error}") from None
        connection.sendall(json.dumps({"action": action, "service": name}).encode() + b"\n")
        reply = connection.makefile("rb").readline()
    try:
        return json.loads(reply)
    except ValueError:
        raise ControlError(f"the local launcher did not answer at {path}") from None


def compose_command() -> list[str] | None:
    """``docker compose`` or ``docker-compose`` where a Docker engine answers (as local_stack/up.sh checks)."""
    if not shutil.which("docker") or not _succeeds(["docker", "info"]):
        return None
    if _succeeds(["docker", "compose", "version"]):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def compose_control(compose: list[str], action: str, name: str) -> dict:
    running = _run([*compose, "ps", "--services", "--filter", "status=running"]).stdout.split()
    if not running:
        raise ControlError("make up is not running: no service of the demo runs in Docker Compose")
    if (name in running) == (action == "start"):
        return {
            "ok": True,
            "changed": False,
            "message": f"{name} is already {'running' if name in running else 'stopped'}",
        }
    done = _run([*compose, action, name])
    if done.returncode != 0:
        raise ControlError(f"{' '.join(compose)} {action} {name} failed: {done.stderr.strip() or done.stdout.strip()}")
    return {"ok": True, "changed": True, "message": f"{name} {'stopped' if action == 'stop' else 'started'}"}


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# -- waiting for the result ------------------------------------------------------------------


def wait_refused(url: str, timeout: float = STOP_TIMEOUT) -> None:
    parts = urlsplit(url)
    address = (parts.hostname or "localhost", parts.port or 80)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=1).close()
        except OSError:
            return
        time.sleep(0.2)
    raise ControlError(f"{url} still accepts connections after {timeout:.0f}s")


def wait_healthy(url: str, timeout: float = START_TIMEOUT) -> None:
    health = url.rstrip("/") + "/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 (the demo's own URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise ControlError(f"{health} did not answer 200 within {timeout:.0f}s")


# -- the command -----------------------------------------------------------------------------


def waiting_for(action: str, name: str, url: str) -> str:
    """The line said before the wait, so a quiet terminal is not taken for a hung one."""
    if action == "stop":
        return (
            f"make stop: stopping {name}: gunicorn ends its idle connections and lets the requests in "
            f"progress finish, for up to {STOP_GRACE:.0f}s before it is killed; waiting until {url} refuses "
            "connections..."
        )
    health = url.rstrip("/") + "/healthz"
    return f"make start: starting {name}; waiting until {health} answers (up to {START_TIMEOUT:.0f}s)..."


def control(action: str, name: str, say=print) -> str:
    """Do it, wait until it is so, and say what happened; ControlError when it cannot.
    ``say`` gets one line before the wait."""
    control_socket = run_dir() / SOCKET_NAME
    url = local_urls(demo_settings.load()).get(name)
    if url is not None:  # a process of the scaled Source API: the launcher says what it waits for
        say(waiting_for(action, name, url), flush=True)
    answer = ask_local(control_socket, action, name)
    if answer is None:
        compose = compose_command()
        if compose is None:
            raise ControlError(
                f"make up is not running: no local launcher answers at {control_socket} and no Docker engine answers"
            )
        answer = compose_control(compose, action, name)
    if not answer.get("ok"):
        raise ControlError(answer.get("message") or "the launcher refused")
    if url is None:  # a process of the scaled Source API: the launcher waited for it
        return str(answer.get("message"))
    if action == "stop":
        wait_refused(url)
        if not answer.get("changed"):
            return f"{name} is already stopped ({url} refuses connections): nothing to do."
        return (
            f"{name} stopped: {url} refuses connections; the other services keep running. "
            f"make start SERVICE={name} starts it again."
        )
    wait_healthy(url)
    if not answer.get("changed"):
        return f"{name} is already running ({url.rstrip('/')}/healthz answers): nothing to do."
    return f"{name} is running again: {url.rstrip('/')}/healthz answers."


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    action, name = ([*args, "", ""])[:2]
    if action not in ACTIONS or len(args) > 2:
        print(f"usage: {Path(__file__).name} stop|start SERVICE", file=sys.stderr)
        return 2
    if name not in SERVICES and name != scale_out.REDIS and not scale_out.is_member(name):
        given = f"unknown SERVICE={name!r}" if name else "no SERVICE given"
        print(f"make {action}: {given}: make {action} SERVICE=<{'|'.join(SERVICES)}>", file=sys.stderr)
        return 2
    try:
        print(control(action, name))
    except ControlError as error:
        print(f"make {action} SERVICE={name}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
