"""The load generator of `make bench`: keep-alive HTTP/1.1 over raw sockets, in its own process.

wrk is not installed everywhere, and a Python client in the benchmark's own process would
share its interpreter with the bookkeeping. This one reads a job as JSON on stdin, runs
``connections`` keep-alive connections in one asyncio loop (the request bytes are built
once; a response is read by its Content-Length), and prints one JSON line: count, errors,
wall time, requests/s and latency percentiles in milliseconds.

A job says what each connection sends next:
- ``fixed``: the same request, again and again, for ``seconds`` (or ``count`` requests);
- ``each``: every body of ``bodies`` once (authorization codes, first calls of new users);
- ``refresh``: a chain per connection, seeded by ``bodies``: each answer's refresh_token
  is sent in the next request (rotation makes every refresh token single-use).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlencode, urlsplit


def request_bytes(method: str, url: str, headers: dict[str, str], body: str = "") -> bytes:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, close = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    return status, await reader.readexactly(length) if length else b"", close


class Job:
    def __init__(self, spec: dict):
        self.spec = spec
        self.url = spec["url"]
        self.method = spec.get("method", "GET")
        self.headers = dict(spec.get("headers", {}))
        if self.method == "POST":
            self.headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        self.mode = spec.get("mode", "fixed")
        self.expect = spec.get("status", 200)
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error = ""
        self.deadline = time.monotonic() + spec.get("seconds", 600)
        self.left = spec.get("count", 10**9)
        self.fixed = request_bytes(self.method, self.url, self.headers, urlencode(spec.get("form", {})))
        self.bodies = list(spec.get("bodies", []))

    def next_request(self, chain: dict) -> bytes | None:
        if self.left <= 0 or time.monotonic() > self.deadline:
            return None
        self.left -= 1
        if self.mode == "fixed":
            return self.fixed
        if self.mode == "each" or "refresh_token" not in chain:
            if not self.bodies:
                return None
            form = self.bodies.pop()
            chain.update(form)
        else:
            form = chain
        return request_bytes(self.method, self.url, self.headers, urlencode(form))

    def answered(self, status: int, body: bytes, chain: dict) -> None:
        if status != self.expect:
            self.errors += 1
            self.first_error = self.first_error or f"{status} {body[:200].decode(errors='replace')}"
            chain.pop("refresh_token", None)
        elif self.mode == "refresh":
            chain["refresh_token"] = json.loads(body)["refresh_token"]

    async def connection(self) -> None:
        parts = urlsplit(self.url)
        reader = writer = None
        chain: dict = {}
        while (request := self.next_request(chain)) is not None:
            if writer is None:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            began = time.perf_counter()
            writer.write(request)
            status, body, close = await read_response(reader)
            self.latencies.append(time.perf_counter() - began)
            self.answered(status, body, chain)
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else float("nan")


async def run(spec: dict) -> dict:
    job = Job(spec)
    began = time.perf_counter()
    await asyncio.gather(*(job.connection() for _ in range(spec.get("connections", 1))))
    wall = time.perf_counter() - began
    ordered = sorted(job.latencies)
    return {
        "count": len(ordered),
        "errors": job.errors,
        "first_error": job.first_error,
        "wall": wall,
        "rps": len(ordered) / wall if wall else 0.0,
        "p50": percentile(ordered, 0.50),
        "p99": percentile(ordered, 0.99),
    }


def main() -> int:
    spec = json.load(sys.stdin)
    warm = asyncio.run(run({**spec, "seconds": spec["warmup"], "mode": "fixed"})) if spec.get("warmup") else None
    # The warm-up's requests too, so a caller can divide what the server spent over the whole run.
    print(json.dumps({**asyncio.run(run(spec)), "warmup_count": warm["count"] if warm else 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
