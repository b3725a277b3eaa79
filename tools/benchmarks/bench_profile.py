"""Where a service spends a request: py-spy on one of its workers while bench_load.py
keeps it busy, against the stack `make bench` starts (benchmarks/bench_stack.py).

    .venv/bin/python -m benchmarks.bench_profile target-api|source-api|exchange [seconds]
    .venv/bin/python -m benchmarks.bench_profile compare   (no profile: quick p50 and req/s of
        the Target API beside the trivial Flask app, and of the chain beside its floor)
    .venv/bin/python -m benchmarks.bench_profile spread    (the Target API and the trivial app
        at 8 connections, with how many of them each worker holds: `ss`)
    .venv/bin/python -m benchmarks.bench_profile peer      (mock-idp's exchange, the peer's and
        the Flask signing floor's, bench_load.py at 1 and 16 in flight, with each server's CPU
        per exchange; needs node)

Prints the functions with the largest share of the worker's samples, counted wherever they
are on the stack (inclusive), and the innermost frames (exclusive), each also in
microseconds of CPU per request: the CPU time the service's workers used while it was
recorded (/proc), over the requests the load got answered meanwhile (a busy machine makes
a worker wait for a core, which is no cost of the request; wall time would count it). Needs py-spy
(requirements-dev.txt) and the right to trace a child process (root, or ptrace_scope 0).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

from benchmarks.bench_stack import BIN, SIGNING_FLOOR, BenchStack
from local_stack import demo_settings
from local_stack.demo_settings import DemoSettings
from workshop import demo_tokens
from workshop.demo_tokens import DEMO_PASSWORD

CONNECTIONS = 4


def settings_of(stack: BenchStack) -> DemoSettings:
    return demo_settings.of_stack({name: f"http://localhost:{port}" for name, port in stack.ports.items()})


def job(stack: BenchStack, what: str, user_token: str, target_token: str, seconds: float) -> dict:
    if what == "exchange":
        form = demo_tokens.exchange_form(settings_of(stack), user_token, "read:contacts")
        url = stack.procs["mock-idp"].url + "/oauth/token"
        return {"url": url, "method": "POST", "form": form, "connections": CONNECTIONS, "seconds": seconds}
    token = target_token if what == "target-api" else user_token
    return {
        "url": stack.procs[what].url + "/api/contacts",
        "headers": {"Authorization": f"Bearer {token}"},
        "connections": CONNECTIONS,
        "seconds": seconds,
    }


def worker_pids(stack: BenchStack, name: str) -> list[int]:
    master = stack.procs[name].process.pid
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes used so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def summarize(raw: Path, top: int = 25, request_us: float | None = None) -> str:
    """Shares of the samples; with ``request_us`` (the service's CPU time per request),
    each share in microseconds per request too."""
    inclusive: Counter = Counter()
    exclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue  # a frame name that py-spy wrote over several lines (a proxy's repr)
        frames = stack.split(";")
        samples = int(count)
        total += samples
        exclusive[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples

    def row(n: int, frame: str) -> str:
        us = f"  {n / total * request_us:7.0f} us" if request_us else ""
        return f"  {100 * n / total:5.1f}%{us}  {frame}"

    per_request = f", {request_us:.0f} us of CPU per request" if request_us else ""
    lines = [f"{total} samples{per_request}", "", "inclusive:"]
    lines += [row(n, frame) for frame, n in inclusive.most_common(top)]
    lines += ["", "exclusive:"]
    lines += [row(n, frame) for frame, n in exclusive.most_common(top)]
    return "\n".join(lines)


def start_load(spec: dict) -> subprocess.Popen:
    """bench_load.py running ``spec`` in the background; its result is on its stdout."""
    running = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_load"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    running.stdin.write(json.dumps(spec))
    running.stdin.close()
    return running


def load(spec: dict) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_load"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


def compare(stack: BenchStack, user_token: str, target_token: str, rounds: int = 3) -> None:
    stack.start_floors(target_token)
    exchange = job(stack, "exchange", user_token, target_token, 2.0)
    # The same request as the row each stands beside (bench.py).
    rows = {
        "target-api": target_token,
        "trivial Flask app": target_token,
        "floor (requests)": user_token,
        "floor (urllib3)": user_token,
        "floor (http.client)": user_token,
        "source-api": user_token,
    }
    for round_ in range(1, rounds + 1):
        for connections in (1, 8):
            for row, token in rows.items():
                headers = {"Authorization": f"Bearer {token}"}
                spec = {"url": stack.procs[row].url + "/api/contacts", "headers": headers}
                result = load({**spec, "connections": connections, "seconds": 2.0, "warmup": 0.3})
                print(f"round {round_} c={connections} {row:<20} p50 {result['p50']:6.2f}  {result['rps']:6.0f}/s")
        for in_flight in (1, 16):
            result = load({**exchange, "connections": in_flight, "warmup": 0.3})
            print(f"round {round_} exchange {in_flight:>2} in flight  p50 {result['p50']:6.2f}  {result['rps']:6.0f}/s")


def connections_per_worker(port: int) -> list[int]:
    """How many established connections to ``port`` each process holds (``ss``), fewest first."""
    listed = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=True
    ).stdout
    return sorted(Counter(re.findall(r"pid=(\d+)", listed)).values())


def spread(stack: BenchStack, target_token: str, trials: int = 4) -> None:
    """Which split of 8 kept-alive connections each worker got, and the throughput it gave."""
    stack.start_floors(target_token)
    for row in ("target-api", "trivial Flask app"):
        for _ in range(trials):
            spec = {
                "url": stack.procs[row].url + "/api/contacts",
                "headers": {"Authorization": f"Bearer {target_token}"},
                "connections": 8,
                "seconds": 2.0,
                "warmup": 0.3,
            }
            running = start_load(spec)
            time.sleep(1.0)  # into the measured part of the run: every connection is open
            split = connections_per_worker(stack.procs[row].port)
            result = json.loads(running.stdout.read())
            running.wait()
            print(f"{row:<18} connections per worker {split}  {result['rps']:6.0f}/s  p50 {result['p50']:.2f} ms")


def peer(stack: BenchStack, user_token: str, target_token: str) -> None:
    """mock-idp's exchange, the peer's and the Flask signing floor's (bench_apps/signing_floor.py)
    by bench_load.py, with the CPU each server used."""
    from benchmarks import bench_peer

    why = bench_peer.prepare()
    if why:
        print(f"no peer: {why}")
        return
    stack.start_floors(target_token, only=[SIGNING_FLOOR])
    process, issuer = bench_peer.start(stack.data / "peer-idp.log")
    try:
        token_endpoint = requests.get(issuer + ".well-known/openid-configuration", timeout=5).json()["token_endpoint"]
        mock = job(stack, "exchange", user_token, "", 3.0)
        theirs = {
            **mock,
            "url": token_endpoint,
            "form": {**mock["form"], "subject_token": bench_peer.subject_token(issuer)},
        }
        floor = {**mock, "url": stack.procs[SIGNING_FLOOR].url + "/oauth/token"}
        servers = (
            ("mock-idp", mock, [stack.procs["mock-idp"].process.pid, *worker_pids(stack, "mock-idp")]),
            ("peer", theirs, [process.pid]),
            ("floor", floor, [stack.procs[SIGNING_FLOOR].process.pid, *worker_pids(stack, SIGNING_FLOOR)]),
        )
        for in_flight in (1, 16):
            for name, spec, pids in servers:
                before = cpu_seconds(pids)
                result = load({**spec, "connections": in_flight, "warmup": 0.3})
                answered = result["count"] + result["warmup_count"]
                cpu = (cpu_seconds(pids) - before) * 1e6 / answered if answered else 0.0
                print(
                    f"{in_flight:>2} in flight  {name:<8} {result['rps']:6.0f}/s  p50 {result['p50']:.2f} ms  "
                    f"p99 {result['p99']:.2f} ms  "
                    f"CPU {cpu:5.0f} us/exchange  errors {result['errors']}"
                )
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "target-api"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
    stack = BenchStack(Path(tempfile.mkdtemp(prefix="obo-profile-")))
    try:
        stack.start_services()
        settings = settings_of(stack)
        user_token = demo_tokens.login(settings, "alice@example.com", DEMO_PASSWORD)["access_token"]
        form = demo_tokens.exchange_form(settings, user_token, "read:contacts")
        target_token = requests.post(settings.token_endpoint, data=form, timeout=10).json()["access_token"]
        if what == "compare":
            compare(stack, user_token, target_token)
            return 0
        if what == "spread":
            spread(stack, target_token)
            return 0
        if what == "peer":
            peer(stack, user_token, target_token)
            return 0
        name = "mock-idp" if what == "exchange" else what
        raw = stack.data / f"{what}.raw"
        spec = job(stack, what, user_token, target_token, seconds + 2)
        load = start_load(spec)
        time.sleep(1)
        workers = worker_pids(stack, name)
        record = ["record", "-p", str(workers[0]), "-f", "raw", "-o", str(raw), "--nonblocking"]
        cpu_before, started = cpu_seconds(workers), time.monotonic()
        subprocess.run(
            [str(BIN / "py-spy"), *record, "-d", str(int(seconds))],
            check=True,
            capture_output=True,
        )
        cpu, recorded = cpu_seconds(workers) - cpu_before, time.monotonic() - started
        output = load.stdout.read().strip()
        load.wait()
        print(output)
        # CPU time, not wall time: on a busy machine a worker waits for a core, which is
        # no cost of the request. All workers' CPU over all the requests they served then.
        result = json.loads(output)
        served = result["count"] / result["wall"] * recorded
        print(summarize(raw, request_us=cpu * 1e6 / served if served else None))
        print(f"raw profile: {raw}")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
