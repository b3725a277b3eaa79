"""The web app's logout against oidc-provider (panva's OpenID-certified provider, the peer in
../shared/tools/peer-idp), set up by settings only: the web app sends ``id_token_hint``,
``client_id`` and ``post_logout_redirect_uri`` to discovery's ``end_session_endpoint``; the
provider validates the hint, ends its session and sends the browser back to the web app.

Stock oidc-provider still shows its "Do you want to sign-out?" page for a valid hint (the
standard's "SHOULD ask"; a deployment skips it with its ``logoutSource`` setting, which the
shared peer leaves at the default): the test presses Yes there and says so. Skipped, saying
why, without node and npm.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from browser_user import page_text, query_of, web_app_post
from demo_tenant import ALICE, TIMEOUT
from stack_urls import Addresses

from benchmarks import bench_peer
from local_stack import launcher

PEER_PASSWORD = "Passw0rd!"  # the peer's demo user


@pytest.fixture(scope="module")
def peer_stack(tmp_path_factory):
    """oidc-provider and a web app configured for it (client web-app / web-app-secret)."""
    if reason := bench_peer.prepare():
        pytest.skip(f"oidc-provider peer: {reason}")
    data = tmp_path_factory.mktemp("peer-logout")
    web_app_port = launcher.free_port()
    web_app_url = f"http://localhost:{web_app_port}"
    peer, issuer = bench_peer.start(data / "peer.log", web_app_url)
    service = launcher.Service(
        "web-app",
        "web-app",
        "web_app.wsgi:app",
        web_app_port,
        {
            "OIDC_ISSUER": issuer,
            "WEB_APP_BASE_URL": web_app_url,
            "WEB_APP_CLIENT_SECRET": "web-app-secret",
            "WEB_APP_DATA_DIR": str(data / "web-app"),
            "WEB_APP_SOURCE_API_URL": f"http://localhost:{launcher.free_port()}",
            "DEMO_TOOLS": "off",
        },
    )
    with (data / "web-app.log").open("a") as log:
        web_app = launcher.start(service, Path(sys.executable).parent, log)
    try:
        launcher.wait_healthy(service, web_app)
        yield Addresses({"mock-idp": issuer.rstrip("/"), "web-app": web_app_url})
    finally:
        launcher.stop(web_app)
        launcher.stop(peer)


def _peer_login(browser: requests.Session, url: str, stop_at: str) -> str:
    """Follow oidc-provider's login and consent pages (its dev interactions) until ``stop_at``."""
    for _ in range(12):
        if url.startswith(stop_at):
            return url
        response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
        if response.status_code == 200:
            prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
            form = {"prompt": prompt and prompt.group(1)}
            if form["prompt"] == "login":
                form |= {"login": ALICE[0], "password": PEER_PASSWORD}
            response = browser.post(url, data=form, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code in (302, 303), response.text[:500]
        url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"the login did not reach {stop_at}")


def _provider_session_alive(stack, browser: requests.Session) -> bool:
    """Whether a prompt=none login of the web app goes through without a page."""
    url = browser.get(stack["web-app"].url + "/login", allow_redirects=False, timeout=TIMEOUT).headers["Location"]
    answer = browser.get(url + "&prompt=none", allow_redirects=False, timeout=TIMEOUT)
    location = answer.headers.get("Location", "")
    while answer.status_code in (302, 303) and not location.startswith(stack.callback):
        answer = browser.get(urljoin(url, location), allow_redirects=False, timeout=TIMEOUT)
        location = answer.headers.get("Location", "")
    return "code" in query_of(location)


def test_logout_ends_the_peers_session_and_comes_back(peer_stack):
    browser = requests.Session()
    start = browser.get(peer_stack["web-app"].url + "/login", allow_redirects=False, timeout=TIMEOUT)
    callback = _peer_login(browser, start.headers["Location"], peer_stack.callback)
    home = browser.get(callback, timeout=TIMEOUT)
    assert "Log out" in page_text(home), page_text(home)[:500]
    assert _provider_session_alive(peer_stack, browser)

    leaving = web_app_post(peer_stack, browser, "/logout", follow=False)
    to_provider = leaving.headers["Location"]
    end_session = requests.get(peer_stack.issuer + ".well-known/openid-configuration", timeout=TIMEOUT).json()[
        "end_session_endpoint"
    ]
    assert to_provider.startswith(end_session + "?"), to_provider
    query = query_of(to_provider)
    assert query.keys() == {"id_token_hint", "client_id", "post_logout_redirect_uri"}

    # The peer accepts the hint (a bad one is an error page, below), and asks by default.
    asked = browser.get(to_provider, allow_redirects=False, timeout=TIMEOUT)
    assert asked.status_code == 200, asked.text[:500]
    assert "Do you want to sign-out" in asked.text
    form = re.search(r'id="op.logoutForm" method="post" action="([^"]+)">.*?name="xsrf" value="([^"]+)"', asked.text)
    assert form, asked.text
    back = browser.post(
        urljoin(to_provider, form.group(1)),
        data={"xsrf": form.group(2), "logout": "yes"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert back.status_code in (302, 303), back.text[:500]
    assert back.headers["Location"] == peer_stack["web-app"].url + "/"
    assert "Log in" in page_text(browser.get(back.headers["Location"], timeout=TIMEOUT))
    assert not _provider_session_alive(peer_stack, browser)


def test_the_peer_refuses_a_hint_it_did_not_sign(peer_stack):
    forged = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ3ZWItYXBwIiwiaXNzIjoiaHR0cDovL2Vsc2V3aGVyZS8ifQ.c2ln"
    answer = requests.get(
        peer_stack.issuer + "session/end",
        params={"id_token_hint": forged, "client_id": "web-app"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400, answer.text[:500]
