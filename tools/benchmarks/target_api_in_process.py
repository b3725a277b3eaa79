"""The Target API beside the trivial Flask app, in process: what the Target API's own work
costs per request, without a server.

    .venv/bin/python -m benchmarks.target_api_in_process [--requests N] [--rounds R] [--profile FILE]

Builds the Target API from its factory (its provider's discovery and keys served by
obo_testing's fake network, a token signed by its key, on a database in a temporary
folder) and the trivial app of bench_apps, and sends each the same GET /api/contacts,
bearer token included, N times a round, the two interleaved round by round. Prints the CPU
time per request of each (the best round), their difference and their ratio. The trivial
app verifies no token and answers the same three contacts: the difference is what the
Target API does beyond any Flask app (request id, host check, token, scope, step-up and
actor checks, contacts). With --profile, one more round of the Target API runs under
cProfile and its statistics are written to FILE and summed up (the profiler slows every
call down: read its shares, not its times).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.bench_apps import trivial
from benchmarks.wsgi_call import WsgiCall, profile_round, round_arguments
from obo_testing import FakeNetwork, TokenFactory, serve_identity_provider
from target_api import create_app
from target_api.settings import SERVICE_DIR, Settings

ISSUER = "http://localhost:9000/"
INTERNAL = "http://mock-idp:9000/"
AUDIENCE = "https://target-api.example.com"
ALICE = "auth0|65f1a2b3c4d5e6f708091a01"  # the tenant's alice: her contacts are the seed's


def calls(folder: Path, network: FakeNetwork) -> tuple[WsgiCall, WsgiCall]:
    """The Target API's request and the trivial app's, the same bytes."""
    factory = TokenFactory(audience=AUDIENCE, scope="read:contacts", kid="idp-key-1")
    serve_identity_provider(network, factory, internal_url=INTERNAL)
    settings = Settings(
        issuer=ISSUER,
        idp_internal_url=INTERNAL,
        audience=AUDIENCE,
        database=folder / "target-api.sqlite3",
        seed_file=SERVICE_DIR / "contacts.yaml",
    )
    headers = {"Authorization": "Bearer " + factory.issue(sub=ALICE, scope="read:contacts")}
    target = WsgiCall(create_app(settings), "GET", "/api/contacts", headers, host="localhost:3002")
    return target, WsgiCall(trivial.app, "GET", "/api/contacts", headers, host="localhost:3002")


def main(argv: list[str] | None = None) -> int:
    args = round_arguments(__doc__, "requests", 1000, 7, argv)
    with tempfile.TemporaryDirectory() as folder, FakeNetwork().installed() as network:
        target, floor = calls(Path(folder), network)
        for _ in range(50):  # warm: the first request fetches the keys and verifies the token
            target.send(), floor.send()
        rounds = [(target.cpu_us(args.requests), floor.cpu_us(args.requests)) for _ in range(args.rounds)]
        best_target, best_floor = min(r[0] for r in rounds), min(r[1] for r in rounds)
        print(
            f"CPU per request, us (best of {args.rounds} rounds of {args.requests}): Target API {best_target:.1f}, "
            f"trivial Flask app {best_floor:.1f}; difference {best_target - best_floor:.1f}, "
            f"ratio {best_target / best_floor:.2f}"
        )
        if args.profile:
            profile_round(target, args.requests, args.profile, r"target_api|obo_common")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
