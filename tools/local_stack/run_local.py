"""Run the demo as local processes: every service under gunicorn, logs interleaved.

Each service listens on the port of its URL in the settings (the environment, then
.env): OIDC_ISSUER for mock-idp, WEB_APP_BASE_URL, WEB_APP_SOURCE_API_URL and
SOURCE_API_TARGET_URL; 9000, 3000, 3001 and 3002 by default. MOCK_IDP_PORT, WEB_APP_PORT,
SOURCE_API_PORT and TARGET_API_PORT, when set, win over the URL's port, as they do for
Docker Compose's published ports (demo_settings.PORT_VARIABLES). Stops everything on Ctrl-C
or SIGTERM (``make down``), or when a service exits that was not asked to; further signals
during that shutdown are ignored, so it always ends with every service stopped. Each
service's gunicorn master is recorded in the run folder (local_stack/run_state.py): should the
launcher die without its shutdown, ``make down`` stops them from there.

``make stop SERVICE=...`` and ``make start SERVICE=...`` (local_stack/service_control.py) stop
and start one service while the others keep running, through a control socket: a Unix
socket in the run folder (``.run/``, or DEMO_RUN_DIR), beside the pid file. A socket rather
than a signal and a request file: the caller gets its answer on the same connection (done,
already so, or why not), requests are handled one at a time, and only the owner of the
folder can connect.

With SOURCE_API_REPLICAS=N (N > 1) the Source API runs as N replicas behind HAProxy at its
URL, sharing a Redis token cache (local_stack/scale_out.py): each is a process of its own here
(``source-api-1``.., ``load-balancer``, ``redis``). ``make stop/start SERVICE=source-api``
acts on the replicas and the balancer together; a single replica or Redis may be stopped
by its own name, and one that exits unasked does not stop the demo: the balancer sends
its requests to the others.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

from dotenv import dotenv_values

from local_stack import demo_settings, local_tls, run_state, scale_out
from local_stack.launcher import (
    ROOT,
    Service,
    default_services,
    describe_busy,
    port_is_free,
    prefix_output,
    start,
    stop,
    wait_healthy,
)
from obo_common.demo_tools import demo_tools_enabled

SOCKET_NAME = "control.sock"
PID_NAME = "local.pid"


def run_dir() -> Path:
    """The folder of the pid file and the control socket: DEMO_RUN_DIR, else .run/.

    Read from the environment only, never from .env, as local_stack/down.sh reads it."""
    return ROOT / (os.environ.get("DEMO_RUN_DIR") or ".run")


def load_env_file(path: Path) -> None:
    """.env, parsed as docker-compose parses it (quotes, comments); the environment wins."""
    if path.is_file():
        for name, value in dotenv_values(path).items():
            if value:
                os.environ.setdefault(name, value)


def mock_idp_environment(settings: demo_settings.DemoSettings) -> dict[str, str]:
    """The identity provider names itself by MOCK_IDP_ISSUER, and its tenant file calls the
    Management API client MANAGEMENT_CLIENT_*: set from the settings the apps read, as
    docker-compose.yml sets them."""
    return {
        "MOCK_IDP_ISSUER": settings.issuer,
        "MANAGEMENT_CLIENT_ID": settings.management_client_id,
        "MANAGEMENT_CLIENT_SECRET": settings.management_client_secret,
    }


def local_urls(settings: demo_settings.DemoSettings) -> dict[str, str]:
    """Each service's URL as the others (and people) reach it."""
    return settings.urls


