"""Figures for docs/reliability.md, "Slow clients": a stack of real processes beside slow clients.

Starts the four services on free ports (as the e2e suite does), opens SLOW connections to
each that send a POST's headers with a Content-Length and then one byte or none (half of
them trickle a byte every 2 s), then times fresh requests of other clients to /healthz
while those are open, and how long the server takes to close each slow connection.
Loopback only; bounded in count and time. Nothing passes or fails: the figures are read.

    .venv/bin/python -m benchmarks.slow_clients_measure [--slow 200] [--probes 20]

With ``--headers N`` it measures the other kind instead: N connections to each API that
send a request line and part of the headers, never the end of them (more than a worker's
1000 connections), then one fresh GET /healthz to each: seconds to its answer, and how
long the server held the unfinished connections.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import selectors
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from local_stack.launcher import free_port, isolated_stack, start, stop, wait_healthy

PATHS = {"mock-idp": "/oauth/token", "target-api": "/api/contacts", "source-api": "/api/contacts", "web-app": "/logout"}
CAP = 60.0  # seconds the script waits for the slow connections to be closed
HEADERS_CAP = 100.0  # the same for unfinished headers: the APIs' keepalive (75 s) fits in it
ANSWER_TIMEOUT = 5.0


def open_slow(port: int, path: str, first_byte: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = f"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Length: 4096\r\n"
    sock.sendall(f"{head}Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode() + b"a" * first_byte)
    sock.setblocking(False)
    return sock


def probe(url: str, count: int) -> list[float | None]:
    """Seconds for each of ``count`` fresh GET /healthz; None for no answer in ANSWER_TIMEOUT."""
    durations = []
    for _ in range(count):
        began = time.perf_counter()
        try:
            requests.get(url + "/healthz", timeout=ANSWER_TIMEOUT).raise_for_status()
            durations.append(time.perf_counter() - began)
        except requests.RequestException:
            durations.append(None)
    return durations


def wait_closed(
    slow: dict[socket.socket, tuple[str, float]], within: float = CAP, trickle: bool = True
) -> dict[socket.socket, float]:
    """Seconds from opening to the server's close, for each slow connection closed within ``within``."""
    closed: dict[socket.socket, float] = {}
    waiting = selectors.DefaultSelector()
    for sock in slow:
        waiting.register(sock, selectors.EVENT_READ)
    trickling = list(slow)[::2] if trickle else []
    next_trickle, cap = time.monotonic() + 2, time.monotonic() + within
    while len(closed) < len(slow) and time.monotonic() < cap:
        for key, _ in waiting.select(timeout=0.5):
            sock = key.fileobj
            try:
                while sock.recv(4096):
                    pass
            except BlockingIOError:
                continue
            except ConnectionError:
                pass
            closed[sock] = time.monotonic() - slow[sock][1]
            waiting.unregister(sock)
        if time.monotonic() >= next_trickle:
            for sock in trickling:
                if sock not in closed:
                    with contextlib.suppress(OSError):
                        sock.send(b"a")
            next_trickle = time.monotonic() + 2
    waiting.close()
    return closed


def open_unfinished(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: localhost:{port}\r\nX-Unfinished: ".encode())
    sock.setblocking(False)
    return sock


def measure_headers(services, count: int) -> None:
    """Unfinished headers to each API in turn; a fresh request to it beside them."""
    print(f"\n{count} connections with unfinished headers to each API, then one fresh GET /healthz.\n")
    print(f"  {'service':<11} {'fresh answer s':>15}   {'closed':>9} {'first s':>8} {'last s':>7}")
    for service in services:
        if service.name not in ("source-api", "target-api"):
            continue
        slow = {open_unfinished(service.port): (service.name, time.monotonic()) for _ in range(count)}
        try:
            began = time.monotonic()
            try:
                requests.get(service.url + "/healthz", timeout=HEADERS_CAP).raise_for_status()
                fresh = f"{time.monotonic() - began:.1f}"
            except requests.RequestException:
                fresh = f"none in {HEADERS_CAP:.0f}"
            ends = list(wait_closed(slow, HEADERS_CAP, trickle=False).values())
            first, last = (f"{min(ends):.1f}", f"{max(ends):.1f}") if ends else ("-", "-")
            print(f"  {service.name:<11} {fresh:>15}   {len(ends):>4}/{count:<4} {first:>8} {last:>7}")
        finally:
            for sock in slow:
                sock.close()
    print(f"\n(not closed within {HEADERS_CAP:.0f} s: not counted)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=200, help="slow connections to each service (default 200)")
    parser.add_argument("--probes", type=int, default=20, help="requests of other clients to each service")
    parser.add_argument("--headers", type=int, default=0, help="measure N unfinished headers to each API instead")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(4 * args.slow, args.headers) + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))

    data = Path(tempfile.mkdtemp(prefix="obo-slow-"))
    ports = {name: free_port() for name in PATHS}
    services = isolated_stack(ports, data)
    processes, slow = [], {}
    try:
        for service in services:
            processes.append(start(service, Path(sys.executable).parent, (data / f"{service.name}.log").open("w")))
        for service, process in zip(services, processes, strict=True):
            wait_healthy(service, process)
        if args.headers:
            measure_headers(services, args.headers)
            return 0
        for service in services:
            for number in range(args.slow):
                slow[open_slow(service.port, PATHS[service.name], number % 2 == 0)] = (service.name, time.monotonic())
        answers = {service.name: probe(service.url, args.probes) for service in services}
        closed = wait_closed(slow)

        print(f"\n{args.slow} slow connections to each service; {args.probes} fresh GET /healthz each beside them.\n")
        print(f"  {'service':<11} {'answered':>9} {'p50 ms':>7} {'max ms':>7}", end="")
        print(f"   {'closed':>7} {'first s':>8} {'last s':>7}")
        for service in services:
            times = [t for t in answers[service.name] if t is not None]
            ends = [seconds for sock, seconds in closed.items() if slow[sock][0] == service.name]
            p50 = f"{statistics.median(times) * 1000:.0f}" if times else "-"
            worst = f"{max(times) * 1000:.0f}" if times else "-"
            first, last = (f"{min(ends):.1f}", f"{max(ends):.1f}") if ends else ("-", "-")
            print(
                f"  {service.name:<11} {len(times):>4}/{args.probes:<4} {p50:>7} {worst:>7}"
                f"   {len(ends):>3}/{args.slow:<3} {first:>8} {last:>7}"
            )
        print(f"\n(no answer: none within {ANSWER_TIMEOUT:.0f} s; not closed within {CAP:.0f} s: not counted)")
    finally:
        for sock in slow:
            sock.close()
        for process in reversed(processes):
            stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
