import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from web_app import create_app
from web_app.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parent.parent


def test_defaults_are_the_demo_tenant():
    settings = Settings()
    assert settings.issuer == "http://localhost:9000/"
    assert settings.idp_internal_url is None
    assert (settings.client_id, settings.client_secret.get_secret_value()) == ("web-app", "web-app-secret")
    assert settings.callback_url == "http://localhost:3000/callback"
    assert settings.logout_return_url == "http://localhost:3000/"
    assert settings.source_api_audience == "https://source-api.example.com"
    assert settings.source_api_url == "http://localhost:3001"
    assert settings.scope == "openid profile email offline_access read:profile read:contacts"
    assert settings.data_dir == SERVICE_DIR / "instance"
    assert settings.troubleshooting_file == SERVICE_DIR.parent / "docs" / "troubleshooting.md"
    assert settings.session_secret is None
    assert not settings.secure_cookies


def test_every_setting_is_read_from_its_environment_variable(monkeypatch, tmp_path):
    environment = {
        "OIDC_ISSUER": "https://idp.example.com/",
        "IDP_INTERNAL_URL": "http://mock-idp:9000/",
        "WEB_APP_CLIENT_ID": "my-app",
        "WEB_APP_CLIENT_SECRET": "s3cret",
        "WEB_APP_BASE_URL": "https://app.example.com/",
        "SOURCE_API_AUDIENCE": "https://source.example.com",
        "WEB_APP_SOURCE_API_URL": "http://source-api:3001",
        "WEB_APP_SCOPE": "openid  read:contacts",
        "WEB_APP_SESSION_SECRET": "fixed",
        "WEB_APP_DATA_DIR": str(tmp_path),
        "WEB_APP_TROUBLESHOOTING_FILE": str(tmp_path / "t.md"),
        "WEB_APP_CONNECT_TIMEOUT": "1.5",
        "WEB_APP_IDP_TIMEOUT": "4",
        "WEB_APP_SOURCE_API_TIMEOUT": "9",
        "TOKEN_LEEWAY": "10",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.issuer == "https://idp.example.com/"
    assert settings.idp_internal_url == "http://mock-idp:9000/"
    assert (settings.client_id, settings.client_secret.get_secret_value()) == ("my-app", "s3cret")
    assert settings.callback_url == "https://app.example.com/callback"
    assert settings.secure_cookies
    assert settings.source_api_audience == "https://source.example.com"
    assert settings.source_api_url == "http://source-api:3001"
    assert settings.scope == "openid read:contacts"
    assert settings.session_secret.get_secret_value() == "fixed"
    assert settings.data_dir == tmp_path
    assert settings.troubleshooting_file == tmp_path / "t.md"
    assert settings.idp_timeouts == (1.5, 4)
    assert settings.source_api_timeouts == (1.5, 9)
    assert settings.leeway == 10


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OIDC_ISSUER", "http://localhost:9000"),  # the issuer ends in '/'
        ("IDP_INTERNAL_URL", "mock-idp:9000/"),
        ("WEB_APP_BASE_URL", "localhost:3000"),
        ("WEB_APP_SCOPE", "profile read:contacts"),  # no openid: no ID token
        ("WEB_APP_IDP_TIMEOUT", "0"),
        ("TOKEN_LEEWAY", "600"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert name in str(refused.value)


def test_the_server_refuses_to_start_on_invalid_settings_with_a_clear_message(tmp_path):
    environment = {"PATH": "", "OIDC_ISSUER": "localhost:9000", "WEB_APP_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import web_app.wsgi"],
        cwd=SERVICE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "web-app: invalid settings: OIDC_ISSUER: Value error, must be an http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_session_secret_is_made_once_and_kept_across_restarts(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first, second = create_app(settings), create_app(settings)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) == 64
    assert (tmp_path / "session-secret").stat().st_mode & 0o777 == 0o600


def test_a_configured_session_secret_is_used_as_it_is(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, session_secret="from-the-environment"))
    assert app.secret_key == "from-the-environment"
    assert not (tmp_path / "session-secret").exists()


def test_sessions_go_to_redis_only_when_a_redis_url_is_given(monkeypatch):
    assert Settings().session_url == ""
    monkeypatch.setenv("WEB_APP_SESSION_URL", "rediss://sessions.internal:6380/1")
    assert Settings().session_url == "rediss://sessions.internal:6380/1"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://"])
def test_a_session_url_that_is_not_redis_is_refused_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("WEB_APP_SESSION_URL", url)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "WEB_APP_SESSION_URL" in str(refused.value)


def test_an_unset_operator_secret_is_made_at_first_start_and_opens_the_operator_endpoint(tmp_path, idp):
    settings = Settings(data_dir=tmp_path, demo_tools="on")
    app = create_app(settings)
    made = (tmp_path / "operator-secret").read_text()
    assert len(made) == 64
    assert create_app(settings).extensions["web_app"].operator_secret == made  # every worker, every start
    answer = app.test_client().delete("/operator/sessions", headers={"Authorization": f"Bearer {made}"})
    assert answer.status_code == 200


@pytest.mark.parametrize("demo_tools", ["auto", "on"])
def test_the_published_operator_secret_is_refused_while_the_tools_may_be_on(monkeypatch, demo_tools):
    monkeypatch.setenv("OPERATOR_SECRET", "demo-operator-secret")
    monkeypatch.setenv("DEMO_TOOLS", demo_tools)
    with pytest.raises(ValidationError, match="published default"):
        Settings()