class Supervisor:
    """The services' processes, and which of them are stopped on request (not fatal)."""

    def __init__(
        self,
        services: list[Service],
        urls: dict[str, str],
        bin_dir: Path,
        folder: Path,
        groups: dict[str, list[str]] | None = None,
    ):
        self.folder = folder
        self.services = {service.name: service for service in services}
        self.urls = {**urls, **{s.name: process_url(s) for s in services if s.name not in urls}}
        # A name that stands for several processes, in start order: source-api when scaled.
        self.groups = groups or {}
        self.bin_dir = bin_dir
        self.width = max(len(name) for name in self.services)
        self.processes: dict[str, subprocess.Popen] = {}
        self.held: set[str] = set()
        self.lock = threading.Lock()
        self.ready = False
        self.closing = False

    def start_all(self) -> None:
        # Another program on a port would answer the health checks in our services' place.
        busy = [f"{describe_busy(s.port)} for {s.name}" for s in self.services.values() if not port_is_free(s.port)]
        if busy:
            hint = "stop it, or change the URL in .env"
            if run_state.left_running(self.folder):
                hint = "services of a make up that did not end still run: make down stops them"
            raise RuntimeError(f"port {'; '.join(busy)} is in use by another program: {hint}")
        for batch in scale_out.start_batches(list(self.services.values())):
            for service in batch:
                with self.lock:
                    self._spawn(service)
            for service in batch:
                wait_healthy(service, self.processes[service.name])
        self.ready = True

    def exited(self) -> tuple[str, int] | None:
        """A service that exited without being asked to: its name and exit code.

        A replica or Redis of the scaled Source API is only taken out: the others (or
        more token exchanges) carry on, which is what the layout is for."""
        with self.lock:
            for name, process in self.processes.items():
                if name not in self.held and process.poll() is not None:
                    if name == scale_out.REDIS or (scale_out.is_member(name) and name != scale_out.LOAD_BALANCER):
                        self.held.add(name)
                        _say(
                            f"make up: {name} exited with code {process.returncode}; the others keep running "
                            f"(make start SERVICE={name} starts it again)"
                        )
                        continue
                    return name, process.returncode
        return None

    def control(self, action: str, name: str) -> dict:
        if name not in self.services and name not in self.groups:
            names = [*self.groups, *self.services]
            return _answer(False, f"unknown service {name!r}: one of {', '.join(dict.fromkeys(names))}")
        if not self.ready:
            return _answer(False, "the services are still starting: try again once make up says Ready")
        if action not in ("stop", "start"):
            return _answer(False, f"unknown action {action!r}: stop or start")
        members = self.groups.get(name, [name])
        if len(members) == 1:
            return self._stop_one(members[0]) if action == "stop" else self._start_one(members[0])
        # The balancer first on the way down, last on the way up: it never answers 503 for want of replicas.
        answers = [self._stop_one(m) for m in reversed(members)] if action == "stop" else []
        for member in members if action == "start" else []:
            answers.append(self._start_one(member))
            if not answers[-1]["ok"]:
                return answers[-1]
        changed = any(answer["changed"] for answer in answers)
        done = "stopped" if action == "stop" else "running"
        message = f"{name} ({', '.join(members)}) {done}" if changed else f"{name} is already {done}"
        return _answer(True, message, changed=changed)

    def _stop_one(self, name: str) -> dict:
        with self.lock:
            if name in self.held:
                return _answer(True, f"{name} is already stopped", changed=False)
            self.held.add(name)
            process = self.processes[name]
        stop(process)
        _say(f"make up: {name} stopped on request (make stop): the others keep running (make start SERVICE={name})")
        return _answer(True, f"{name} stopped")

    def _start_one(self, name: str) -> dict:
        with self.lock:
            if self.closing:
                return _answer(False, "make up is shutting down")
            if name not in self.held:
                return _answer(True, f"{name} is already running", changed=False)
            if not port_is_free(self.services[name].port):
                return _answer(False, f"port {self.services[name].port} is in use by another program now")
            process = self._spawn(self.services[name])
        try:
            wait_healthy(self.services[name], process)
        except RuntimeError as error:
            stop(process)
            _say(f"make up: {name} did not start again: {error}")
            return _answer(False, f"{name} did not start again: {error} (its output is in the make up terminal)")
        with self.lock:
            self.held.discard(name)
        _say(f"make up: {name} started again (make start) on {self.urls[name]}")
        return _answer(True, f"{name} started")

    def stop_all(self) -> None:
        with self.lock:
            self.closing = True
            processes = list(self.processes.values())
        for process in reversed(processes):
            stop(process)

    def _spawn(self, service: Service) -> subprocess.Popen:
        process = start(service, self.bin_dir)
        prefix_output(service.name, process, self.width)
        self.processes[service.name] = process
        pids = {name: running.pid for name, running in self.processes.items()}
        programs = {name: Path(s.command[0]).name for name, s in self.services.items() if s.command}
        run_state.write(self.folder, os.getpid(), self.urls, pids, programs)
        return process


