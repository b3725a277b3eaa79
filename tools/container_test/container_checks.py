"""What `make test-containers` checks against the running containers, besides the e2e suite.

- every container's healthcheck passes, and each published /healthz answers 200;
- one issuer: discovery seen from the host and from inside each back end (at its
  IDP_INTERNAL_URL, the compose network's name of the provider) names the same issuer,
  and the web app's /login sends the browser to that issuer's /authorize with the
  published callback;
- a restart with the volumes kept loses nothing a person would notice (``before`` and
  ``after``): refresh tokens, consents, signing keys and web-app sessions survive;
- with an https issuer (docker-compose.https.yml): the public roots alone refuse mock-idp's
  certificate, the local CA makes it trusted from the host and inside each back end (at
  https://mock-idp:9000/), and the tutorial's steps 1-4 pass through the web app.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import certifi
import requests

from container_test.container_steps import StepFailed
from workshop import demo_login

TIMEOUT = 10
PASSWORD = "Passw0rd!"  # the demo tenant's users (mock-idp/tenant.yaml)
ALICE = "alice@example.com"
ALICE_ID = "auth0|65f1a2b3c4d5e6f708091a01"
BOB = ("bob@example.com", "auth0|65f1a2b3c4d5e6f708091a02")
WEB_APP = {"client_id": "web-app", "client_secret": "web-app-secret"}
MANAGEMENT = {"client_id": "management", "client_secret": "management-secret"}
LOGIN_SCOPE = "openid profile email offline_access read:profile read:contacts"
SOURCE_API = "https://source-api.example.com"
ALICE_CONTACT = "Carol Chen"  # target-api/contacts.yaml

# Run inside a back-end container (engine exec, not a healthcheck: spaces are fine here).
DISCOVERY_INSIDE = """
import json, os, urllib.request
base = os.environ["IDP_INTERNAL_URL"].rstrip("/") + "/"
with urllib.request.urlopen(base + ".well-known/openid-configuration", timeout=5) as answer:
    print(json.dumps({"internal_url": base, "issuer": json.load(answer)["issuer"]}))
"""


def expect(condition: bool, message: str, container: str | None = None) -> None:
    if not condition:
        raise StepFailed(message, container=container)


def healthchecks(engine, containers: dict[str, str]) -> None:
    for service, container in containers.items():
        healthy, said = engine.healthcheck(container)
        expect(healthy, f"the healthcheck of {service} ({container}) fails: {said}", container)


def published_healthz(ports: dict[str, int]) -> None:
    for service, port in ports.items():
        url = f"http://localhost:{port}/healthz"
        try:
            status = requests.get(url, timeout=TIMEOUT).status_code
        except requests.RequestException as error:
            raise StepFailed(f"{service}: GET {url} failed: {error}") from None
        expect(status == 200, f"{service}: GET {url} answered {status}, not 200")


def one_issuer(engine, containers: dict[str, str], idp_url: str, web_url: str) -> str:
    """The issuer, after checking the host and every back end see the same one."""
    issuer = _discovery(idp_url)["issuer"]
    expect(issuer == idp_url, f"discovery at {idp_url} names issuer {issuer!r}, not the published address")
    for service, container in containers.items():
        if service == "mock-idp":
            continue
        lines = engine.exec_python(container, DISCOVERY_INSIDE).strip().splitlines()
        seen = json.loads(lines[-1]) if lines else {}
        expect(
            seen.get("issuer") == issuer,
            f"{service} fetched discovery at {seen.get('internal_url')} and saw issuer {seen.get('issuer')!r}, "
            f"the host saw {issuer!r}",
            container,
        )
    login = requests.get(web_url + "/login", allow_redirects=False, timeout=TIMEOUT)
    location = login.headers.get("Location", "")
    expect(login.status_code == 302, f"GET {web_url}/login answered {login.status_code}, not a redirect")
    expect(location.startswith(issuer + "authorize?"), f"the web app's /login sends the browser to {location}")
    callback = parse_qs(urlsplit(location).query).get("redirect_uri", [""])[0]
    expect(callback == web_url + "/callback", f"the web app's /login names callback {callback!r}")
    return issuer


def _discovery(idp_url: str) -> dict:
    response = requests.get(idp_url + ".well-known/openid-configuration", timeout=TIMEOUT)
    expect(response.status_code == 200, f"discovery at {idp_url} answered {response.status_code}")
    return response.json()


# -- an https issuer -----------------------------------------------------------------------


def https_issuer(engine, containers: dict[str, str], issuer: str, web_url: str, ca_file: Path) -> None:
    """Verification on everywhere: refused without the local CA, and with it discovery from
    the host and the back ends, then alice's login, profile and contacts through the web app."""
    try:
        requests.get(issuer + ".well-known/openid-configuration", verify=certifi.where(), timeout=TIMEOUT)
    except requests.exceptions.SSLError as error:
        # Refused for its certificate, not for a server speaking plain http.
        expect("certificate verify failed" in str(error), f"{issuer}: TLS failed otherwise: {error}")
    else:
        raise StepFailed(f"{issuer}: the public roots alone accepted mock-idp's certificate")
    with _trusting(ca_file):
        one_issuer(engine, containers, issuer, web_url)
        metadata = _discovery(issuer)
        plain = [url for url in metadata.values() if isinstance(url, str) and url.startswith("http://")]
        expect(not plain, f"discovery at {issuer} names plain http endpoints: {plain}")
        browser = requests.Session()
        _web_app_log_in(browser, web_url, ALICE)  # step 1: code, PKCE, tokens over TLS
        _expect_web_session(browser, web_url, "over https")
        me = _web_app_post(browser, web_url, "/call", endpoint="me")  # step 2
        expect(
            me.status_code == 200 and ALICE_ID in me.text,
            f"over https the web app's /api/me call answered {me.status_code}",
        )
        contacts = _web_app_post(browser, web_url, "/call", endpoint="contacts")  # steps 3 and 4
        expect(
            contacts.status_code == 200 and ALICE_CONTACT in contacts.text and "a fresh exchange" in contacts.text,
            f"over https the web app's contacts call answered {contacts.status_code}",
        )


