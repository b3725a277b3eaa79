"""The processes `make bench` measures: the four services as `make up` runs them (each
with its own gunicorn.conf.py), a second Source API with its cache off, and the floor
apps of benchmarks/bench_apps under the same settings as the service they stand beside.

Each service reaches the identity provider's back channel (IDP_INTERNAL_URL) on an
address of its own, 127.0.0.2 to 127.0.0.5, all served by the one mock-idp; its access
log names the Host, so the fetches of discovery and JWKS and the token requests are
counted per service from that log, with nothing added to any service.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import requests

from local_stack.launcher import ROOT, free_port, isolated_stack

BIN = Path(sys.executable).parent
# Whose requests reach mock-idp on which loopback address.
BACK_CHANNEL = {
    "target-api": "127.0.0.2",
    "source-api": "127.0.0.3",
    "source-api (cache off)": "127.0.0.4",
    "web-app": "127.0.0.5",
}
MOCK_IDP_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus host=%({host}i)s'
# A cached token is never fresh enough, and without offline_access there is no refresh
# token: the Source API exchanges on every call. Settings that exist, used for this only.
CACHE_OFF = {"SOURCE_API_RENEW_MARGIN": str(10**9), "SOURCE_API_EXCHANGE_SCOPE": "read:contacts"}
UNLIMITED = {"EXCHANGE_RATE_LIMIT": "1000000", "REFRESH_RATE_LIMIT": "1000000"}
# The cache-off row exchanges on every call: the per-user budget must not stop it.
UNBUDGETED = {"SOURCE_API_USER_EXCHANGE_LIMIT": "1000000"}


# The floors (name, the service whose gunicorn settings they run under, the WSGI app, the
# pass-through's HTTP client): what any Flask app costs there, and what the hop costs.
PASSTHROUGH = "benchmarks.bench_apps.passthrough:app"
# Beside mock-idp: a Flask token endpoint that signs one token and does nothing else.
SIGNING_FLOOR = "Flask signing floor"
FLOORS = (
    ("trivial Flask app", "target-api", "benchmarks.bench_apps.trivial:app", None),
    ("floor (requests)", "source-api", PASSTHROUGH, "requests"),
    ("floor (http.client)", "source-api", PASSTHROUGH, "http.client"),
    ("floor (urllib3)", "source-api", PASSTHROUGH, "urllib3"),
    (SIGNING_FLOOR, "mock-idp", "benchmarks.bench_apps.signing_floor:app", None),
)


@dataclass
class Proc:
    name: str
    port: int
    log: Path
    process: subprocess.Popen
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


def spawn(name: str, cwd: Path, config: Path, app: str, env: dict[str, str], log: Path, *args: str) -> Proc:
    port = int(env["BIND"].rpartition(":")[2])
    full = dict(os.environ, PYTHONUNBUFFERED="1", **{k: v for k, v in env.items() if k != "BIND"})
    full[config.parent.name.upper().replace("-", "_") + "_BIND"] = env["BIND"]
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(config), *args, app],
        cwd=cwd,
        env=full,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Proc(name, port, log, process, env)


def wait_healthy(proc: Proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise SystemExit(f"bench: {proc.name} exited early; see {proc.log}:\n{proc.log.read_text()[-2000:]}")
        try:
            if requests.get(f"{proc.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench: {proc.name} did not answer {proc.url}/healthz within {timeout:.0f}s")


class BenchStack:
    def __init__(self, data: Path):
        self.data = data
        self.procs: dict[str, Proc] = {}
        self.ports = {name: free_port() for name in ("mock-idp", "target-api", "source-api", "web-app")}
        limits = {"mock-idp": UNLIMITED, "source-api": UNBUDGETED}
        self.services = {s.name: s for s in isolated_stack(self.ports, data, limits)}

    def _service(self, name: str, service: str, env: dict[str, str], port: int, *args: str) -> Proc:
        config = ROOT / service / "gunicorn.conf.py"
        app = self.services[service].app
        proc = spawn(name, ROOT / service, config, app, {**env, "BIND": f"127.0.0.1:{port}"}, self.log(name), *args)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> Path:
        return self.data / (re.sub(r"\W+", "-", name).strip("-") + ".log")

    def back_channel(self, name: str) -> dict[str, str]:
        return {"IDP_INTERNAL_URL": f"http://{BACK_CHANNEL[name]}:{self.ports['mock-idp']}/"}

    def start_services(self) -> None:
        idp = self.ports["mock-idp"]
        binds = [f"--bind=127.0.0.1:{idp}"] + [f"--bind={address}:{idp}" for address in BACK_CHANNEL.values()]
        # The back-channel addresses are this stack's names for mock-idp: it answers them. A
        # run writes tens of thousands of log entries, and the exchanges are counted in the
        # log: none may be pruned for room meanwhile.
        allowed = {"ALLOWED_HOSTS": ",".join(BACK_CHANNEL.values()), "MOCK_IDP_LOG_RETENTION_ENTRIES": "10000000"}
        self._service(
            "mock-idp",
            "mock-idp",
            {**self.services["mock-idp"].env, **allowed},
            idp,
            *binds,
            f"--access-logformat={MOCK_IDP_LOG_FORMAT}",
        )
        wait_healthy(self.procs["mock-idp"])
        for name, service, port, extra in (
            ("target-api", "target-api", self.ports["target-api"], {}),
            ("source-api", "source-api", self.ports["source-api"], {}),
            ("source-api (cache off)", "source-api", free_port(), CACHE_OFF),
            ("web-app", "web-app", self.ports["web-app"], {}),
        ):
            self._service(name, service, {**self.services[service].env, **self.back_channel(name), **extra}, port)
        for proc in self.procs.values():
            wait_healthy(proc)

    def start_floors(self, target_token: str, only: Collection[str] | None = None) -> None:
        """The floor apps (those named in ``only``, or all): the trivial Flask app, the
        pass-through with each HTTP client, the token endpoint that only signs."""
        target = {"BENCH_TARGET_URL": self.procs["target-api"].url, "BENCH_TARGET_TOKEN": target_token}
        for name, service, app, client in FLOORS:
            if only is not None and name not in only:
                continue
            env = {**target, "BENCH_CLIENT": client} if client else {}
            config = ROOT / service / "gunicorn.conf.py"
            env = {**env, "BIND": f"127.0.0.1:{free_port()}"}
            self.procs[name] = spawn(name, ROOT, config, app, env, self.log(name))
        for proc in self.procs.values():
            wait_healthy(proc)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.process.poll() is None:
                proc.process.terminate()
        for proc in self.procs.values():
            try:
                proc.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.process.pid, 9)
                proc.process.wait()

    # -- what the logs and /proc tell ----------------------------------------------------

    def idp_requests(self) -> Counter:
        """(service, method, path, status) -> count, from mock-idp's access log."""
        counts: Counter = Counter()
        by_address = {address: name for name, address in BACK_CHANNEL.items()}
        pattern = re.compile(r'"(\w+) (\S+)" (\d+) .* host=(\S+?):\d+$')
        for line in self.procs["mock-idp"].log.read_text().splitlines():
            found = pattern.search(line)
            if found:
                method, path, status, host = found.groups()
                counts[by_address.get(host, "bench client"), method, path, int(status)] += 1
        return counts

    def settled_idp_requests(self) -> Counter:
        """The counts once the access log stops growing (gunicorn logs after answering)."""
        last, stable_since = None, time.monotonic()
        while True:
            counts = self.idp_requests()
            if counts != last:
                last, stable_since = counts, time.monotonic()
            elif time.monotonic() - stable_since > 0.5:
                return counts
            time.sleep(0.1)

    def pids(self, name: str) -> list[int]:
        """A gunicorn master and its workers."""
        pids = [self.procs[name].process.pid]
        children = Path(f"/proc/{pids[0]}/task/{pids[0]}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def cpu_seconds(self, name: str) -> float:
        """User and system CPU time a service's processes used so far, from /proc."""
        ticks = 0
        for pid in self.pids(name):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mib(self, name: str) -> float:
        """The resident memory of a gunicorn master and its workers, from /proc."""
        pids = self.pids(name)
        total_kib = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        return total_kib / 1024
