"""`make stop SERVICE=...` / `make start SERVICE=...` against a local `make up`: one service
stopped and started while the others keep running (docs/troubleshooting.md T31).

Runs scripts/run_local.py as `make up` runs it, on free ports given by the settings, its run
folder (DEMO_RUN_DIR) and data in a temporary folder, so it never meets a real `make up`.
Every process of that run carries a marker in its environment; whatever happens, the
fixture ends them all.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import demo_settings
import demo_tokens
import launcher
import pytest
import requests
from conftest import ROOT
from flow_http import assert_problem
from idp_http import ALICE, PASSWORD, TIMEOUT

MARKER = "OBO_E2E_LOCAL_UP"
SETTINGS = {
    "mock-idp": "OIDC_ISSUER",
    "web-app": "WEB_APP_BASE_URL",
    "source-api": "WEB_APP_SOURCE_API_URL",
    "target-api": "SOURCE_API_TARGET_URL",
}


@dataclass
class LocalUp:
    process: subprocess.Popen
    env: dict[str, str]
    urls: dict[str, str]  # no trailing slash
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def control(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """scripts/service_control.py, as `make stop` / `make start` run it."""
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "service_control.py"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=150,
            stdin=subprocess.DEVNULL,
            check=False,
        )

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
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def local_up(tmp_path_factory) -> LocalUp:
    folder = tmp_path_factory.mktemp("local-up")
    urls = {name: f"http://localhost:{launcher.free_port()}" for name in SETTINGS}
    marker = uuid.uuid4().hex
    env = {name: value for name, value in os.environ.items() if name != "MOCK_IDP_ISSUER"}
    env.update({SETTINGS[name]: url + ("/" if name == "mock-idp" else "") for name, url in urls.items()})
    env.update(
        DEMO_RUN_DIR=str(folder / "run"),
        MOCK_IDP_DATABASE=str(folder / "mock-idp.sqlite3"),
        TARGET_API_DATABASE=str(folder / "target-api.sqlite3"),
        WEB_APP_DATA_DIR=str(folder / "web-app"),
        EXCHANGE_RATE_LIMIT="100000",
        REFRESH_RATE_LIMIT="100000",
        **{MARKER: marker},
    )
    log = folder / "make-up.log"
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run_local.py")],
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


def healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=TIMEOUT).status_code == 200
    except requests.ConnectionError:
        return False


def refuses(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def contacts(up: LocalUp, token: str) -> requests.Response:
    return requests.get(
        up.urls["source-api"] + "/api/contacts", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )


def test_the_ports_and_the_banner_follow_the_settings(local_up):
    banner = local_up.output().split("Ready.", 1)[1]
    for name, url in local_up.urls.items():
        assert healthy(url), name
        assert url in banner, banner
    assert f"{local_up.urls['mock-idp']}/logs" in banner


def test_a_stopped_target_api_is_T31_and_make_start_brings_it_back(local_up):
    token = demo_tokens.login(local_up.settings(), ALICE[0], PASSWORD)["access_token"]
    assert contacts(local_up, token).status_code == 200  # the Source API now holds a Target API token

    stopped = local_up.control("stop", "target-api")

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "target-api stopped" in stopped.stdout and "refuses connections" in stopped.stdout
    assert refuses(local_up.urls["target-api"])
    for name in ("mock-idp", "source-api", "web-app"):
        assert healthy(local_up.urls[name]), name
    assert local_up.process.poll() is None, local_up.output()
    assert "make up: target-api stopped on request" in local_up.output()
    problem = assert_problem(contacts(local_up, token), 502, 4, "target-api")
    assert problem["detail"] == "The Target API cannot be reached"

    started = local_up.control("start", "target-api")

    assert started.returncode == 0, started.stdout + started.stderr
    assert "target-api is running again" in started.stdout
    assert healthy(local_up.urls["target-api"])
    answer = contacts(local_up, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["contacts"], answer.text
    assert "make up: target-api started again" in local_up.output()


def test_asking_for_the_state_a_service_is_in_does_nothing_and_says_so(local_up):
    running = local_up.control("start", "source-api")
    assert running.returncode == 0 and "already running" in running.stdout, running.stdout + running.stderr

    assert local_up.control("stop", "source-api").returncode == 0
    again = local_up.control("stop", "source-api")
    assert again.returncode == 0 and "already stopped" in again.stdout, again.stdout + again.stderr
    assert refuses(local_up.urls["source-api"])

    assert local_up.control("start", "source-api").returncode == 0
    assert healthy(local_up.urls["source-api"])


@pytest.mark.parametrize("service", ["targetapi", ""])
def test_an_unknown_or_missing_service_is_refused_naming_the_four(local_up, service):
    done = local_up.control("stop", service)

    assert done.returncode == 2
    assert "SERVICE" in done.stderr and "mock-idp|target-api|source-api|web-app" in done.stderr
    assert all(healthy(url) for url in local_up.urls.values())


def test_a_second_make_up_on_the_same_run_folder_refuses_to_start(local_up):
    second = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_local.py")],
        env=local_up.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert second.returncode == 1
    assert "another make up is running" in second.stderr, second.stdout + second.stderr
    assert all(healthy(url) for url in local_up.urls.values())


def test_without_make_up_it_says_so(local_up, tmp_path):
    import service_control

    if service_control.compose_command() is not None:
        pytest.skip("a Docker engine answers here: the command would ask Docker Compose instead")

    done = local_up.control("stop", "target-api", env={"DEMO_RUN_DIR": str(tmp_path)})

    assert done.returncode == 1
    assert "make up is not running" in done.stderr, done.stderr
    assert healthy(local_up.urls["target-api"])
