"""The Source API's warm chain in one process: CPU per GET /api/contacts, beside its floors.

    cd tools && ../.venv/bin/python -m benchmarks.chain_in_process [--calls N] [--rounds R] [--gevent] [--profile]

The Source API app from its factory, the identity provider answered in process (obo_testing's
FakeNetwork: discovery, JWKS, the exchange), the token cache warmed by one call, and the
Target API's call answered by a real keep-alive HTTP/1.1 server in a child process (the three
contacts), so the Source API's own client, sockets included, is what is measured and the
server's work is not. Each case is called through WSGI as gunicorn would call it, ``N`` times a
round; the best round's CPU time of this process (time.process_time) per call is printed, so a
machine busy with other work costs waiting, not figures. The floors: the pass-through app of
``make bench`` (bench_apps/passthrough.py) with http.client and with urllib3, and the bare
clients alone. ``--gevent`` patches the standard library first, as the Source API's gunicorn
worker does; ``--profile`` adds cProfile's largest cumulative entries for the chain. For a
sampled profile, run it under ``py-spy record -r 500 -f raw``.
"""

from __future__ import annotations

import sys

if "--gevent" in sys.argv:  # before anything imports socket or ssl
    from gevent import monkey

    monkey.patch_all()

import argparse
import cProfile
import http.client
import importlib
import json
import os
import pstats
import subprocess
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks.wsgi_call import WsgiCall, cpu_us

CONTACTS = {
    "owner": "auth0|65f1a2b3c4d5e6f708091a01",
    "contacts": [
        {"name": "Carol Chen", "email": "carol@example.com"},
        {"name": "Dan Diaz", "email": "dan@example.com"},
        {"name": "Erin Evans", "email": "erin@example.com"},
    ],
}
ISSUER = "http://localhost:9000/"
INTERNAL = "http://mock-idp:9000/"
SOURCE_AUDIENCE = "https://source-api.example.com"
TARGET_AUDIENCE = "https://target-api.example.com"


class _Contacts(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    body = json.dumps(CONTACTS, separators=(",", ":"), sort_keys=True).encode()
    # One write per answer: headers and body apart would meet Nagle and delayed ACKs (40 ms).
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    def do_GET(self) -> None:
        self.wfile.write(self.answer)

    def log_message(self, *args) -> None:
        pass


def serve_contacts() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Contacts)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def best_cpu_us(call: Callable[[], object], calls: int, rounds: int) -> float:
    """The best round's CPU per call, after a warm-up."""
    for _ in range(min(calls, 200)):
        call()
    return min(cpu_us(call, calls) for _ in range(rounds))


def source_api_app(network, target_url: str):
    """The Source API app from its factory and a user token for it; the identity provider is
    answered by ``network`` (installed by the caller), the Target API at ``target_url``."""
    from obo_testing import TokenFactory, serve_identity_provider
    from source_api import create_app
    from source_api.settings import Settings

    factory = TokenFactory(audience=SOURCE_AUDIENCE, scope="openid profile read:contacts", kid="idp-key-1")
    idp = serve_identity_provider(network, factory, internal_url=INTERNAL)
    issued = {"access_token": "target-at-1", "token_type": "Bearer", "expires_in": 3600, "scope": "read:contacts"}
    network.route("POST", idp.token_endpoint, issued)
    settings = Settings(
        issuer=ISSUER,
        idp_internal_url=INTERNAL,
        audience=SOURCE_AUDIENCE,
        target_audience=TARGET_AUDIENCE,
        target_url=target_url,
        exchange_scope="read:contacts",
        operator_secret="an-operator-secret-for-this-measurement",
    )
    return create_app(settings), factory.issue(sub=CONTACTS["owner"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gevent", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_contacts()
        return

    import logging

    import urllib3

    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.chain_in_process", "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        target = f"http://127.0.0.1:{port}"
        results: dict[str, float] = {}

        from obo_testing import FakeNetwork

        with FakeNetwork().installed() as network:
            app, token = source_api_app(network, target)
            logging.getLogger().setLevel(logging.WARNING)  # an access log is gunicorn's, not measured here
            chain = WsgiCall(app, "GET", "/api/contacts", {"Authorization": f"Bearer {token}"}, host="localhost:3001")
            chain.send()  # warms the cache; an answer other than 200 stops here, saying why
            results["source-api chain (warm cache)"] = best_cpu_us(chain.send, args.calls, args.rounds)
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(chain.cpu_us, args.calls)

        os.environ.update(BENCH_TARGET_URL=target, BENCH_TARGET_TOKEN="target-at-1")
        from benchmarks.bench_apps import passthrough

        for client in ("http.client", "urllib3"):
            os.environ["BENCH_CLIENT"] = client
            floor = importlib.reload(passthrough)  # the module reads BENCH_CLIENT as it loads
            call = WsgiCall(floor.app, "GET", "/api/contacts", {"Authorization": f"Bearer {token}"})
            results[f"floor: pass-through, {client}"] = best_cpu_us(call.send, args.calls, args.rounds)

        headers = {"Authorization": "Bearer target-at-1"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

        def bare_http_client() -> bytes:
            connection.request("GET", "/api/contacts", headers=headers)
            return connection.getresponse().read()

        pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=16)
        timeout = urllib3.Timeout(connect=3.05, read=5)
        results["bare http.client"] = best_cpu_us(bare_http_client, args.calls, args.rounds)
        results["bare urllib3 HTTPConnectionPool"] = best_cpu_us(
            lambda: pool.urlopen("GET", "/api/contacts", headers=headers, timeout=timeout, retries=False).data,
            args.calls,
            args.rounds,
        )
    finally:
        server.terminate()
        server.wait()

    print(f"CPU per call, best of {args.rounds} rounds of {args.calls}{' (gevent)' if args.gevent else ''}:")
    for name, cpu in results.items():
        print(f"  {name:36} {cpu:7.1f} us")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
