"""`SOURCE_API_REPLICAS=3 make up` as local processes (local_up.py, on free ports): three
replicas behind HAProxy at the Source API's URL, with the Redis `make up` starts or the one
SOURCE_API_TOKEN_CACHE_URL names; `make stop/start` and `make down` handle all of them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests
from backend_client import call_source, login
from conftest import ROOT
from demo_tenant import ALICE, TIMEOUT
from local_up import MARKER, LocalUp, local_up, marked_processes, wait_until
from tenant_admin import exchanges_since, log_marker

from local_stack import launcher, scale_out

pytestmark = pytest.mark.skipif(
    bool(scale_out.missing_programs()), reason="redis-server and haproxy are not installed (.ci/run installs them)"
)

KEY = "a-cache-key-for-this-test-only-0123456789"


def programs(up: LocalUp) -> Counter:
    """How many of the run's processes each program has, zombies left out. (Not Redis: it
    writes its title over its environment, the run's marker with it; see redis_port.)"""
    alive: Counter = Counter()
    for pid in marked_processes(up.env[MARKER]):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        for program in ("gunicorn", "haproxy"):
            if program.encode() in command and state != "Z":
                alive[program] += 1
    return alive


def replica_urls(up: LocalUp) -> dict[str, str]:
    """Each replica's URL, as the banner prints it."""
    return dict(re.findall(r"^\s+(source-api-\d+)\s+(http://\S+)$", up.output(), re.MULTILINE))


def redis_port(up: LocalUp) -> int:
    """The port of the Redis the banner names."""
    return int(re.search(r"redis://127\.0\.0\.1:(\d+)/0", up.output()).group(1))


def instances(up: LocalUp, count: int) -> list[str]:
    answers = [requests.get(up.urls["source-api"] + "/healthz", timeout=TIMEOUT) for _ in range(count)]
    assert [a.status_code for a in answers] == [200] * count
    return [a.json()["instance"] for a in answers]


def down(up: LocalUp) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "tools" / "local_stack" / "down.sh")],
        env=up.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def one_exchange_for_simultaneous_calls(up: LocalUp) -> None:
    from test_scale_out import simultaneously  # one helper for both layouts

    user_token = login(up)["access_token"]
    marker = log_marker(up)
    responses = simultaneously([lambda: call_source(up, "/api/contacts", user_token)] * 6)
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert len(exchanges_since(up, marker, ALICE[1])) == 1


def test_three_replicas_behind_the_balancer_each_printed_and_each_stopped(tmp_path):
    with local_up(tmp_path, {"SOURCE_API_REPLICAS": "3"}) as up:
        banner = up.output().split("Ready.", 1)[1]
        replicas = replica_urls(up)
        assert sorted(replicas) == ["source-api-1", "source-api-2", "source-api-3"], banner
        assert f"load-balancer  {up.urls['source-api']}" in banner
        assert "redis://127.0.0.1:" in banner
        assert "started by make up, nothing saved" in banner
        assert programs(up)["haproxy"] == 1
        assert launcher.redis_answers(redis_port(up))
        named = instances(up, 6)
        assert sorted({n.rpartition(":")[2] for n in named}) == sorted(u.rpartition(":")[2] for u in replicas.values())
        one_exchange_for_simultaneous_calls(up)

        # One replica stopped: the balancer answers from the other two.
        stopped = up.control("stop", "source-api-2")
        assert stopped.returncode == 0, stopped.stderr
        assert launcher.port_is_free(int(replicas["source-api-2"].rpartition(":")[2]))
        assert len(set(instances(up, 6))) == 2

        # The Source API as a whole: every replica and the balancer, then all back.
        stopped = up.control("stop", "source-api")
        assert stopped.returncode == 0, stopped.stderr
        for url in [up.urls["source-api"], *replicas.values()]:
            assert launcher.port_is_free(int(url.rpartition(":")[2])), url
        started = up.control("start", "source-api")
        assert started.returncode == 0, started.stderr
        wait_until(lambda: len(set(instances(up, 6))) == 3, 30, "the balancer did not send to three replicas")

        assert down(up).returncode == 0
        up.process.wait(60)
        wait_until(lambda: not programs(up), 30, "make down left processes of the run")
        assert not launcher.redis_answers(redis_port(up))


def test_a_redis_named_by_the_settings_is_used_and_left_running(tmp_path):
    port = launcher.free_port()
    redis_server = scale_out.redis_service(port)
    process = launcher.start(redis_server, Path("/nonexistent"), subprocess.DEVNULL)
    try:
        launcher.wait_healthy(redis_server, process)
        settings = {
            "SOURCE_API_REPLICAS": "3",
            "SOURCE_API_TOKEN_CACHE_URL": f"redis://127.0.0.1:{port}/0",
            "SOURCE_API_TOKEN_CACHE_KEY": KEY,
        }
        with local_up(tmp_path, settings) as up:
            assert f"redis://127.0.0.1:{port}/0 (from the settings)" in up.output()
            assert "started by make up" not in up.output()
            one_exchange_for_simultaneous_calls(up)
            assert launcher.redis_answers(port)
        assert process.poll() is None  # not make up's to stop
    finally:
        launcher.stop(process)


@pytest.mark.parametrize("given", ["0", "many"])
def test_a_replica_count_that_is_not_a_number_stops_make_up_saying_so(tmp_path, given):
    done = subprocess.run(
        [sys.executable, "-m", "local_stack.run_local"],
        env={**os.environ, "DEMO_RUN_DIR": str(tmp_path), "SOURCE_API_REPLICAS": given},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"SOURCE_API_REPLICAS={given!r} is not a whole number" in done.stderr


def test_ctrl_c_stops_every_replica_the_balancer_and_redis(tmp_path):
    with local_up(tmp_path, {"SOURCE_API_REPLICAS": "2"}) as up:
        assert programs(up)["haproxy"] == 1
        port = redis_port(up)

        up.process.send_signal(signal.SIGINT)  # what Ctrl-C sends the launcher
        up.process.wait(60)

        wait_until(lambda: not programs(up), 30, "Ctrl-C left processes of the run")
        assert not launcher.redis_answers(port)
        assert "All services stopped." in up.output()
