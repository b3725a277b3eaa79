"""A bounded load run for docs/reliability.md, "Load run": many users at once, for a fixed time.

Starts the four services as `make up` runs them (gunicorn, the same workers) on free
ports, with an isolated copy of the tenant that adds USERS users (load-000@example.com
...) and a copy of the Target API's seed giving each of them contacts of their own. Logs
each user in through the real login and consent pages, then for SECONDS runs CLIENTS
threads a user calling the Source API's GET /api/contacts through the whole chain (the
Source API exchanges the user's token and calls the Target API); one thread a user also
refreshes its tokens every REFRESH seconds; the new access tokens find the Target API
token the Source API keeps for the login, so each user's login is exchanged once.

Reports the requests made, the 5xx answers (must be 0), the answers carrying another
user's data (must be 0: every user's contacts are known), the exchanges a user made
(from the identity provider's tenant log), and the latency p50 and p99. Loopback only;
bounded in users, threads and time. The exchange and refresh rate limits are raised, as
the e2e suite raises them: the run measures the services, not the tenant's budget.
Exits 1 when a 5xx or a cross-user answer was seen.

    .venv/bin/python -m benchmarks.load_run [--users 20] [--clients 2] [--seconds 60] [--refresh 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from local_stack.launcher import ROOT, free_port, isolated_stack, start, stop, wait_healthy
from workshop import demo_login

PASSWORD = "Passw0rd!"
WEB_APP = {"client_id": "web-app", "client_secret": "web-app-secret"}
MANAGEMENT = {"client_id": "management", "client_secret": "management-secret"}
LOGIN_SCOPE = "openid profile email offline_access read:profile read:contacts"
SOURCE_API = "https://source-api.example.com"
EXCHANGE = "success_on_behalf_of_token_exchange"
TIMEOUT = 10
LIMITS = {"EXCHANGE_RATE_LIMIT": "1000000", "REFRESH_RATE_LIMIT": "1000000"}


@dataclass
class User:
    email: str
    user_id: str
    contacts: list[dict]
    access_token: str = ""
    refresh_token: str = ""
    tokens_issued: int = 0  # access tokens the Source API saw, all of the user's one login


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    cross_user: int = 0
    wrong: int = 0  # a 200 whose owner or contacts are nobody's: also a failure
    refreshes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # no answer at all (connection, timeout)


def tenant_copy(data: Path, count: int) -> tuple[Path, Path, list[User]]:
    """The tenant file and the Target API seed with ``count`` more users, under ``data``."""
    tenant = yaml.safe_load((ROOT / "mock-idp" / "tenant.yaml").read_text())
    seed = yaml.safe_load((ROOT / "target-api" / "contacts.yaml").read_text())
    users = []
    for number in range(count):
        name = f"load-{number:03d}"
        user_id = f"auth0|load{number:020d}"
        tenant["users"].append(
            {"user_id": user_id, "email": f"{name}@example.com", "email_verified": True, "password": PASSWORD,
             "name": f"Load {number}", "given_name": "Load", "family_name": str(number), "nickname": name}
        )  # fmt: skip
        contacts = [{"name": f"Contact {n} of {name}", "email": f"c{n}.{name}@example.com"} for n in (1, 2)]
        seed[user_id] = contacts
        users.append(User(f"{name}@example.com", user_id, contacts))
    shutil.copytree(ROOT / "mock-idp" / tenant["rules_folder"], data / "tenant" / tenant["rules_folder"])
    tenant_file = data / "tenant" / "tenant.yaml"
    tenant_file.write_text(yaml.safe_dump(tenant, sort_keys=False))
    seed_file = data / "contacts.yaml"
    seed_file.write_text(yaml.safe_dump(seed, sort_keys=False))
    return tenant_file, seed_file, users


def log_in(issuer: str, callback: str, user: User) -> None:
    """Step 1 for ``user``: the real login and consent pages, then the code redeemed."""
    params = {**{"client_id": WEB_APP["client_id"]}, "redirect_uri": callback, "scope": LOGIN_SCOPE}
    login_request = demo_login.authorization_request(issuer, {**params, "audience": SOURCE_API})
    authorization = demo_login.authorize(requests.Session(), login_request.url, user.email, PASSWORD)
    form = {"grant_type": "authorization_code", "code": authorization.params["code"], "redirect_uri": callback}
    form |= {"code_verifier": login_request.verifier, **WEB_APP}
    response = requests.post(issuer + "oauth/token", data=form, timeout=TIMEOUT)
    response.raise_for_status()
    user.access_token, user.refresh_token = response.json()["access_token"], response.json()["refresh_token"]
    user.tokens_issued = 1


def call(source_api: str, user: User, by_owner: dict[str, User], tally: Tally) -> None:
    began = time.perf_counter()
    try:
        response = requests.get(
            source_api + "/api/contacts", headers={"Authorization": f"Bearer {user.access_token}"}, timeout=TIMEOUT
        )
    except requests.RequestException as error:
        with tally.lock:
            tally.errors[type(error).__name__] += 1
        return
    elapsed = time.perf_counter() - began
    body = response.json() if response.status_code == 200 else {}
    owner = body.get("owner")
    with tally.lock:
        tally.statuses[response.status_code] += 1
        tally.latencies.append(elapsed)
        if response.status_code != 200:
            return
        if owner != user.user_id or body.get("contacts") != user.contacts:
            others = [u for u in by_owner.values() if u is not user]
            if owner in by_owner or any(body.get("contacts") == u.contacts for u in others):
                tally.cross_user += 1
            else:
                tally.wrong += 1


def refresh(issuer: str, user: User, tally: Tally) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": user.refresh_token, **WEB_APP}
    try:
        response = requests.post(issuer + "oauth/token", data=form, timeout=TIMEOUT)
    except requests.RequestException as error:
        with tally.lock:
            tally.errors[type(error).__name__] += 1
        return
    with tally.lock:
        tally.refreshes[response.status_code] += 1
    if response.status_code == 200:
        tokens = response.json()
        user.access_token, user.refresh_token = tokens["access_token"], tokens["refresh_token"]
        user.tokens_issued += 1


def run(urls: dict[str, str], users: list[User], clients: int, seconds: float, every: float) -> Tally:
    """CLIENTS threads a user calling the Source API until SECONDS have passed."""
    tally, by_owner = Tally(), {u.user_id: u for u in users}
    issuer = urls["mock-idp"] + "/"
    end = time.monotonic() + seconds

    def client(user: User, refresher: bool) -> None:
        next_refresh = time.monotonic() + every
        while time.monotonic() < end:
            if refresher and time.monotonic() >= next_refresh:
                refresh(issuer, user, tally)
                next_refresh = time.monotonic() + every
            call(urls["source-api"], user, by_owner, tally)

    threads = [threading.Thread(target=client, args=(user, number == 0)) for user in users for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def exchanges_per_user(issuer: str, users: list[User]) -> dict[str, int]:
    """Successful exchanges per user, from the tenant log (Management API, totals)."""
    form = {"grant_type": "client_credentials", "audience": issuer + "api/v2/", **MANAGEMENT}
    token = requests.post(issuer + "oauth/token", data=form, timeout=TIMEOUT).json()["access_token"]
    counts = {}
    for user in users:
        params = {"type": EXCHANGE, "user_id": user.user_id, "per_page": 1, "include_totals": "true"}
        answer = requests.get(
            issuer + "api/v2/logs", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        )
        answer.raise_for_status()
        counts[user.user_id] = answer.json()["total"]
    return counts


def summary(tally: Tally, users: list[User], exchanges: dict[str, int], args) -> dict:
    latencies = sorted(tally.latencies)

    def percentile(share: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000, 1) if latencies else None

    # The Source API keeps a Target API token per login: the refreshed access tokens of a
    # login find its entry, so a user's one login is exchanged once (docs/scale-out.md, Key).
    surplus = [exchanges[u.user_id] - 1 for u in users]
    return {
        "users": len(users),
        "clients_per_user": args.clients,
        "seconds": args.seconds,
        "requests": sum(tally.statuses.values()),
        "statuses": {str(status): n for status, n in sorted(tally.statuses.items())},
        "5xx": sum(n for status, n in tally.statuses.items() if status >= 500),
        "no_answer": dict(tally.errors),
        "cross_user": tally.cross_user,
        "wrong_data": tally.wrong,
        "refreshes": {str(status): n for status, n in sorted(tally.refreshes.items())},
        "exchanges_per_user": {"min": min(exchanges.values()), "max": max(exchanges.values())},
        "access_tokens_per_user": {
            "min": min(u.tokens_issued for u in users),
            "max": max(u.tokens_issued for u in users),
        },
        "exchanges_beyond_one_a_login": {"min": min(surplus), "max": max(surplus)},
        "latency_ms": {"p50": percentile(0.50), "p99": percentile(0.99), "max": percentile(1.0)},
        "requests_per_second": round(sum(tally.statuses.values()) / args.seconds, 1),
    }


def print_table(result: dict) -> None:
    print(f"\n{result['users']} users x {result['clients_per_user']} clients, {result['seconds']:.0f} s\n")
    rows = [
        ("requests", result["requests"]),
        ("requests / s", result["requests_per_second"]),
        ("statuses", result["statuses"]),
        ("5xx", result["5xx"]),
        ("no answer", result["no_answer"] or 0),
        ("another user's data", result["cross_user"]),
        ("nobody's data", result["wrong_data"]),
        ("refreshes", result["refreshes"]),
        ("access tokens a user (min-max)", "{min}-{max}".format(**result["access_tokens_per_user"])),
        ("exchanges a user (min-max)", "{min}-{max}".format(**result["exchanges_per_user"])),
        ("exchanges beyond one a login", "{min}-{max}".format(**result["exchanges_beyond_one_a_login"])),
        ("latency p50 / p99 / max ms", "{p50} / {p99} / {max}".format(**result["latency_ms"])),
    ]
    for name, value in rows:
        print(f"  {name:<32} {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="users logged in (default 20)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients a user (default 2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    parser.add_argument("--refresh", type=float, default=10.0, help="seconds between a user's refreshes")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    if not (1 <= args.users <= 200 and 1 <= args.clients <= 10 and 0 < args.seconds <= 600):
        parser.error("bounded: 1-200 users, 1-10 clients a user, at most 600 s")

    data = Path(tempfile.mkdtemp(prefix="obo-load-"))
    tenant_file, seed_file, users = tenant_copy(data, args.users)
    ports = {name: free_port() for name in ("mock-idp", "target-api", "source-api", "web-app")}
    extra = {
        "mock-idp": {"MOCK_IDP_TENANT_FILE": str(tenant_file), **LIMITS},
        "target-api": {},
        "source-api": {"SOURCE_API_USER_EXCHANGE_LIMIT": "1000000"},  # users log in again and again
    }
    extra["target-api"]["TARGET_API_SEED_FILE"] = str(seed_file)
    services = isolated_stack(ports, data, extra)
    processes = []
    try:
        for service in services:
            processes.append(start(service, Path(sys.executable).parent, (data / f"{service.name}.log").open("w")))
        for service, process in zip(services, processes, strict=True):
            wait_healthy(service, process)
        urls = {service.name: service.url for service in services}
        issuer = urls["mock-idp"] + "/"
        for user in users:
            log_in(issuer, urls["web-app"] + "/callback", user)
        tally = run(urls, users, args.clients, args.seconds, args.refresh)
        result = summary(tally, users, exchanges_per_user(issuer, users), args)
    finally:
        for process in reversed(processes):
            stop(process)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
        print(f"\n(logs of the services in {data})")
    return 1 if result["5xx"] or result["cross_user"] or result["wrong_data"] else 0


if __name__ == "__main__":
    sys.exit(main())
