"""The demo's settings as the tools read them: a `make up` stack's, and an isolated one's."""

from __future__ import annotations

import pytest

from local_stack import demo_settings
from workshop import demo_tokens

URLS = {
    "mock-idp": "http://localhost:19000",
    "target-api": "http://localhost:13002",
    "source-api": "http://localhost:13001",
    "web-app": "http://localhost:13000",
}


@pytest.fixture(autouse=True)
def no_demo_settings_in_the_environment(monkeypatch):
    for name in ("WEB_APP_CLIENT_SECRET", "TARGET_API_AUDIENCE", "SOURCE_API_CLIENT_ID", "SOURCE_API_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_an_isolated_stack_is_known_by_its_urls():
    settings = demo_settings.of_stack(URLS)

    assert settings.issuer == "http://localhost:19000/"
    assert settings.token_endpoint == "http://localhost:19000/oauth/token"
    assert settings.callback == "http://localhost:13000/callback"
    assert settings.ports == {"mock-idp": 19000, "target-api": 13002, "source-api": 13001, "web-app": 13000}


def test_an_isolated_stack_reads_the_environment_and_no_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("WEB_APP_CLIENT_SECRET=from-the-file\n")

    assert demo_settings.load(env_file).web_app_client_secret == "from-the-file"
    assert demo_settings.load(None).web_app_client_secret == "web-app-secret"
    monkeypatch.setenv("WEB_APP_CLIENT_SECRET", "from-the-environment")
    assert demo_settings.of_stack(URLS).web_app_client_secret == "from-the-environment"


def test_the_exchange_form_is_the_source_apis_for_the_target_api(monkeypatch):
    monkeypatch.setenv("TARGET_API_AUDIENCE", "https://contacts.example.com")

    form = demo_tokens.exchange_form(demo_settings.of_stack(URLS), "the-user-token", "read:contacts")

    assert form == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": "the-user-token",
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "audience": "https://contacts.example.com",
        "scope": "read:contacts",
        "client_id": "source-api",
        "client_secret": "source-api-secret",
    }
