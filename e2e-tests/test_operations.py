"""What the services promise to whoever runs them: one request id followed through every
service's log, and connections kept alive between calls."""

from __future__ import annotations

import secrets
import time

import pytest
import requests
from backend_client import bearer, login
from browser_user import web_app_call, web_app_sign_in
from demo_tenant import TIMEOUT


def test_one_request_id_is_in_the_log_lines_of_every_service_it_crossed(stack):
    stack.controllable()  # reads the services' log files
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302
    click = f"e2e-trace-{secrets.token_hex(6)}"
    browser.headers["X-Request-Id"] = click

    page = web_app_call(stack, browser)  # a first call for this login: the Source API exchanges

    assert page.status_code == 200, page.text
    assert page.headers["X-Request-Id"] == click
    for name in ("web-app", "source-api", "target-api", "mock-idp"):
        # gunicorn writes the access log line after the answer is sent: wait for it, briefly.
        deadline = time.monotonic() + 10
        while f"request_id={click}" not in (log := stack[name].log.read_text(errors="replace")):
            assert time.monotonic() < deadline, f"{name} did not log {click}:\n{log[-2000:]}"
            time.sleep(0.05)


@pytest.mark.parametrize(("name", "path"), [("source-api", "/api/me"), ("target-api", "/healthz"), ("web-app", "/")])
def test_a_client_reuses_one_connection_for_many_requests(stack, name, path):
    # The sync worker closes every connection; these services keep them alive, so each hop
    # of the flow does not pay a new TCP handshake.
    token = login(stack)["access_token"] if name == "source-api" else None
    session = requests.Session()
    headers = bearer(token)
    for _ in range(5):
        assert session.get(stack[name].url + path, headers=headers, timeout=TIMEOUT).status_code == 200
    pools = session.get_adapter(stack[name].url).poolmanager.pools
    # keys(): urllib3's pool container refuses plain iteration (it is not thread-safe).
    assert sum(pools[key].num_connections for key in pools.keys()) == 1  # noqa: SIM118
