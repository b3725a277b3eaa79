"""The optional peer row of `make bench`: mock-idp's token exchange beside a certified
provider (oidc-provider, ../shared/tools/peer-idp), measured by the same Python client
(that folder's exchange_bench.py) in the same run.

The peer is copied to .run/peer-idp and installed there with `npm ci` (the shared folder
stays untouched); without node or npm the row is skipped and the reason printed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from local_stack.launcher import ROOT, free_port

# The shared folder beside the checkout, or beside the folder that holds it (a worktree).
SHARED = (
    next(
        (base / "shared" for base in (ROOT.parent, ROOT.parent.parent) if (base / "shared").is_dir()),
        ROOT.parent / "shared",
    )
    / "tools"
    / "peer-idp"
)
COPY = ROOT / ".run" / "peer-idp"
CALLBACK = "http://localhost:3000/callback"


def prepare() -> str | None:
    """Install the peer under .run/; None when ready, else why it is skipped."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node or npm is not installed (apt-get install nodejs npm)"
    if not (SHARED / "server.mjs").exists() and not (COPY / "server.mjs").exists():
        return f"the peer is not at {SHARED}"
    if not (COPY / "node_modules").exists():
        if COPY.exists():
            shutil.rmtree(COPY)
        shutil.copytree(SHARED, COPY)
        for path in [COPY, *COPY.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=COPY, capture_output=True, text=True)
        if done.returncode:
            shutil.rmtree(COPY / "node_modules", ignore_errors=True)
            return f"npm ci failed: {done.stderr.strip()[-300:]}"
    return None


def start(log: Path, web_app_url: str = "http://localhost:3000") -> tuple[subprocess.Popen, str]:
    """The peer on a free port; its tenant lists ``web_app_url``/callback and ``web_app_url``/."""
    port = free_port()
    issuer = f"http://localhost:{port}/"
    process = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=COPY,
        env={"PATH": "/usr/bin:/bin", "PORT": str(port), "ISSUER": issuer, "WEB_APP_BASE_URL": web_app_url},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the peer exited early: {log.read_text()[-500:]}")
        try:
            if requests.get(issuer + ".well-known/openid-configuration", timeout=2).ok:
                return process, issuer
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the peer did not answer within 30 s")


def subject_token(issuer: str, email: str = "alice@example.com", password: str = "Passw0rd!") -> str:  # noqa: S107 (the demo user)
    """A Source API token from the peer: code + PKCE through its dev login and consent pages."""
    meta = requests.get(issuer + ".well-known/openid-configuration", timeout=5).json()
    verifier = secrets.token_urlsafe(32)
    challenge = urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": "web-app",
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid read:profile read:contacts",
        "audience": "https://source-api.example.com",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_hex(8),
    }
    browser = requests.Session()
    url = meta["authorization_endpoint"] + "?" + urlencode(query)
    for _ in range(12):
        if url.startswith(CALLBACK):
            break
        response = browser.get(url, allow_redirects=False, timeout=5)
        if response.status_code == 200:
            prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
            form = {"prompt": prompt and prompt.group(1)}
            if form["prompt"] == "login":
                form |= {"login": email, "password": password}
            response = browser.post(url, data=form, allow_redirects=False, timeout=5)
        url = urljoin(url, response.headers["Location"])
    code = parse_qs(urlsplit(url).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": "web-app",
        "client_secret": "web-app-secret",
    }
    response = requests.post(meta["token_endpoint"], data=form, timeout=5)
    response.raise_for_status()
    return response.json()["access_token"]


def exchange_bench(issuer: str, count: int, in_flight: int, token: str) -> dict:
    """One run of the peer folder's exchange_bench.py: rps, p50, p99 and non-200s."""
    done = subprocess.run(
        [sys.executable, str(COPY / "exchange_bench.py"), issuer, str(count), str(in_flight), token],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"(\d+) rps\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+non-200 (\d+)", done.stdout)
    if not found:
        raise RuntimeError(f"exchange_bench.py printed: {done.stdout} {done.stderr[-500:]}")
    rps, p50, p99, bad = found.groups()
    return {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(bad)}
