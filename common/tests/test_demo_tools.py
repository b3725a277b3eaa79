"""demo_tools: on by default only for the local demo provider; operator endpoints need the secret."""

from __future__ import annotations

import pytest
import requests
from flask import Flask, jsonify

from obo_common import IdentityProviderEndpoints
from obo_common.demo_tools import (
    DEFAULT_OPERATOR_SECRET,
    DEMO_PROVIDER_MARKER,
    RETRY_AFTER,
    DemoTools,
    OperatorSecret,
    demo_tools_enabled,
    is_demo_issuer,
    operator_only,
    operator_secret,
)


@pytest.mark.parametrize(
    "issuer",
    [
        "http://localhost:9000/",
        "http://127.0.0.1:9000/",
        "http://[::1]:9000/",
        "http://mock-idp:9000/",
        "http://idp.localhost/",
    ],
)
def test_the_local_demo_provider_is_recognised(issuer):
    assert is_demo_issuer(issuer)


@pytest.mark.parametrize(
    "issuer", ["https://obo-demo.us.auth0.com/", "https://login.example.com/", "http://10.0.0.5:9000/", "not a url"]
)
def test_any_other_issuer_is_a_real_tenant(issuer):
    assert not is_demo_issuer(issuer)


def test_auto_follows_the_issuer_and_on_or_off_win():
    assert demo_tools_enabled("auto", "http://localhost:9000/")
    assert not demo_tools_enabled("auto", "https://tenant.example.com/")
    assert demo_tools_enabled("on", "https://tenant.example.com/")
    assert not demo_tools_enabled("off", "http://localhost:9000/")


def test_an_empty_operator_secret_is_refused():
    with pytest.raises(ValueError, match="must not be empty"):
        OperatorSecret("")


def _app(enabled: bool) -> Flask:
    app = Flask(__name__)

    @app.delete("/operator/thing")
    @operator_only(enabled, OperatorSecret("s3cret"))
    def thing():
        return jsonify(done=True)

    return app


def test_the_operator_endpoint_needs_the_secret():
    client = _app(True).test_client()
    assert client.delete("/operator/thing", headers={"Authorization": "Bearer s3cret"}).json == {"done": True}
    for header in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic s3cret"},
        {"Authorization": "Bearer "},
    ):
        answer = client.delete("/operator/thing", headers=header)
        assert answer.status_code == 401
        assert answer.json["error"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_operator_endpoint_does_not_exist_while_the_demo_tools_are_off():
    client = _app(False).test_client()
    assert client.delete("/operator/thing", headers={"Authorization": "Bearer s3cret"}).status_code == 404


# -- auto: only for this project's mock, as its discovery says ---------------------------

LOCAL = "http://localhost:9000/"
DISCOVERY = LOCAL + ".well-known/openid-configuration"


def _tools(network, session, document, setting="auto", issuer=LOCAL, clock=lambda: 0.0) -> DemoTools:
    if document is not None:
        network.route("GET", issuer + ".well-known/openid-configuration", lambda call: document)
    return DemoTools(setting, IdentityProviderEndpoints(issuer, None, session), clock=clock)


def test_auto_is_on_for_the_mock_that_says_so(network, session):
    assert _tools(network, session, {"issuer": LOCAL, DEMO_PROVIDER_MARKER: True}).enabled()


@pytest.mark.parametrize("marker", [None, False, "true", 1])
def test_auto_is_off_for_another_provider_on_loopback(network, session, marker):
    # A Keycloak on http://127.0.0.1:8080/realms/corp, a tunnel to a real tenant...
    document = {"issuer": LOCAL} | ({DEMO_PROVIDER_MARKER: marker} if marker is not None else {})
    assert not _tools(network, session, document).enabled()


def test_auto_is_off_for_a_remote_issuer_even_if_it_says_it_is_the_mock(network, session):
    remote = "https://tenant.example.com/"
    tools = _tools(network, session, {"issuer": remote, DEMO_PROVIDER_MARKER: True}, issuer=remote)
    assert not tools.enabled()
    assert network.calls == []  # not even asked


def test_auto_is_off_while_the_provider_cannot_be_asked_then_asks_again(network, session):
    now = [0.0]
    tools = _tools(network, session, None, clock=lambda: now[0])
    network.route("GET", DISCOVERY, requests.ConnectionError("refused"))
    assert not tools.enabled()
    network.route("GET", DISCOVERY, lambda call: {"issuer": LOCAL, DEMO_PROVIDER_MARKER: True})
    assert not tools.enabled()  # not asked again at once: a page must not wait on it
    now[0] += RETRY_AFTER
    assert tools.enabled()


def test_on_and_off_do_not_ask(network, session):
    assert _tools(network, session, None, setting="on").enabled()
    assert not _tools(network, session, None, setting="off").enabled()
    assert network.calls == []


# -- the operator secret -------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["auto", "on"])
def test_the_published_operator_secret_is_refused_unless_the_tools_are_off(setting):
    with pytest.raises(ValueError, match="published default"):
        operator_secret(DEFAULT_OPERATOR_SECRET, None, setting)
    assert operator_secret(DEFAULT_OPERATOR_SECRET, None, "off") == DEFAULT_OPERATOR_SECRET


def test_an_unset_operator_secret_is_made_once_in_its_file(tmp_path):
    made = operator_secret(None, tmp_path / "operator-secret", "auto")
    assert len(made) == 64
    assert operator_secret(None, tmp_path / "operator-secret", "auto") == made
    assert (tmp_path / "operator-secret").stat().st_mode & 0o777 == 0o600
    assert operator_secret("configured", tmp_path / "operator-secret", "auto") == "configured"


def test_without_a_secret_or_a_file_nobody_knows_the_operator_secret():
    assert operator_secret(None, None, "on") != operator_secret(None, None, "on")
