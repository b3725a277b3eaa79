"""`make up` as local processes when things go wrong around it: a second `make up`, a busy
port, a second signal during shutdown, a launcher killed hard, a URL on another port than
its service. Each test runs its own `make up` (local_up.py) on free ports and run folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ROOT
from local_up import MARKER, LocalUp, local_up, marked_processes, wait_until

from local_stack import launcher, run_state


def down(up: LocalUp) -> subprocess.CompletedProcess:
    """local_stack/down.sh with the run's DEMO_RUN_DIR, as `make down` runs it."""
    return subprocess.run(
        [str(ROOT / "tools" / "local_stack" / "down.sh")],
        env=up.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def gunicorns(up: LocalUp) -> list[int]:
    """The run's gunicorn processes (masters and workers) still alive."""
    alive = []
    for pid in marked_processes(up.env[MARKER]):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if b"gunicorn" in command and state != "Z":
            alive.append(pid)
    return alive


def port_free(url: str) -> bool:
    return launcher.port_is_free(int(url.rsplit(":", 1)[1]))


def all_stopped(up: LocalUp) -> bool:
    return not gunicorns(up) and all(port_free(url) for url in up.urls.values())


def run_local(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "local_stack.run_local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_a_second_make_up_says_where_the_first_runs_and_make_down_still_stops_it(tmp_path):
    with local_up(tmp_path) as up:
        second = run_local(up.env)

        assert second.returncode != 0
        assert "already running" in second.stderr, second.stdout + second.stderr
        assert all(url in second.stderr for url in up.urls.values()), second.stderr
        assert up.process.poll() is None
        assert requests.get(up.urls["web-app"] + "/healthz", timeout=5).status_code == 200

        stopped = down(up)

        assert stopped.returncode == 0, stopped.stderr
        up.process.wait(30)
        wait_until(lambda: all_stopped(up), 30, "the first make up's services did not stop")


def test_a_busy_port_is_named_with_the_process_holding_it(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "DEMO_RUN_DIR": str(tmp_path / "run"), "OIDC_ISSUER": f"http://localhost:{port}/"}
        for variable in ("WEB_APP_BASE_URL", "WEB_APP_SOURCE_API_URL", "SOURCE_API_TARGET_URL"):
            env[variable] = f"http://localhost:{launcher.free_port()}"

        refused = run_local(env)

    assert refused.returncode == 1
    assert f"port {port} (held by pid {os.getpid()}: " in refused.stderr, refused.stderr
    assert "for mock-idp" in refused.stderr


@pytest.mark.parametrize("signals", [[signal.SIGTERM, signal.SIGTERM], [signal.SIGINT, signal.SIGINT]])
def test_a_second_signal_during_shutdown_still_stops_every_service(tmp_path, signals):
    with local_up(tmp_path) as up:
        assert len(gunicorns(up)) >= 4
        for number in signals:  # as make forwards a `kill` to its child, or a second Ctrl-C
            up.process.send_signal(number)

        up.process.wait(60)

        wait_until(lambda: all_stopped(up), 30, f"gunicorn {gunicorns(up)} of the run survived")
        assert "All services stopped." in up.output()
        assert "Traceback" not in up.output()
        # Each URL names its service's port here: no start warning.
        assert "warning:" not in up.output()


def test_make_down_stops_the_services_of_a_launcher_killed_hard(tmp_path):
    with local_up(tmp_path) as up:
        up.process.kill()
        up.process.wait(10)
        assert gunicorns(up), "the services should outlive a launcher killed with SIGKILL"

        stopped = down(up)

        assert stopped.returncode == 0, stopped.stderr
        assert "left running by a make up that did not end" in stopped.stdout, stopped.stdout + stopped.stderr
        wait_until(lambda: all_stopped(up), 30, f"gunicorn {gunicorns(up)} of the run survived make down")
        assert not (Path(up.env["DEMO_RUN_DIR"]) / "services.json").exists()


def test_make_down_leaves_alone_a_recorded_pid_now_used_by_another_program(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        run_state.write(folder, other.pid, {}, {"web-app": other.pid})  # not a gunicorn
        done = subprocess.run(
            [str(ROOT / "tools" / "local_stack" / "down.sh")],
            env={**os.environ, "DEMO_RUN_DIR": str(folder)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize(
    ("name", "setting", "port_variable"),
    [("web-app", "WEB_APP_BASE_URL", "WEB_APP_PORT"), ("mock-idp", "OIDC_ISSUER", "MOCK_IDP_PORT")],
)
def test_a_url_on_another_port_than_its_service_is_warned_at_start(tmp_path, name, setting, port_variable):
    wrong = launcher.free_port()
    with local_up(tmp_path, {port_variable: str(wrong)}) as up:
        warning = next((line for line in up.output().splitlines() if f"{name}: warning:" in line), None)
        assert warning is not None, up.output()
        assert setting in warning
        assert f"port {int(up.urls[name].rsplit(':', 1)[1])}" in warning
        assert f"port {wrong}" in warning
        # A log line, not a failure: the service runs where it was told to.
        assert requests.get(f"http://localhost:{wrong}/healthz", timeout=5).status_code == 200