@contextmanager
def _trusting(ca_file: Path) -> Iterator[None]:
    """requests (and so demo_login) trusting the local CA, as docs/configuration.md tells a person."""
    saved = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca_file)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = saved


# -- state across a restart ----------------------------------------------------------------


@dataclass
class Before:
    refresh_token: str
    kids: list[str]
    web_session: requests.Session  # its cookie is a logged-in web-app session


def before(issuer: str, web_url: str) -> Before:
    """Bob's consent is removed, then given again at a login; alice logs in to the web app."""
    management = _management_headers(issuer)
    removed = requests.delete(issuer + "api/v2/grants", params={"user_id": BOB[1]}, headers=management, timeout=TIMEOUT)
    expect(removed.status_code in (200, 204), f"deleting bob's grants answered {removed.status_code}: {removed.text}")
    tokens, pages = log_in_directly(issuer, web_url, BOB[0])
    expect(pages == ["login", "consent"], f"with no consent stored, bob's login showed {pages}")
    expect(bool(tokens.get("refresh_token")), f"bob's login gave no refresh token: {sorted(tokens)}")
    web_session = requests.Session()
    _web_app_log_in(web_session, web_url, ALICE)
    _expect_web_session(web_session, web_url, "before the restart")
    return Before(tokens["refresh_token"], _kids(issuer), web_session)


def after(state: Before, issuer: str, web_url: str) -> None:
    kids = _kids(issuer)
    expect(kids == state.kids, f"the published signing keys changed across the restart: {state.kids} -> {kids}")
    refreshed = requests.post(
        issuer + "oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": state.refresh_token, **WEB_APP},
        timeout=TIMEOUT,
    )
    expect(
        refreshed.status_code == 200,
        f"the refresh token from before the restart: {refreshed.status_code} {refreshed.text}",
    )
    _, pages = log_in_directly(issuer, web_url, BOB[0])
    expect(pages == ["login"], f"after the restart bob's login showed {pages}: the consent was forgotten")
    _expect_web_session(state.web_session, web_url, "after the restart")
    call = _web_app_post(state.web_session, web_url, "/call", endpoint="contacts")
    expect(
        call.status_code == 200 and ALICE_CONTACT in call.text,
        f"after the restart the web app's contacts call answered {call.status_code}",
    )


def _management_headers(issuer: str) -> dict[str, str]:
    response = requests.post(
        issuer + "oauth/token",
        data={"grant_type": "client_credentials", "audience": issuer + "api/v2/", **MANAGEMENT},
        timeout=TIMEOUT,
    )
    expect(response.status_code == 200, f"a Management API token: {response.status_code} {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def log_in_directly(issuer: str, web_url: str, email: str) -> tuple[dict, list[str]]:
    """The web app's login as its client would make it, in a fresh browser: the tokens and
    the provider's pages shown."""
    callback = web_url + "/callback"
    params = {"client_id": WEB_APP["client_id"], "redirect_uri": callback, "scope": LOGIN_SCOPE, "audience": SOURCE_API}
    login = demo_login.authorization_request(issuer, params)
    authorization = demo_login.authorize(requests.Session(), login.url, email, PASSWORD)
    code = authorization.params.get("code")
    expect(
        bool(code) and authorization.location.startswith(callback), f"{email}'s login ended at {authorization.location}"
    )
    response = requests.post(
        issuer + "oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": login.verifier,
            **WEB_APP,
        },
        timeout=TIMEOUT,
    )
    expect(response.status_code == 200, f"{email}'s code: {response.status_code} {response.text}")
    return response.json(), authorization.pages


def _web_app_log_in(browser: requests.Session, web_url: str, email: str) -> None:
    start = browser.get(web_url + "/login", allow_redirects=False, timeout=TIMEOUT)
    authorization = demo_login.authorize(browser, start.headers.get("Location", ""), email, PASSWORD)
    back = browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)
    expect(back.status_code == 302, f"the web app's callback answered {back.status_code}")


def _expect_web_session(browser: requests.Session, web_url: str, when: str) -> None:
    profile = browser.get(web_url + "/profile", allow_redirects=False, timeout=TIMEOUT)
    expect(
        profile.status_code == 200 and ALICE in profile.text,
        f"{when} alice's web-app session is not logged in (/profile answered {profile.status_code})",
    )


def _web_app_post(browser: requests.Session, web_url: str, path: str, **data) -> requests.Response:
    page = browser.get(web_url + path, timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    expect(token is not None, f"no CSRF token on {path} ({page.status_code})")
    return browser.post(web_url + path, data={"csrf_token": token.group(1), **data}, timeout=TIMEOUT * 3)


def _kids(issuer: str) -> list[str]:
    jwks = requests.get(_discovery(issuer)["jwks_uri"], timeout=TIMEOUT)
    expect(jwks.status_code == 200, f"the JWKS answered {jwks.status_code}")
    return sorted(key["kid"] for key in jwks.json()["keys"])
