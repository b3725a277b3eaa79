"""`make bench`'s scale-out rows (docs/scale-out.md), beside the bench's own stack:

- the warm chain with the Redis token cache on one Source API process, and through
  HAProxy in front of three replicas sharing that Redis (local_stack/scale_out.py), measured
  in the same rounds as the in-process cache (row 4), so their ratio is taken within a
  round;
- exchanges per user token across the three replicas: USERS new logins, CALLS_PER_USER
  calls each, all arriving together at the balancer; counted in the tenant log.

    .venv/bin/python -m benchmarks.bench_scale    # these rows alone, on a stack of their own
"""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from container_test.container_scale_checks import ALICE_ID, exchanges
from local_stack import launcher, scale_out
from local_stack.demo_settings import DemoSettings
from workshop import demo_tokens
from workshop.demo_tokens import DEMO_PASSWORD

ROWS = ("source-api", "source-api (redis)", "load balancer, 3 replicas (redis)")
LABELS = {
    "source-api": "4. chain, warm cache (in process)",
    "source-api (redis)": "10. chain, warm cache in Redis, one process",
    "load balancer, 3 replicas (redis)": "11. chain through HAProxy, 3 replicas, Redis",
}
BOB_ID = "auth0|65f1a2b3c4d5e6f708091a02"
USERS, CALLS_PER_USER = 12, 8


@dataclasses.dataclass
class ScaleStack:
    """Redis, one Source API process on it, and three replicas behind HAProxy."""

    data: Path
    processes: list[tuple[launcher.Service, subprocess.Popen]] = dataclasses.field(default_factory=list)
    urls: dict[str, str] = dataclasses.field(default_factory=dict)

    def start(self, source: launcher.Service) -> None:
        key = secrets.token_urlsafe(32)
        balancer_port = launcher.free_port()
        layout = scale_out.scaled([dataclasses.replace(source, port=balancer_port)], 3, self.data / "scale", key=key)
        redis = next(s for s in layout if s.name == scale_out.REDIS)
        single = dataclasses.replace(
            source,
            name="source-api (redis)",
            port=launcher.free_port(),
            env=next(s for s in layout if s.name == "source-api-1").env,  # the same Redis and key
        )
        for batch in scale_out.start_batches([*layout[:1], single, *layout[1:]]):
            for service in batch:
                log = (self.data / f"{service.name.replace(' ', '-')}.log").open("w")
                process = launcher.start(service, Path(sys.executable).parent, log)
                self.processes.append((service, process))
            for service, process in self.processes[-len(batch) :]:
                launcher.wait_healthy(service, process, timeout=60)
        self.urls = {
            "source-api (redis)": single.url,
            "load balancer, 3 replicas (redis)": f"http://localhost:{balancer_port}",
            "redis": f"redis://127.0.0.1:{redis.port}/0",
        }

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            launcher.stop(process)


def http_rows(urls: dict[str, str], user_token: str, rounds: int, seconds: float, connections, load, say) -> dict:
    """{(row, connections): [per-round results]}, the rows interleaved in each round."""
    results: dict = {}
    for round_ in range(1, rounds + 1):
        for c in connections:
            for row in ROWS:
                spec = {
                    "url": urls[row] + "/api/contacts",
                    "headers": {"Authorization": f"Bearer {user_token}"},
                    "connections": c,
                    "seconds": seconds,
                    "warmup": 0.3,
                }
                result = load(spec)
                results.setdefault((row, c), []).append(result)
                say(
                    f"  round {round_}/{rounds} c={c} {LABELS[row]:<46} "
                    f"p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms  {result['rps']:6.0f}/s"
                )
    return results


