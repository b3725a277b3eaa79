"""`make stop SERVICE=...` / `make start SERVICE=...` against a local `make up` (the
``local_up`` fixture, local_up.py): one service stopped and started while the others keep
running (docs/troubleshooting.md T31)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
from backend_client import call_source
from demo_tenant import ALICE, PASSWORD, TIMEOUT
from expectations import assert_problem
from local_up import LocalUp

from local_stack import service_control
from workshop import demo_tokens


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
    return call_source(up, "/api/contacts", token)


def test_the_ports_and_the_banner_follow_the_settings(local_up):
    banner = local_up.output().split("Ready.", 1)[1]
    for name, url in local_up.urls.items():
        assert healthy(url), name
        assert url in banner, banner
    assert f"{local_up.urls['mock-idp']}/logs" in banner
    assert f"{local_up.urls['web-app']}/inspector" in banner
    assert f"{local_up.urls['web-app']}/panel" in banner


def test_a_stopped_target_api_is_T31_and_make_start_brings_it_back(local_up):
    token = demo_tokens.login(local_up.settings(), ALICE[0], PASSWORD)["access_token"]
    assert contacts(local_up, token).status_code == 200  # the Source API now holds a Target API token

    stopped = local_up.control("stop", "target-api")

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "target-api stopped" in stopped.stdout
    # Said before the wait, so the quiet seconds are not taken for a hang.
    first = stopped.stdout.splitlines()[0]
    assert first.startswith("make stop: stopping target-api: gunicorn ends its idle connections and lets"), first
    assert "refuses connections" in stopped.stdout
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
    assert started.stdout.splitlines()[0].startswith("make start: starting target-api; waiting until http://")
    assert healthy(local_up.urls["target-api"])
    answer = contacts(local_up, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["contacts"], answer.text
    assert "make up: target-api started again" in local_up.output()


def test_asking_for_the_state_a_service_is_in_does_nothing_and_says_so(local_up):
    running = local_up.control("start", "source-api")
    assert running.returncode == 0, running.stdout + running.stderr
    assert "already running" in running.stdout, running.stdout + running.stderr

    assert local_up.control("stop", "source-api").returncode == 0
    again = local_up.control("stop", "source-api")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already stopped" in again.stdout, again.stdout + again.stderr
    assert refuses(local_up.urls["source-api"])

    assert local_up.control("start", "source-api").returncode == 0
    assert healthy(local_up.urls["source-api"])


@pytest.mark.parametrize("service", ["targetapi", ""])
def test_an_unknown_or_missing_service_is_refused_naming_the_four(local_up, service):
    done = local_up.control("stop", service)

    assert done.returncode == 2
    assert "SERVICE" in done.stderr
    assert "mock-idp|target-api|source-api|web-app" in done.stderr
    assert all(healthy(url) for url in local_up.urls.values())


def test_a_second_make_up_on_the_same_run_folder_refuses_to_start(local_up):
    second = local_up.script("local_stack.run_local", timeout=60)

    assert second.returncode == 1
    assert "make up is already running" in second.stderr, second.stdout + second.stderr
    for url in local_up.urls.values():
        assert url in second.stderr  # where the first one is
    folder = Path(local_up.env["DEMO_RUN_DIR"])
    assert (folder / "local.pid").read_text() == str(local_up.process.pid)
    assert (folder / "control.sock").exists()
    assert (folder / "services.json").exists()
    assert all(healthy(url) for url in local_up.urls.values())


def test_without_make_up_it_says_so(local_up, tmp_path):
    if service_control.compose_command() is not None:
        pytest.skip("a Docker engine answers here: the command would ask Docker Compose instead")

    done = local_up.control("stop", "target-api", env={"DEMO_RUN_DIR": str(tmp_path)})

    assert done.returncode == 1
    assert "make up is not running" in done.stderr, done.stderr
    assert healthy(local_up.urls["target-api"])
