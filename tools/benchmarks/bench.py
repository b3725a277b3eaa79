"""make bench: the On-Behalf-Of hop against its floors, the token endpoint, and what the
services fetch and hold, measured against real processes (benchmarks/bench_stack.py).

Load comes from a separate process (benchmarks/bench_load.py, keep-alive connections), each
row for BENCH_SECONDS, rows interleaved and repeated BENCH_ROUNDS times: a ratio is taken
within one round, then the median over rounds, so a busy machine moves the figures more
than the ratios. Nothing here passes or fails on speed; the figures are printed and
written to docs/benchmarks.md between its markers (the text around them is kept).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks import bench_peer, bench_scale
from benchmarks.bench_stack import SIGNING_FLOOR, BenchStack
from local_stack import demo_settings
from local_stack.demo_settings import DemoSettings
from local_stack.launcher import ROOT
from workshop import demo_login, demo_tokens
from workshop.demo_tokens import DEMO_PASSWORD

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.5"))
CONNECTIONS = (1, 8)
IN_FLIGHT = (1, 16)
USERS, CALLS_PER_USER = 20, 8
HTTP_ROWS = (
    "target-api",
    "trivial Flask app",
    "floor (requests)",
    "floor (http.client)",
    "floor (urllib3)",
    "source-api",
    "source-api (cache off)",
)
LABELS = {
    "target-api": "1. Target API, direct",
    "trivial Flask app": "2. trivial Flask app (Target API settings)",
    "floor (requests)": "3. floor: pass-through, requests",
    "floor (http.client)": "3b. floor: pass-through, http.client",
    "floor (urllib3)": "3c. floor: pass-through, urllib3",
    "source-api": "4. chain, warm cache",
    "source-api (cache off)": "5. chain, cache off (exchange per call)",
}
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ALICE, BOB = "alice@example.com", "bob@example.com"  # the tenant file's demo users


def say(text: str) -> None:
    print(text, flush=True)


def load(spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_load"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode:
        raise SystemExit(f"bench: the load generator failed: {done.stderr[-1000:]}")
    result = json.loads(done.stdout)
    if result["errors"]:
        say(f"    ! {result['errors']} unexpected answers, first: {result['first_error']}")
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def per_round(runs: list[dict]) -> str:
    return ", ".join(f"{r['rps']:.0f}" for r in runs)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


# -- the rows ------------------------------------------------------------------------------


def http_rows(stack: BenchStack, user_token: str, target_token: str) -> dict:
    """Rows 1-5: {(row, connections): [per-round results]}."""
    # Each row gets the same request as the row it stands beside: a floor is sent the token
    # its service reads (it reads none), so the server's parsing of the request is the same.
    bearer = {row: user_token for row in HTTP_ROWS} | {"target-api": target_token, "trivial Flask app": target_token}
    results: dict = {}
    for round_ in range(1, ROUNDS + 1):
        for connections in CONNECTIONS:
            for row in HTTP_ROWS:
                headers = {"Authorization": f"Bearer {bearer[row]}"}
                spec = {
                    "url": stack.procs[row].url + "/api/contacts",
                    "headers": headers,
                    "connections": connections,
                    "seconds": SECONDS,
                    "warmup": 0.3,
                }
                cpu_before = stack.cpu_seconds(row)
                result = load(spec)
                # What the row's own server spent per request (its workers' CPU time): on a busy
                # machine latency counts the waits for a core, this does not.
                answered = result["count"] + result["warmup_count"]
                result["cpu_us"] = (stack.cpu_seconds(row) - cpu_before) * 1e6 / answered if answered else 0.0
                results.setdefault((row, connections), []).append(result)
                say(
                    f"  round {round_}/{ROUNDS} c={connections} {LABELS[row]:<42} "
                    f"p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms  {result['rps']:6.0f}/s  "
                    f"CPU {result['cpu_us']:5.0f} us/request"
                )
    return results


def new_codes(settings: DemoSettings, browser: requests.Session, count: int) -> list[dict]:
    """``count`` authorization codes of a logged-in user, each with its redemption form."""
    forms = []
    for _ in range(count):
        request = demo_tokens.login_request(settings)
        authorization = demo_login.authorize(browser, request.url, ALICE, DEMO_PASSWORD)
        forms.append(demo_tokens.redemption_form(settings, authorization.params["code"], request.verifier))
    return forms


def token_rows(settings: DemoSettings, user_token: str) -> dict:
    """Row 6: exchanges, refreshes and code redemptions at 1 and 16 in flight."""
    exchange = demo_tokens.exchange_form(settings, user_token, "read:contacts")
    web_app = {"client_id": settings.web_app_client_id, "client_secret": settings.web_app_client_secret}
    browser = requests.Session()
    # Logged in once: each code of new_codes is then an authorization without the login form.
    demo_login.authorize(browser, demo_tokens.login_request(settings).url, ALICE, DEMO_PASSWORD)
    results: dict = {}
    for round_ in range(1, max(2, ROUNDS - 1) + 1):
        for in_flight in IN_FLIGHT:
            seeds = [
                {
                    "grant_type": "refresh_token",
                    "refresh_token": demo_tokens.login(settings, ALICE, DEMO_PASSWORD)["refresh_token"],
                    **web_app,
                }
                for _ in range(in_flight)
            ]
            codes = new_codes(settings, browser, 80 * (2 if in_flight > 1 else 1))
            base = {"url": settings.token_endpoint, "method": "POST", "connections": in_flight}
            for grant, spec in (
                ("exchange", {**base, "form": exchange, "seconds": SECONDS, "warmup": 0.3}),
                ("refresh", {**base, "mode": "refresh", "bodies": seeds, "seconds": SECONDS}),
                ("code", {**base, "mode": "each", "bodies": codes}),
            ):
                result = load(spec)
                results.setdefault((grant, in_flight), []).append(result)
                say(
                    f"  round {round_} token endpoint, {grant:<8} {in_flight:>2} in flight: "
                    f"{result['rps']:6.0f}/s  p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms"
                )
    return results


def exchanges_per_user(stack: BenchStack, settings: DemoSettings) -> dict:
    """Row 7: USERS new users, each making CALLS_PER_USER calls that all arrive together."""
    tokens = [demo_tokens.login(settings, (ALICE, BOB)[i % 2], DEMO_PASSWORD)["access_token"] for i in range(USERS)]
    before = stack.settled_idp_requests()
    start = threading.Barrier(USERS * CALLS_PER_USER)
    source = stack.procs["source-api"].url + "/api/contacts"

    def call(token: str) -> int:
        start.wait()
        return requests.get(source, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code

    with ThreadPoolExecutor(USERS * CALLS_PER_USER) as pool:
        statuses = list(pool.map(call, [t for t in tokens for _ in range(CALLS_PER_USER)]))
    after = stack.settled_idp_requests()
    exchanges = sum(n for k, n in (after - before).items() if k[0] == "source-api" and k[2] == "/oauth/token")
    return {"users": USERS, "calls": CALLS_PER_USER, "exchanges": exchanges, "non-200": sum(s != 200 for s in statuses)}


def peer_rows(stack: BenchStack, user_token: str) -> dict | str:
    """The optional peer row: exchange_bench.py against mock-idp and the peer, interleaved."""
    why = bench_peer.prepare()
    if why:
        return f"skipped: {why}"
    process, issuer = bench_peer.start(stack.data / "peer-idp.log")
    try:
        peer_token = bench_peer.subject_token(issuer)
        ours = stack.procs["mock-idp"].url + "/"
        floor = stack.procs[SIGNING_FLOOR].url + "/"
        providers = (("mock-idp", ours, user_token), ("peer", issuer, peer_token), (SIGNING_FLOOR, floor, user_token))
        results: dict = {}
        for round_ in (1, 2):
            for in_flight, count in ((1, 150), (16, 400)):
                for who, url, token in providers:
                    result = bench_peer.exchange_bench(url, count, in_flight, token)
                    results.setdefault((who, in_flight), []).append(result)
                    say(
                        f"  round {round_} exchange_bench.py {who:<8} C={in_flight:>2}: {result['rps']:5.0f}/s  "
                        f"p50 {result['p50']:6.2f} ms  non-200 {result['errors']}"
                    )
        return results
    finally:
        process.terminate()
        process.wait(10)


# -- the report ----------------------------------------------------------------------------


def ratios(results: dict, row: str, base: str, connections: int, key: str) -> list[float]:
    """The ratio of each round, in the order the rounds ran."""
    pairs = zip(results[row, connections], results[base, connections], strict=True)
    return [a[key] / b[key] for a, b in pairs]


def ratio(results: dict, row: str, base: str, connections: int, key: str) -> float:
    return median(ratios(results, row, base, connections, key))


def report(http: dict, tokens: dict, per_user: dict, peer: dict | str, fetches: dict, rss: dict, machine: str) -> str:
    lines = [
        f"Machine: {machine}",
        "",
        f"Command: `make bench` (BENCH_ROUNDS={ROUNDS}, BENCH_SECONDS={SECONDS:g}); "
        "medians over the rounds, ratios taken within a round.",
        "",
    ]
    head = "| row | " + " | ".join(f"c={c} p50 ms | c={c} p99 ms | c={c} req/s" for c in CONNECTIONS)
    head += " | p50 / direct (c=1, c=8) | p50 / floor (c=1, c=8) | p99 / floor (c=1, c=8) | req/s / direct (c=8) |"
    head += " server CPU us/request (c=1, c=8) |"
    lines += [head, "|" + "---|" * (2 + 3 * len(CONNECTIONS) + 4)]
    for row in HTTP_ROWS:
        cells = []
        for c in CONNECTIONS:
            runs = http[row, c]
            cells += [
                f"{median([r['p50'] for r in runs]):.2f}",
                f"{median([r['p99'] for r in runs]):.2f}",
                f"{median([r['rps'] for r in runs]):.0f}",
            ]
        direct = ", ".join(f"{ratio(http, row, 'target-api', c, 'p50'):.2f}" for c in CONNECTIONS)
        floor = ", ".join(f"{ratio(http, row, 'floor (requests)', c, 'p50'):.2f}" for c in CONNECTIONS)
        floor99 = ", ".join(f"{ratio(http, row, 'floor (requests)', c, 'p99'):.2f}" for c in CONNECTIONS)
        rps = f"{ratio(http, row, 'target-api', CONNECTIONS[-1], 'rps'):.2f}"
        cpu = ", ".join(f"{median([r['cpu_us'] for r in http[row, c]]):.0f}" for c in CONNECTIONS)
        lines.append(f"| {LABELS[row]} | " + " | ".join(cells) + f" | {direct} | {floor} | {floor99} | {rps} | {cpu} |")
    target_vs_trivial = [ratio(http, "target-api", "trivial Flask app", c, "p50") for c in CONNECTIONS]
    throughput = ratio(http, "target-api", "trivial Flask app", CONNECTIONS[-1], "rps")
    lines += [
        "",
        f"Target API / trivial Flask app: p50 {', '.join(f'{x:.2f}x' for x in target_vs_trivial)} "
        f"(c={', c='.join(map(str, CONNECTIONS))}); throughput at c={CONNECTIONS[-1]}: {throughput:.0%}.",
        "",
    ]
    # The rounds spread most at c=1, where one request at a time meets whatever else the
    # shared machine runs: the ratio of each round says how far the median can be trusted.
    each_round = "; ".join(
        f"c={c}: " + ", ".join(f"{x:.2f}" for x in ratios(http, "target-api", "trivial Flask app", c, "p50"))
        for c in CONNECTIONS
    )
    cpu_vs_trivial = [ratio(http, "target-api", "trivial Flask app", c, "cpu_us") for c in CONNECTIONS]
    lines += [
        f"Target API / trivial Flask app, p50 of each round: {each_round}.",
        "",
        f"Target API / trivial Flask app, server CPU per request: {', '.join(f'{x:.2f}x' for x in cpu_vs_trivial)}.",
        "",
    ]
    for floor in ("floor (http.client)", "floor (urllib3)", "floor (requests)"):
        chain = [ratio(http, "source-api", floor, c, "p50") for c in CONNECTIONS]
        lines += [
            f"Warm chain / {LABELS[floor].split(', ', 1)[1]} floor: p50 "
            f"{', '.join(f'{x:.2f}x' for x in chain)} (c={', c='.join(map(str, CONNECTIONS))}).",
            "",
        ]
    lines += [
        "6. Token endpoint (mock-idp) alone, bench_load.py:",
        "",
        "| grant | in flight | req/s (per round) | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for (grant, in_flight), runs in tokens.items():
        lines.append(
            f"| {grant} | {in_flight} | {per_round(runs)} | "
            f"{median([r['p50'] for r in runs]):.2f} | {median([r['p99'] for r in runs]):.2f} |"
        )
    lines += [
        "",
        f"7. Exchanges per user: {per_user['users']} new users, {per_user['calls']} calls each, all "
        f"arriving together: {per_user['exchanges']} exchanges ({per_user['exchanges'] / per_user['users']:.2f}"
        f" per user), {per_user['non-200']} answers other than 200.",
        "",
    ]
    lines += [
        "8. Requests to mock-idp per service over the run (from its access log, by back-channel address):",
        "",
        "| service | discovery | JWKS | token endpoint |",
        "|---|---|---|---|",
    ]
    for service, counts in fetches.items():
        lines.append(f"| {service} | {counts['discovery']} | {counts['jwks']} | {counts['token']} |")
    lines += ["", "9. Resident memory (master and workers, /proc):", "", "| process | RSS MiB |", "|---|---|"]
    lines += [f"| {name} | {mib:.0f} |" for name, mib in rss.items()]
    lines += ["", "Peer comparison (the same client, exchange_bench.py, the same run):", ""]
    if isinstance(peer, str):
        lines.append(peer)
    else:
        lines += ["| provider | in flight | exchanges/s (per round) | p50 ms |", "|---|---|---|---|"]
        for (who, in_flight), runs in peer.items():
            lines.append(f"| {who} | {in_flight} | {per_round(runs)} | {median([r['p50'] for r in runs]):.2f} |")
        for who in ("mock-idp", SIGNING_FLOOR):
            for in_flight in IN_FLIGHT:
                pairs = zip(peer[who, in_flight], peer["peer", in_flight], strict=True)
                lines.append(
                    f"\n{who} / peer at {in_flight} in flight: "
                    f"{median([a['rps'] / b['rps'] for a, b in pairs]):.2f}x the exchanges per second."
                )
        lines.append(
            f"\n{SIGNING_FLOOR}: tools/benchmarks/bench_apps/signing_floor.py under mock-idp's gunicorn "
            "settings, a Flask token endpoint that reads the form, signs one RS256 token and answers it, and "
            "does nothing else (no client, subject token, rule, state or log): the least a Flask exchange costs here."
        )
    return "\n".join(lines) + "\n"


def fetch_counts(stack: BenchStack) -> dict:
    counts = stack.settled_idp_requests()
    table: dict = {}
    for (service, _method, path, _status), n in counts.items():
        row = table.setdefault(service, {"discovery": 0, "jwks": 0, "token": 0})
        kind = {
            "/.well-known/openid-configuration": "discovery",
            "/.well-known/jwks.json": "jwks",
            "/oauth/token": "token",
        }.get(path)
        if kind:
            row[kind] += n
    return dict(sorted(table.items()))


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load_avg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{os.cpu_count()} x {cpu}, Linux {platform.release()}, Python {platform.python_version()}, "
        f"load average at the start {load_avg}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def write_doc(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    before, _, rest = text.partition(BEGIN)
    _, _, after = rest.partition(END)
    DOC.write_text(f"{before}{BEGIN}\n{body}{END}{after}")


def main() -> int:
    began = time.monotonic()
    host = machine()
    stack = BenchStack(Path(tempfile.mkdtemp(prefix="obo-bench-")))
    say(f"bench: {host}\nbench: starting the services (logs in {stack.data})")
    try:
        stack.start_services()
        settings = demo_settings.of_stack({name: f"http://localhost:{port}" for name, port in stack.ports.items()})
        user_token = demo_tokens.login(settings, ALICE, DEMO_PASSWORD)["access_token"]
        exchange = demo_tokens.exchange_form(settings, user_token, "read:contacts")
        target = requests.post(settings.token_endpoint, data=exchange, timeout=10).json()["access_token"]
        stack.start_floors(target)
        say(f"bench: rows 1-5, {ROUNDS} rounds of {SECONDS:g} s per row, interleaved")
        http = http_rows(stack, user_token, target)
        say("bench: row 6, the token endpoint")
        tokens = token_rows(settings, user_token)
        say("bench: row 7, exchanges per user")
        per_user = exchanges_per_user(stack, settings)
        say(f"  {per_user}")
        say("bench: peer comparison")
        peer = peer_rows(stack, user_token)
        if isinstance(peer, str):
            say(f"  {peer}")
        fetches = fetch_counts(stack)
        rss = {name: stack.rss_mib(name) for name in stack.procs}
        say("bench: scale-out rows, Redis and three replicas behind HAProxy")
        in_process = stack.procs["source-api"].url
        scale = bench_scale.rows(
            stack.services["source-api"], stack.data, settings, user_token, sys.modules[__name__], in_process
        )
    finally:
        stack.stop()
    body = report(http, tokens, per_user, peer, fetches, rss, host)
    body += bench_scale.report(scale, median)
    body += f"\nThe run took {time.monotonic() - began:.0f} s.\n"
    say("\n" + body)
    if per_user["non-200"]:
        # Figures of calls that failed measure the failure, not the flow: not for the docs.
        say(f"bench: {per_user['non-200']} answers other than 200; {DOC.relative_to(ROOT)} left as it was")
        return 1
    write_doc(body)
    say(f"bench: wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