def process_url(service: Service) -> str:
    """Where a process of the scaled Source API answers, for the banner and messages."""
    if service.probe == "redis":
        return f"redis://127.0.0.1:{service.port}/0"
    return f"http://127.0.0.1:{service.port}"


def _answer(ok: bool, message: str, changed: bool | None = None) -> dict:
    return {"ok": ok, "changed": ok if changed is None else changed, "message": message}


def _say(line: str) -> None:
    print(line, flush=True)


class _ControlHandler(socketserver.StreamRequestHandler):
    timeout = 5  # a caller that sends nothing is dropped

    def handle(self):
        try:
            request = json.loads(self.rfile.readline(4096))
            answer = self.server.supervisor.control(str(request["action"]), str(request["service"]))
        except (ValueError, KeyError, TypeError, OSError):
            answer = _answer(False, 'send one JSON line: {"action": "stop" or "start", "service": <name>}')
        self.wfile.write(json.dumps(answer).encode() + b"\n")


class ControlSocket(socketserver.UnixStreamServer):
    """One request at a time, each answered when done; served from a thread of its own."""

    def __init__(self, path: Path, supervisor: Supervisor):
        if path.exists():
            if _answers(path):
                raise RuntimeError(already_running(path.parent))
            path.unlink()  # left by a run that did not end cleanly
        try:
            super().__init__(str(path), _ControlHandler)
        except OSError as error:
            raise RuntimeError(f"cannot open the control socket {path}: {error} (set DEMO_RUN_DIR)") from None
        path.chmod(0o600)
        self.path = path
        self.supervisor = supervisor
        threading.Thread(target=self.serve_forever, name="control", daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)


def already_running(folder: Path) -> str:
    """What a second `make up` on the same run folder says: where the first one is."""
    state = run_state.read(folder) or {}
    lines = [f"make up is already running (run folder {folder}, pid {state.get('launcher', {}).get('pid', '?')}):"]
    lines += [f"  {name:<10} {url}" for name, url in state.get("urls", {}).items()]
    lines.append("Use that one, or stop it first with `make down` (DEMO_RUN_DIR for another run folder).")
    return "\n".join(lines)


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


def main() -> int:
    folder = run_dir()
    load_env_file(ROOT / ".env")
    settings = demo_settings.load()
    for name, value in mock_idp_environment(settings).items():
        os.environ.setdefault(name, value)
    # Made at the first `make up` unless set: the web app, the Source API and `make reset` agree.
    os.environ.setdefault("OPERATOR_SECRET", settings.operator_secret)
    # Every service answers to the hosts of every URL in the settings (obo_common/allowed_hosts.py).
    os.environ["ALLOWED_HOSTS"] = settings.allowed_hosts
    urls = local_urls(settings)
    # An https issuer: mock-idp serves TLS, with a certificate of the local CA the others trust.
    secured = local_tls.secure(default_services(settings.ports), settings.issuer, folder)
    try:
        services, groups = scaled_services(secured, folder)
    except (ValueError, RuntimeError) as error:
        print(f"make up: {error}", file=sys.stderr)
        return 1
    supervisor = Supervisor(services, urls, Path(sys.executable).parent, folder, groups)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        control = ControlSocket(folder / SOCKET_NAME, supervisor)
    except RuntimeError as error:
        print(f"make up: {error}", file=sys.stderr)
        return 1

    def shut_down(*_):
        # One shutdown, however often it is asked for: a second Ctrl-C, or make forwarding
        # the SIGTERM of `kill`, must not break off the cleanup and leave services running.
        ignore_signals()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    pid_file = folder / PID_NAME
    pid_file.write_text(str(os.getpid()))
    try:
        supervisor.start_all()
        print(banner(urls, scaled_lines(supervisor)), flush=True)
        while True:
            gone = supervisor.exited()
            if gone:
                print(f"{gone[0]} exited with code {gone[1]}; stopping.", flush=True)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as error:
        print(f"make up: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        ignore_signals()
        supervisor.stop_all()  # first: a start waiting for its service then fails fast
        control.close()
        pid_file.unlink(missing_ok=True)
        if supervisor.processes:  # else it is a dead run's record, which make down needs
            (folder / run_state.STATE_NAME).unlink(missing_ok=True)
        print("All services stopped.", flush=True)


def ignore_signals() -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)


