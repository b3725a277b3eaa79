"""Every service answers only to its configured hosts: a DNS-rebinding page (its own name
resolved to 127.0.0.1) gets a 400 from each, before any view runs, while loopback names
and the compose names keep working (obo_common/allowed_hosts.py, mock_idp/allowed_hosts.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from demo_tenant import TIMEOUT

SERVICES = ("mock-idp", "target-api", "source-api", "web-app")
REBOUND = "rebound.attacker.example"


def port(stack, name: str) -> int:
    return urlsplit(stack[name].url).port


@pytest.mark.parametrize("name", SERVICES)
def test_a_rebinding_host_is_refused_by_every_service(stack, name):
    answer = requests.get(
        stack[name].url + "/healthz", headers={"Host": f"{REBOUND}:{port(stack, name)}"}, timeout=TIMEOUT
    )
    assert answer.status_code == 400, answer.text
    assert "does not answer to the host" in answer.text


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "own-name"])
def test_loopback_and_the_compose_name_are_answered(stack, name, host):
    host = name if host == "own-name" else host
    answer = requests.get(
        stack[name].url + "/healthz", headers={"Host": f"{host}:{port(stack, name)}"}, timeout=TIMEOUT
    )
    assert answer.status_code == 200, answer.text


def test_the_tenant_cannot_be_changed_through_a_rebound_name(stack, management):
    answer = requests.patch(
        stack.management_api + "/tenants/settings",
        json={"friendly_name": "rebound"},
        headers={**management.headers, "Host": f"{REBOUND}:{port(stack, 'mock-idp')}"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400, answer.text
    assert management.get("/tenants/settings").get("friendly_name") != "rebound"
