"""make bench: figures for the hops of the flow, measured against a stack of real processes.

Starts the four services on free ports (as the e2e suite does), logs a user in, then
times each hop with keep-alive HTTP sessions and prints the figures. Nothing here passes
or fails: speed is read, not asserted.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from launcher import ROOT, free_port, isolated_stack, start, stop, wait_healthy

sys.path.insert(0, str(ROOT / "e2e-tests"))
import backend_client
import demo_tenant
from stack_urls import Addresses

ROUNDS = 300
THREADS = 8


def timed(call, rounds: int) -> list[float]:
    durations = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        durations.append(time.perf_counter() - began)
    return durations


def concurrent(call, threads: int, rounds: int) -> float:
    """Requests per second with ``threads`` callers each making ``rounds`` calls."""

    def worker():
        for _ in range(rounds):
            call()

    began = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * rounds / (time.perf_counter() - began)


def expect(response: requests.Response, status: int = 200) -> requests.Response:
    if response.status_code != status:
        raise SystemExit(
            f"bench: {response.request.method} {response.url} answered {response.status_code}: {response.text}"
        )
    return response


def row(name: str, durations: list[float]) -> str:
    ms = sorted(d * 1000 for d in durations)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"  {name:<52} {statistics.median(ms):8.2f} {p95:8.2f} {1000 / statistics.mean(ms):9.0f}"


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="obo-bench-"))
    ports = {name: free_port() for name in ("mock-idp", "target-api", "source-api", "web-app")}
    extra = {
        "mock-idp": {"EXCHANGE_RATE_LIMIT": "1000000", "REFRESH_RATE_LIMIT": "1000000"},
        "source-api": {"SOURCE_API_USER_EXCHANGE_LIMIT": "1000000"},
    }
    services = isolated_stack(ports, data, extra)
    processes = []
    try:
        for service in services:
            processes.append(start(service, Path(sys.executable).parent, (data / f"{service.name}.log").open("w")))
        for service, process in zip(services, processes, strict=True):
            wait_healthy(service, process)
        stack = Addresses({name: f"http://localhost:{port}" for name, port in ports.items()})
        issuer = stack.issuer
        tokens, _ = backend_client.login_tokens(stack, requests.Session(), demo_tenant.ALICE[0])
        user = {"Authorization": f"Bearer {tokens['access_token']}"}
        source = f"http://localhost:{ports['source-api']}/api/contacts"
        target = f"http://localhost:{ports['target-api']}/api/contacts"
        session = requests.Session()
        exchanged = expect(backend_client.exchange(stack, tokens["access_token"])).json()["access_token"]
        form = {
            "grant_type": demo_tenant.TOKEN_EXCHANGE,
            "subject_token": tokens["access_token"],
            "subject_token_type": demo_tenant.ACCESS_TOKEN_TYPE,
            "audience": demo_tenant.TARGET_API,
            "scope": "read:contacts",
            **demo_tenant.SOURCE_CLIENT,
        }
        expect(session.get(source, headers=user))  # the first call exchanges; the rest use the cache

        print(f"\nOne machine, loopback, {ROUNDS} sequential requests per row on a keep-alive session.\n")
        print(f"  {'hop':<52} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>9}")
        print(
            row(
                "token exchange at the identity provider",
                timed(lambda: expect(session.post(issuer + "oauth/token", data=form)), ROUNDS // 3),
            )
        )
        print(
            row(
                "target-api GET /api/contacts",
                timed(lambda: expect(session.get(target, headers={"Authorization": f"Bearer {exchanged}"})), ROUNDS),
            )
        )
        print(
            row(
                "source-api GET /api/contacts (cached token)",
                timed(lambda: expect(session.get(source, headers=user)), ROUNDS),
            )
        )
        bob = demo_tenant.BOB[0]
        fresh_logins = [backend_client.login_tokens(stack, requests.Session(), bob)[0] for _ in range(20)]
        tokens_left = iter(fresh_logins)
        print(
            row(
                "source-api GET /api/contacts (first call: exchange)",
                timed(
                    lambda: expect(
                        session.get(source, headers={"Authorization": f"Bearer {next(tokens_left)['access_token']}"})
                    ),
                    len(fresh_logins),
                ),
            )
        )
        local = threading.local()

        def cached_call():
            if not hasattr(local, "session"):
                local.session = requests.Session()
            expect(local.session.get(source, headers=user))

        rate = concurrent(cached_call, THREADS, ROUNDS // THREADS)
        print(f"\n  source-api, cached, {THREADS} concurrent callers: {rate:.0f} requests/s\n")
    finally:
        for process in reversed(processes):
            stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
