"""`make portability`: the Source and Target APIs against a second, independent
authorization server with token exchange, authgent-server (pinned in
authgent-requirements.txt), configured by settings only.

authgent-server is installed in its own virtual environment under .run/ (its FastAPI stack
is no dependency of the project), started on a free port with a database in a temporary
folder, and given two clients through its RFC 7591 registration endpoint. The APIs are
started as real gunicorn processes with ``OIDC_ISSUER`` naming it. Each of the tutorial's
steps is then tried, and what happened printed with the reason; docs/configuration.md
(Against a second provider: authgent-server) holds the figures and why the steps that fail
there cannot work by settings alone.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from local_stack import launcher

HERE = Path(__file__).resolve().parent
VENV = launcher.ROOT / ".run" / "authgent-venv"
SOURCE_API = "https://source-api.example.com"
TARGET_API = "https://target-api.example.com"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TIMEOUT = 10


def install() -> Path:
    """authgent-server in .run/authgent-venv, from the pinned requirements; its executable."""
    executable = VENV / "bin" / "authgent-server"
    stamp = VENV / ".requirements"
    wanted = (HERE / "authgent-requirements.txt").read_text()
    if not executable.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print("portability: installing authgent-server in .run/authgent-venv (first run)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(HERE / "authgent-requirements.txt")], check=True)
        stamp.write_text(wanted)
    return executable


def start_authgent(executable: Path, folder: Path) -> tuple[subprocess.Popen, str, float]:
    """The server on a free port; its issuer and how long it took to answer discovery."""
    port = launcher.free_port()
    issuer = f"http://localhost:{port}"
    env = {
        "PATH": "/usr/bin:/bin",
        "AUTHGENT_SERVER_URL": issuer,
        "AUTHGENT_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'authgent.db'}",
        "AUTHGENT_SECRET_KEY": secrets.token_hex(32),
    }
    began = time.monotonic()
    process = subprocess.Popen(
        [str(executable), "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=(folder / "authgent.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    while time.monotonic() - began < 60:
        if process.poll() is not None:
            raise RuntimeError(f"authgent-server exited: {(folder / 'authgent.log').read_text()[-500:]}")
        try:
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).ok:
                return process, issuer, time.monotonic() - began
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    launcher.stop(process)
    raise RuntimeError("authgent-server did not answer within 60 s")


def register(issuer: str, name: str, grant_types: list[str], scope: str, **extra) -> dict:
    """A client through RFC 7591 dynamic registration (authgent's default policy: open)."""
    body = {"client_name": name, "grant_types": grant_types, "scope": scope, **extra}
    answer = requests.post(issuer + "/register", json=body, timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()


def start_apis(issuer: str, folder: Path) -> dict[str, launcher.Service]:
    """The Target and Source APIs as gunicorn processes, pointed at ``issuer`` by settings."""
    ports = {"target-api": launcher.free_port(), "source-api": launcher.free_port()}
    # provider-default: typ JWT, as authgent's tokens have (rfc9068 asks for at+jwt).
    shared = {"OIDC_ISSUER": issuer, "ACCESS_TOKEN_PROFILE": "provider-default", "DEMO_TOOLS": "off"}
    services = {
        "target-api": launcher.Service(
            "target-api",
            "target-api",
            "target_api.wsgi:app",
            ports["target-api"],
            {**shared, "TARGET_API_DATABASE": str(folder / "target-api.sqlite3")},
        ),
        "source-api": launcher.Service(
            "source-api",
            "source-api",
            "source_api.wsgi:app",
            ports["source-api"],
            {**shared, "SOURCE_API_TARGET_URL": f"http://localhost:{ports['target-api']}"},
        ),
    }
    return services


def claims_of(token: str) -> tuple[dict, dict]:
    def part(segment: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, payload, _ = token.split(".")
    return part(header), part(payload)


def run(issuer: str, folder: Path) -> list[tuple[str, str, str]]:
    """Each step: (step, outcome, detail)."""
    results = []
    discovery = requests.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    results.append(
        (
            "discovery",
            "ok",
            f"issuer {discovery['issuer']!r}, token exchange "
            f"{TOKEN_EXCHANGE in discovery.get('grant_types_supported', [])}, "
            f"ID token algorithms {discovery.get('id_token_signing_alg_values_supported')}",
        )
    )
    web_app = register(
        issuer,
        "web-app",
        ["authorization_code", "refresh_token", "client_credentials"],
        "openid profile email offline_access read:profile read:contacts",
        redirect_uris=["http://localhost:3000/callback"],
        token_endpoint_auth_method="client_secret_post",
    )
    source_client = register(
        issuer, "source-api", [TOKEN_EXCHANGE], "read:contacts", token_endpoint_auth_method="client_secret_post"
    )
    results.append(
        (
            "1 request tokens",
            "not run",
            "the code flow issues no ID token (the web app needs one); a client-credentials "
            "token for the Source API stands in for the user's token below",
        )
    )
    issued = requests.post(
        issuer + "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": web_app["client_id"],
            "client_secret": web_app["client_secret"],
            "scope": "read:contacts",
            "resource": SOURCE_API,
        },
        timeout=TIMEOUT,
    )
    issued.raise_for_status()
    user_token = issued.json()["access_token"]
    header, payload = claims_of(user_token)
    services = start_apis(issuer, folder)
    processes = []
    try:
        for service in services.values():
            with (folder / f"{service.name}.log").open("a") as log:
                processes.append(launcher.start(service, Path(sys.executable).parent, log))
            try:
                launcher.wait_healthy(service, processes[-1])
            except RuntimeError as error:
                log_tail = (folder / f"{service.name}.log").read_text()[-600:]
                raise RuntimeError(f"{error}:\n{log_tail}") from None
        answer = requests.get(
            services["source-api"].url + "/api/me", headers={"Authorization": f"Bearer {user_token}"}, timeout=TIMEOUT
        )
        results.append(
            (
                "2 call the Source API",
                "ok" if answer.ok else f"refused {answer.status_code}",
                f"token alg {header.get('alg')}, typ {header.get('typ')}, iss {payload.get('iss')!r}: "
                + answer.headers.get("WWW-Authenticate", answer.text[:200]),
            )
        )
        exchanged = requests.post(
            issuer + "/token",
            data={
                "grant_type": TOKEN_EXCHANGE,
                "client_id": source_client["client_id"],
                "client_secret": source_client["client_secret"],
                "subject_token": user_token,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "requested_token_type": ACCESS_TOKEN_TYPE,
                "audience": TARGET_API,
                "scope": "read:contacts",
            },
            timeout=TIMEOUT,
        )
        if exchanged.ok:
            _, target_claims = claims_of(exchanged.json()["access_token"])
            results.append(
                (
                    "3 exchange (at the provider)",
                    "ok",
                    f"aud {target_claims.get('aud')!r}, sub kept {target_claims.get('sub') == payload.get('sub')}, "
                    f"act {target_claims.get('act')}, refresh token {bool(exchanged.json().get('refresh_token'))}",
                )
            )
            target = requests.get(
                services["target-api"].url + "/api/contacts",
                headers={"Authorization": f"Bearer {exchanged.json()['access_token']}"},
                timeout=TIMEOUT,
            )
            results.append(
                (
                    "4 call the Target API",
                    "ok" if target.ok else f"refused {target.status_code}",
                    target.headers.get("WWW-Authenticate", target.text[:200]),
                )
            )
            refresh_token = exchanged.json().get("refresh_token")
            if refresh_token:
                # The Source API's second leg of step 5: renewing its Target API token.
                refreshed = requests.post(
                    issuer + "/token",
                    data={
                        "grant_type": "refresh_token",
                        "client_id": source_client["client_id"],
                        "client_secret": source_client["client_secret"],
                        "refresh_token": refresh_token,
                    },
                    timeout=TIMEOUT,
                )
                results.append(
                    (
                        "5 refresh (Source API)",
                        "ok" if refreshed.ok else f"refused {refreshed.status_code}",
                        refreshed.text[:200] if not refreshed.ok else "a new Target API token from the refresh token",
                    )
                )
            else:
                results.append(("5 refresh (Source API)", "not run", "the exchange gave no refresh token"))
        else:
            results.append(("3 exchange (at the provider)", f"refused {exchanged.status_code}", exchanged.text[:200]))
        results.append(("5 refresh (web app)", "not run", "no user login through the web app (step 1)"))
    finally:
        for process in processes:
            launcher.stop(process)
    return results


def main() -> int:
    try:
        executable = install()
    except subprocess.CalledProcessError as error:
        print(f"portability: authgent-server could not be installed: {error}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="portability-") as name:
        folder = Path(name)
        process, issuer, started_in = start_authgent(executable, folder)
        try:
            print(f"authgent-server answered discovery {started_in:.1f} s after it was started ({issuer})")
            results = run(issuer, folder)
        finally:
            launcher.stop(process)
    width = max(len(step) for step, _, _ in results)
    for step, outcome, detail in results:
        print(f"{step:<{width}}  {outcome:<12}  {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
