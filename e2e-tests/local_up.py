"""`make up` as local processes, for the tests of what a person does next to it.

Runs local_stack/run_local.py as `make up` runs it, on free ports given by the settings, its run
folder (DEMO_RUN_DIR) and data in a temporary folder, so it never meets a real `make up`.
Every process of that run carries a marker in its environment; whatever happens, the
run ends with all of them (conftest's ``local_up`` fixture, one run for the session).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from stack_urls import StackUrls, Where
from terminal_tools import run_script

from local_stack import demo_settings, launcher

ROOT = Path(__file__).resolve().parent.parent

MARKER = "OBO_E2E_LOCAL_UP"
SETTINGS = {
    "mock-idp": "OIDC_ISSUER",
    "web-app": "WEB_APP_BASE_URL",
    "source-api": "WEB_APP_SOURCE_API_URL",
    "target-api": "SOURCE_API_TARGET_URL",
}


@dataclass
class LocalUp(StackUrls):
    process: subprocess.Popen
    env: dict[str, str]
    urls: dict[str, str]  # no trailing slash
    log: Path

    def __getitem__(self, name: str) -> Where:
        """As the suite's stack answers it: ``up["web-app"].url``, so its helpers work here too."""
        return Where(self.urls[name])

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def make(self, target: str) -> subprocess.CompletedProcess:
        """``make <target>`` from the repository root, as a person next to this `make up` runs it."""
        env = {k: v for k, v in self.env.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        return subprocess.run(
            ["make", "-s", target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=150, check=False
        )

    def script(
        self, module: str, *args: str, env: dict[str, str] | None = None, timeout: int = 150
    ) -> subprocess.CompletedProcess:
        """``python -m <module>`` in this `make up`'s environment (``env`` added)."""
        return run_script(module, *args, env={**self.env, **(env or {})}, timeout=timeout)

    def control(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """local_stack/service_control.py, as `make stop` / `make start` run it."""
        return self.script("local_stack.service_control", *args, env=env)

    def settings(self) -> demo_settings.DemoSettings:
        return dataclasses.replace(
            demo_settings.load(),
            issuer=self.urls["mock-idp"] + "/",
            web_app_url=self.urls["web-app"],
            source_api_url=self.urls["source-api"],
            target_api_url=self.urls["target-api"],
        )


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f}s")
        time.sleep(0.2)


def marked_processes(marker: str) -> list[int]:
    """The pids of every process whose environment carries ``MARKER=marker``."""
    tag = f"{MARKER}={marker}".encode() + b"\0"
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if tag in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def end_run(process: subprocess.Popen, marker: str) -> None:
    """SIGTERM to the launcher, as `make down` sends it; then any straggler of this run, killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in marked_processes(marker):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def local_up(folder: Path, extra: dict[str, str] | None = None) -> Iterator[LocalUp]:
    """local_stack/run_local.py on free ports, its run folder and data under ``folder``, with
    ``extra`` settings; ended with every process it started, whatever happens."""
    urls = {name: f"http://localhost:{launcher.free_port()}" for name in SETTINGS}
    marker = uuid.uuid4().hex
    inherited = {"MOCK_IDP_ISSUER", *demo_settings.PORT_VARIABLES.values()}  # the URLs decide the ports
    env = {name: value for name, value in os.environ.items() if name not in inherited}
    env.update({SETTINGS[name]: url + ("/" if name == "mock-idp" else "") for name, url in urls.items()})
    env.update(
        DEMO_RUN_DIR=str(folder / "run"),
        MOCK_IDP_DATABASE=str(folder / "mock-idp.sqlite3"),
        TARGET_API_DATABASE=str(folder / "target-api.sqlite3"),
        WEB_APP_DATA_DIR=str(folder / "web-app"),
        EXCHANGE_RATE_LIMIT="100000",
        REFRESH_RATE_LIMIT="100000",
        SOURCE_API_USER_EXCHANGE_LIMIT="100000",
        **{MARKER: marker},
    )
    env.update(extra or {})
    log = folder / "make-up.log"
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack.run_local"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    up = LocalUp(process, env, urls, log)
    try:
        wait_until(lambda: "Ready." in up.output() or process.poll() is not None, 120, "make up was not ready")
        assert process.poll() is None, up.output()
        yield up
    finally:
        end_run(process, marker)
