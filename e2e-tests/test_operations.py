"""What the services promise to whoever runs them: one request id followed through every
service's log, and connections kept alive between calls."""

from __future__ import annotations

import secrets
import socket
import time
from urllib.parse import urlsplit

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


MALFORMED = {
    # Request lines gunicorn will not parse: a control character, no HTTP version.
    "control character": "GET /callback-{marker}?code={secret}\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "no version": "GET /callback-{marker}?code={secret}&state={secret}\r\nHost: x\r\n\r\n",
    # A header it will not parse, carrying a token.
    "header": "GET /callback-{marker} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\x00\r\n\r\n",
}


@pytest.mark.parametrize("name", ["mock-idp", "target-api", "source-api", "web-app"])
@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_request_is_logged_without_its_query_string_or_header_value(stack, name, case):
    """The access logs leave query strings out (codes, state) and never hold a token; the
    warning gunicorn writes for a request it cannot parse must not bring them back."""
    stack.controllable()  # reads the services' log files
    marker, secret = secrets.token_hex(6), f"secret{secrets.token_hex(8)}"
    address = urlsplit(stack[name].url)
    written = stack[name].log.stat().st_size
    with socket.create_connection((address.hostname, address.port), timeout=TIMEOUT) as sock:
        sock.sendall(MALFORMED[case].format(marker=marker, secret=secret).encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]

    # gunicorn logs the refusal before it answers; read what was written since, briefly.
    deadline = time.monotonic() + 10
    while "Invalid request from" not in (log := _since(stack[name].log, written)):
        assert time.monotonic() < deadline, f"{name} did not log the refused request:\n{log[-2000:]}"
        time.sleep(0.05)
    assert secret not in log, log
    assert secret.encode() not in answer
    if case != "header":
        assert f"/callback-{marker}" in log, log  # the path stays: an operator sees what was refused


def _since(path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")
