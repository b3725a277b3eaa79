"""TARGET_API_STEP_UP_*: a call needing a configured scope is refused, 401 with an RFC 9470
challenge, unless the token's login is strong (acr) or recent (auth_time) enough."""

from __future__ import annotations

import time

import pytest
from conftest import AUDIENCE

from obo_common.bearer import parse_bearer_challenge
from target_api import create_app
from target_api.settings import Settings

MFA = "urn:mock:mfa"
READ_WRITE = "read:contacts write:contacts"
CONTACT = {"name": "Zoe Zimmer", "email": "zoe@example.com"}


def app_with(network, settings, **step_up):
    return create_app(settings.model_copy(update=step_up)).test_client()


def test_by_default_nothing_is_asked_of_the_login(client, bearer):
    assert client.post("/api/contacts", json=CONTACT, headers=bearer(scope=READ_WRITE)).status_code == 201


def test_an_acr_is_required_for_the_configured_scope_only(network, settings, bearer):
    client = app_with(network, settings, step_up_acr_values=MFA)
    assert client.get("/api/contacts", headers=bearer(acr="urn:mock:pwd")).status_code == 200  # read: not asked

    refused = client.post("/api/contacts", json=CONTACT, headers=bearer(scope=READ_WRITE, acr="urn:mock:pwd"))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer realm="{AUDIENCE}", error="insufficient_user_authentication", '
        f'error_description="A stronger login is required (acr: {MFA})", acr_values="{MFA}"'
    )
    assert refused.get_json() == {
        "error": "insufficient_user_authentication",
        "error_description": f"A stronger login is required (acr: {MFA})",
        "acr_values": MFA,
    }
    assert client.post("/api/contacts", json=CONTACT, headers=bearer(scope=READ_WRITE, acr=MFA)).status_code == 201


def test_a_max_age_needs_a_recent_auth_time(network, settings, bearer):
    client = app_with(network, settings, step_up_max_age=300, step_up_scopes="read:contacts")
    now = int(time.time())
    for claims in ({}, {"auth_time": now - 301}):
        refused = client.get("/api/contacts", headers=bearer(**claims))
        assert refused.status_code == 401, claims
        challenge = parse_bearer_challenge(refused.headers["WWW-Authenticate"])
        assert challenge["error"] == "insufficient_user_authentication"
        assert challenge["max_age"] == "300"
        assert "acr_values" not in challenge
    assert client.get("/api/contacts", headers=bearer(auth_time=now - 10)).status_code == 200


def test_the_token_is_checked_before_the_login(network, settings):
    client = app_with(network, settings, step_up_acr_values=MFA, step_up_scopes="read:contacts")
    assert client.get("/api/contacts").headers["WWW-Authenticate"] == f'Bearer realm="{AUDIENCE}"'


@pytest.mark.parametrize("value", ["-1", "soon", "1.5"])
def test_a_bad_max_age_setting_is_refused(value, monkeypatch):
    monkeypatch.setenv("TARGET_API_STEP_UP_MAX_AGE", value)
    with pytest.raises(ValueError, match="TARGET_API_STEP_UP_MAX_AGE"):
        Settings()


def test_a_blank_max_age_setting_is_none(monkeypatch):
    monkeypatch.setenv("TARGET_API_STEP_UP_MAX_AGE", "")
    assert Settings().step_up_max_age is None
