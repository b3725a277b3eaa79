"""Figures for docs/reliability.md, "Anonymous logins": a flood of anonymous GET /login
against a stack of real processes, and whether a user logged in before it stays logged in.

Starts the four services on free ports (as the e2e suite does), logs alice in to the web
app, then sends anonymous ``GET /login`` (no cookie, one keep-alive connection) in batches,
checking after each batch whether alice's session still answers ``/profile``. Prints how
many requests were sent, in how long, and when (if ever) alice was logged out. Loopback
only; bounded in count. Nothing passes or fails: the figures are read.

    .venv/bin/python -m benchmarks.session_flood_measure [--requests 3000] [--batch 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

from local_stack.launcher import free_port, isolated_stack, start, stop, wait_healthy
from workshop import demo_login

TIMEOUT = 10


def sign_in(web_app: str) -> requests.Session:
    user = requests.Session()
    login = user.get(web_app + "/login", allow_redirects=False, timeout=TIMEOUT)
    authorization = demo_login.authorize(user, login.headers["Location"], "alice@example.com", "Passw0rd!")
    user.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)
    return user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="anonymous GET /login to send (default 3000)")
    parser.add_argument("--batch", type=int, default=50, help="requests between two checks of the user")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="obo-flood-"))
    ports = {name: free_port() for name in ("mock-idp", "target-api", "source-api", "web-app")}
    processes = []
    try:
        for service in isolated_stack(ports, data):
            process = start(service, Path(sys.executable).parent, (data / f"{service.name}.log").open("w"))
            processes.append(process)
            wait_healthy(service, process)
        web_app = f"http://localhost:{ports['web-app']}"
        user = sign_in(web_app)
        if user.get(web_app + "/profile", timeout=TIMEOUT).status_code != 200:
            print("alice could not log in", file=sys.stderr)
            return 1
        logged_out_at = None
        sent = 0
        began = time.perf_counter()
        with requests.Session() as anonymous:
            while sent < args.requests:
                for _ in range(min(args.batch, args.requests - sent)):
                    anonymous.cookies.clear()
                    anonymous.get(web_app + "/login", allow_redirects=False, timeout=TIMEOUT)
                    sent += 1
                if user.get(web_app + "/profile", timeout=TIMEOUT).status_code != 200:
                    logged_out_at = (sent, time.perf_counter() - began)
                    break
        elapsed = time.perf_counter() - began
        print(f"anonymous GET /login sent: {sent} in {elapsed:.1f} s ({sent / elapsed:.0f}/s)")
        if logged_out_at:
            print(f"alice logged out after {logged_out_at[0]} requests ({logged_out_at[1]:.1f} s)")
        else:
            print(f"alice still logged in after all {sent}")
        sessions = data / "web-app"
        for folder in ("sessions", "pending-logins"):
            if (sessions / folder).is_dir():
                print(f"{folder}: {sum(1 for _ in (sessions / folder).iterdir())} files")
    finally:
        for process in reversed(processes):
            stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
