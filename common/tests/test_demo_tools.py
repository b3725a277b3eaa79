"""demo_tools: on by default only for the local demo provider; operator endpoints need the secret."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify

from obo_common.demo_tools import OperatorSecret, demo_tools_enabled, is_demo_issuer, operator_only


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