def scaled_services(services: list[Service], folder: Path) -> tuple[list[Service], dict[str, list[str]]]:
    """The services as SOURCE_API_REPLICAS asks, and the group `make stop/start` acts on."""
    count = scale_out.replica_count(dict(os.environ))
    if count == 1:
        return services, {}
    missing = scale_out.missing_programs()
    if missing:
        raise RuntimeError(
            f"{scale_out.REPLICAS_SETTING}={count} needs {' and '.join(missing)} "
            "(Debian: apt-get install redis-server haproxy)"
        )
    cache_url = os.environ.get(scale_out.CACHE_URL_SETTING) or None
    key = scale_out.cache_key(dict(os.environ), folder)
    layout = scale_out.scaled(services, count, folder, cache_url, key)
    members = [s.name for s in layout if scale_out.is_member(s.name)]
    return layout, {scale_out.GROUP: members}


def scaled_lines(supervisor: Supervisor) -> list[str]:
    """The replicas, the balancer and Redis, each where it answers."""
    members = supervisor.groups.get(scale_out.GROUP)
    if not members:
        return []
    replicas = [m for m in members if m != scale_out.LOAD_BALANCER]
    lines = [
        f"  The Source API: {len(replicas)} replicas behind HAProxy at {supervisor.urls[scale_out.GROUP]}",
        f"    {scale_out.LOAD_BALANCER:<14} {supervisor.urls[scale_out.GROUP]} (config {supervisor.folder}/"
        f"{scale_out.HAPROXY_CONFIG})",
    ]
    lines += [f"    {name:<14} {supervisor.urls[name]}" for name in replicas]
    cache = supervisor.services[replicas[0]].env[scale_out.CACHE_URL_SETTING]
    owner = "started by make up, nothing saved" if scale_out.REDIS in supervisor.services else "from the settings"
    lines.append(f"    {'token cache':<14} {cache} ({owner})")
    return ["", *lines]


def banner(urls: dict[str, str], extra: list[str] | None = None) -> str:
    web_app = urls["web-app"]
    lines = ["", f"Ready. Open {web_app} and log in as alice@example.com (password Passw0rd!).", ""]
    lines += [f"  {name:<10} {url}" for name, url in urls.items()]
    lines += extra or []
    lines += [
        "",
        f"  Tenant logs:  {urls['mock-idp']}logs",
        "  Demo users:   alice@example.com, bob@example.com, password Passw0rd! (demo only)",
    ]
    setting = os.environ.get("DEMO_TOOLS") or "auto"
    if setting in ("auto", "on", "off") and demo_tools_enabled(setting, urls["mock-idp"]):
        lines += [
            f"  Workshop:     {web_app}/inspector (flow inspector), {web_app}/panel (break it),",
            "                docs/workshop.md; `make walkthrough` in a terminal, `make reset` to start over",
        ]
    lines += [
        "",
        "Stop with Ctrl-C or `make down`; one service with `make stop SERVICE=target-api` (and `make start`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
