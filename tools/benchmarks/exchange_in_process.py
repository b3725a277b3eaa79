"""mock-idp's token exchange in process: the CPU time of one exchange, without a server.

    .venv/bin/python -m benchmarks.exchange_in_process [--exchanges N] [--rounds R] [--profile FILE]

Builds mock-idp's app from its factory with the demo tenant (mock-idp/tenant.yaml, its
exchange rate limit raised as `make bench` raises it) on a database in a temporary folder,
issues alice one access token for the Source API, then sends the Source API's exchange
(POST /oauth/token, the Target API's read:contacts) N times straight to the WSGI app: no
socket, no gunicorn, no gevent, so what is left is mock-idp's own work. Prints the CPU time
(time.process_time, which waiting for a core on a busy machine does not count) per
exchange of each round, and the best. With --profile, one more round runs under cProfile
and its statistics are written to FILE and summed up (the profiler slows every call down:
read its shares, not its times).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.bench_stack import UNLIMITED
from benchmarks.wsgi_call import WsgiCall, profile_round, round_arguments
from mock_idp import create_app, provider, tokens
from mock_idp.settings import SERVICE_DIR, Settings
from mock_idp.tenant_file import load_tenant
from workshop.demo_tokens import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE

ISSUER = "http://localhost:9000/"
USER = "alice@example.com"
SOURCE_API = "https://source-api.example.com"
TARGET_API = "https://target-api.example.com"
SCOPES = ["openid", "profile", "email", "offline_access", "read:profile", "read:contacts"]


class Exchanges:
    """The app and one exchange request, ready to be sent again and again."""

    def __init__(self, folder: Path):
        tenant_file = SERVICE_DIR / "tenant.yaml"
        settings = Settings(
            issuer=ISSUER,
            tenant_file=tenant_file,
            database=folder / "mock-idp.sqlite3",
            password_hash_cost=4,  # hashed once, at start: no login here
            log_retention_entries=10_000_000,
        )
        self.app = create_app(settings, load_tenant(tenant_file, ISSUER, environ=UNLIMITED))
        with self.app.test_request_context("/"):
            tenant = provider.idp().tenant()
            user = tenant.user_by_email(USER)
            web_app, source_api = tenant.client("web-app"), tenant.resource_server(SOURCE_API)
            if user is None or web_app is None or source_api is None:
                raise SystemExit("exchange_in_process: the demo tenant has no alice, web app or Source API")
            subject, _ = tokens.access_token(
                tokens.Issue(
                    client=web_app,
                    subject=user.user_id,
                    user=user,
                    api=source_api,
                    scopes=SCOPES,
                    auth_time=int(time.time()),
                    grant_id=tokens.new_family(),
                )
            )
        body = urlencode(
            {
                "grant_type": TOKEN_EXCHANGE,
                "subject_token": subject,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "audience": TARGET_API,
                "scope": "read:contacts",
                "client_id": "source-api",
                "client_secret": "source-api-secret",
            }
        ).encode()
        headers = {"X-Request-Id": "exchange-in-process", "Content-Type": "application/x-www-form-urlencoded"}
        self.call = WsgiCall(self.app, "POST", "/oauth/token", headers, body, host="localhost:9000")

    def one(self) -> bytes:
        return self.call.send()

    def cpu_per_exchange(self, exchanges: int) -> float:
        """Microseconds of CPU per exchange over ``exchanges`` of them."""
        return self.call.cpu_us(exchanges)


def main(argv: list[str] | None = None) -> int:
    args = round_arguments(__doc__, "exchanges", 500, 5, argv)
    with tempfile.TemporaryDirectory() as folder:
        bench = Exchanges(Path(folder))
        for _ in range(50):  # warm: the first requests read the tenant, parse keys, load rules
            bench.one()
        rounds = [bench.cpu_per_exchange(args.exchanges) for _ in range(args.rounds)]
        shown = " ".join(f"{us:.0f}" for us in rounds)
        print(f"CPU per exchange, us: {shown}; best {min(rounds):.0f} ({args.exchanges} exchanges a round)")
        if args.profile:
            profile_round(bench.call, args.exchanges, args.profile, r"mock_idp")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