def exchanges_across_replicas(settings: DemoSettings, balancer: str) -> dict:
    """USERS new logins (alice and bob in turn), CALLS_PER_USER simultaneous calls each
    through the balancer; exchanges counted in the tenant log."""
    users = [(("alice@example.com", ALICE_ID), ("bob@example.com", BOB_ID))[i % 2] for i in range(USERS)]
    tokens = [demo_tokens.login(settings, email, DEMO_PASSWORD)["access_token"] for email, _ in users]
    issuer = settings.issuer
    before = exchanges(issuer, ALICE_ID) + exchanges(issuer, BOB_ID)
    start = threading.Barrier(USERS * CALLS_PER_USER)

    def call(token: str) -> int:
        start.wait()
        return requests.get(
            balancer + "/api/contacts", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(USERS * CALLS_PER_USER) as pool:
        statuses = list(pool.map(call, [t for t in tokens for _ in range(CALLS_PER_USER)]))
    made = exchanges(issuer, ALICE_ID) + exchanges(issuer, BOB_ID) - before
    return {"users": USERS, "calls": CALLS_PER_USER, "exchanges": made, "non-200": sum(s != 200 for s in statuses)}


def rows(
    source: launcher.Service, data: Path, settings: DemoSettings, user_token: str, bench, in_process_url: str
) -> dict:
    """Start the scaled processes, measure, stop them. ``bench`` is benchmarks/bench.py (its
    load generator, rounds and connections); ``settings`` the stack's addresses."""
    scale = ScaleStack(data)
    try:
        scale.start(source)
        targets = {**scale.urls, "source-api": in_process_url}
        http = http_rows(targets, user_token, bench.ROUNDS, bench.SECONDS, bench.CONNECTIONS, bench.load, bench.say)
        per_user = exchanges_across_replicas(settings, targets["load balancer, 3 replicas (redis)"])
        bench.say(f"  {per_user}")
    finally:
        scale.stop()
    return {"http": http, "per_user": per_user, "connections": bench.CONNECTIONS}


def report(results: dict, median) -> str:
    http, connections = results["http"], results["connections"]

    def ratio(row: str, c: int) -> float:
        pairs = zip(http[row, c], http["source-api", c], strict=True)
        return median([a["p50"] / b["p50"] for a, b in pairs])

    lines = [
        "",
        "Scale-out (docs/scale-out.md): the warm chain with each cache, in the same rounds; "
        "the ratio is p50 against the in-process cache, within a round:",
        "",
        "| row | "
        + " | ".join(f"c={c} p50 ms | c={c} p99 ms | c={c} req/s" for c in connections)
        + " | p50 / in process (c=1, c=8) |",
        "|" + "---|" * (2 + 3 * len(connections)),
    ]
    for row in ROWS:
        cells = []
        for c in connections:
            runs = http[row, c]
            cells += [
                f"{median([r['p50'] for r in runs]):.2f}",
                f"{median([r['p99'] for r in runs]):.2f}",
                f"{median([r['rps'] for r in runs]):.0f}",
            ]
        ratios = ", ".join(f"{ratio(row, c):.2f}" for c in connections)
        lines.append(f"| {LABELS[row]} | " + " | ".join(cells) + f" | {ratios} |")
    per_user = results["per_user"]
    lines += [
        "",
        f"12. Exchanges per user token across 3 replicas: {per_user['users']} new logins, {per_user['calls']} "
        f"calls each, all arriving together at the balancer: {per_user['exchanges']} exchanges "
        f"({per_user['exchanges'] / per_user['users']:.2f} per user token), {per_user['non-200']} answers "
        "other than 200.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    from benchmarks import bench  # the load generator and the settings of `make bench`
    from benchmarks.bench_stack import BenchStack
    from local_stack import demo_settings

    stack = BenchStack(Path(tempfile.mkdtemp(prefix="obo-bench-scale-")))
    bench.say(f"bench_scale: {bench.machine()}\nbench_scale: starting the services (logs in {stack.data})")
    try:
        stack.start_services()
        settings = demo_settings.of_stack({name: f"http://localhost:{port}" for name, port in stack.ports.items()})
        user_token = demo_tokens.login(settings, bench.ALICE, DEMO_PASSWORD)["access_token"]
        source = stack.services["source-api"]
        results = rows(source, stack.data, settings, user_token, bench, stack.procs["source-api"].url)
    finally:
        stack.stop()
    bench.say(report(results, bench.median))
    return 0


if __name__ == "__main__":
    sys.exit(main())
