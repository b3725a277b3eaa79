"""Start the project's services as local gunicorn processes and wait until they answer.

Used by ``make up`` (local_stack/run_local.py) when no Docker engine is available, and by the
end-to-end tests, so both run the services exactly the same way.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Service:
    name: str
    directory: str
    app: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    scheme: str = "http"  # https: mock-idp behind an https issuer (local_stack/local_tls.py)
    # Not a gunicorn app: the program to run (Redis, HAProxy: local_stack/scale_out.py).
    command: tuple[str, ...] = ()
    # How to tell it is ready: GET /healthz answers 200 ("http"), or PING answers PONG ("redis").
    probe: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://localhost:{self.port}"


DEFAULT_PORTS = {"mock-idp": 9000, "target-api": 3002, "source-api": 3001, "web-app": 3000}


def default_services(ports: dict[str, int] | None = None) -> list[Service]:
    """The four services in start order, on ``ports`` (by name) or `make up`'s defaults."""
    port = {**DEFAULT_PORTS, **(ports or {})}
    return [
        Service("mock-idp", "mock-idp", "mock_idp.wsgi:app", port["mock-idp"]),
        Service("target-api", "target-api", "target_api.wsgi:app", port["target-api"]),
        Service("source-api", "source-api", "source_api.wsgi:app", port["source-api"]),
        Service("web-app", "web-app", "web_app.wsgi:app", port["web-app"]),
    ]


def isolated_stack(ports: dict[str, int], data: Path, extra: dict[str, dict[str, str]] | None = None) -> list[Service]:
    """The four services on the given ports, their data under ``data``: for tests and benchmarks.

    The issuer is http://localhost:<mock-idp port>/ and the tenant lists the web app's
    callback on its port, so a stack can run beside `make up` without touching it.
    """
    issuer = f"http://localhost:{ports['mock-idp']}/"
    web_app = f"http://localhost:{ports['web-app']}"
    shared = {"OIDC_ISSUER": issuer, "MOCK_IDP_ISSUER": issuer}
    # One operator secret of the stack's own for the two services that hold it (never the
    # published default, which they refuse while the demo tools are on).
    operator = {"OPERATOR_SECRET": secrets.token_urlsafe(24)}
    env = {
        "mock-idp": {
            **shared,
            "MOCK_IDP_DATABASE": str(data / "mock-idp.sqlite3"),
            # The tenant lists <WEB_APP_BASE_URL>/callback, as the web app sends it.
            "WEB_APP_BASE_URL": web_app,
        },
        "target-api": {**shared, "TARGET_API_DATABASE": str(data / "target-api.sqlite3")},
        "source-api": {**shared, **operator, "SOURCE_API_TARGET_URL": f"http://localhost:{ports['target-api']}"},
        "web-app": {
            **shared,
            **operator,
            "WEB_APP_BASE_URL": web_app,
            "WEB_APP_SOURCE_API_URL": f"http://localhost:{ports['source-api']}",
            "WEB_APP_DATA_DIR": str(data / "web-app"),
        },
    }
    for name, values in (extra or {}).items():
        env[name].update(values)
    return [Service(s.name, s.directory, s.app, ports[s.name], env[s.name]) for s in default_services()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True when gunicorn could bind 127.0.0.1:``port`` (it sets SO_REUSEADDR too)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_holder(port: int) -> str | None:
    """Who listens on ``port``: "pid 123: python3 -m http.server 3000", read from /proc;
    None when it cannot be told (no /proc, or another user's process)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                command = (fd_dir.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                return f"pid {fd_dir.parent.name}: {command.strip()[:200]}"
        except OSError:
            continue
    return None


def describe_busy(port: int) -> str:
    holder = port_holder(port)
    return f"{port} (held by {holder})" if holder else str(port)


def start(service: Service, bin_dir: Path, output=None) -> subprocess.Popen:
    """Start one service; its output goes to ``output`` (a file) or is piped for prefixing."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **service.env)
    command = list(service.command)
    if not command:
        command = [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", service.app]
        # By its folder, not its name: a replica (source-api-2) binds as the Source API does.
        env[f"{service.directory.upper().replace('-', '_')}_BIND"] = f"127.0.0.1:{service.port}"
    return subprocess.Popen(
        command,
        cwd=ROOT / service.directory,
        env=env,
        stdout=output or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_healthy(service: Service, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll GET /healthz until it answers 200 (Redis: PING until PONG); fail early if the process exits."""
    deadline = time.monotonic() + timeout
    # Over https, the service's certificate is checked against what the service itself trusts.
    context = ssl.create_default_context(cafile=service.env.get("SSL_CERT_FILE"))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {process.returncode} before it was ready")
        if service.probe == "redis":
            if redis_answers(service.port):
                return
            time.sleep(0.1)
            continue
        try:
            with urllib.request.urlopen(f"{service.url}/healthz", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    what = f"PING on port {service.port}" if service.probe == "redis" else f"{service.url}/healthz"
    raise RuntimeError(f"{service.name} did not answer {what} within {timeout:.0f}s")


def redis_answers(port: int, timeout: float = 1.0) -> bool:
    """PING answered with PONG: the Redis server has loaded and takes commands."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# How long a stopped service may take to finish its requests before it is killed.
STOP_GRACE = 10.0


def stop(process: subprocess.Popen, timeout: float = STOP_GRACE) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            # Its own session (start_new_session): the group is the master and its workers.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prefix_output(name: str, process: subprocess.Popen, width: int) -> threading.Thread:
    """Copy a process's output to ours, each line prefixed with the service's name."""

    def pump():
        for line in process.stdout:
            sys.stdout.write(f"{name:<{width}} | {line}")
            sys.stdout.flush()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread
