"""DELETE /operator/sessions: the operator ends every web app session."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from web_app import create_app

from .browser import Browser
from .fakes import OPERATOR_SECRET

SESSIONS = "/operator/sessions"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_SECRET}"}


@pytest.fixture
def demo_settings(settings):
    return settings.model_copy(update={"demo_tools": "on"})


@pytest.fixture
def demo_app(demo_settings, idp, source_api):
    app = create_app(demo_settings)
    app.config["TESTING"] = True
    return app


def test_every_session_is_ended_without_a_csrf_token(demo_app, idp):
    alice, bob = Browser(demo_app.test_client(), idp), Browser(demo_app.test_client(), idp)
    alice.log_in()
    bob.log_in()
    operator = demo_app.test_client()

    answer = operator.delete(SESSIONS, headers=OPERATOR)

    assert answer.status_code == 200, answer.text
    assert answer.get_json() == {"ended": 2}
    for browser in (alice, bob):
        assert browser.client.get("/profile").status_code == 401  # logged out
    assert operator.delete(SESSIONS, headers=OPERATOR).get_json() == {"ended": 0}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "demo-operator-secret"}])
def test_without_the_operator_secret_it_is_401_and_sessions_stay(demo_app, idp, headers):
    alice = Browser(demo_app.test_client(), idp)
    alice.log_in()
    answer = demo_app.test_client().delete(SESSIONS, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="operator"'
    assert alice.client.get("/profile").status_code == 200


def test_with_the_demo_tools_off_it_is_404(client):
    assert client.delete(SESSIONS, headers=OPERATOR).status_code == 404


def test_the_secret_is_the_configured_one(demo_settings, idp, source_api):
    app = create_app(demo_settings.model_copy(update={"operator_secret": SecretStr("workshop-2")}))
    assert app.test_client().delete(SESSIONS, headers=OPERATOR).status_code == 401
    assert app.test_client().delete(SESSIONS, headers={"Authorization": "Bearer workshop-2"}).status_code == 200
