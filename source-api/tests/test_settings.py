import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from source_api.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OIDC_ISSUER", "localhost:9000"),  # no scheme: not an absolute URL
        ("IDP_INTERNAL_URL", "mock-idp:9000/"),
        ("SOURCE_API_AUDIENCE", "   "),
        ("TARGET_API_AUDIENCE", "   "),
        ("SOURCE_API_CLIENT_ID", " "),
        ("SOURCE_API_CLIENT_SECRET", " "),
        ("OPERATOR_SECRET", " "),
        ("SOURCE_API_TARGET_URL", "target-api:3002"),
        ("TOKEN_LEEWAY", "600"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert name in str(refused.value)


def test_the_server_refuses_to_start_on_invalid_settings_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-c", "import source_api.wsgi"],
        cwd=SERVICE_DIR,
        env={"PATH": "", "OIDC_ISSUER": "localhost:9000", "SOURCE_API_AUDIENCE": " "},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "source-api: invalid settings: OIDC_ISSUER: Value error, must be an http(s) URL" in result.stderr
    assert "SOURCE_API_AUDIENCE: Value error, must not be blank" in result.stderr
    assert "Traceback" not in result.stderr


CACHE_KEY = "k" * 32


def test_the_token_cache_is_in_process_unless_a_redis_url_is_given(monkeypatch):
    assert Settings().token_cache_kind == "memory"
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_URL", "redis://127.0.0.1:6399/0")
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_KEY", CACHE_KEY)
    assert Settings().token_cache_kind == "redis"
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_URL", "rediss://redis.internal:6380/2")
    assert Settings().token_cache_kind == "redis"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://", "memcached://x:11211"])
def test_a_token_cache_url_that_is_not_redis_is_refused(monkeypatch, url):
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_URL", url)
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_KEY", CACHE_KEY)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "SOURCE_API_TOKEN_CACHE_URL" in str(refused.value)


@pytest.mark.parametrize("key", [None, "k" * 31, " " * 40])
def test_the_redis_cache_needs_a_key_of_32_characters(monkeypatch, key):
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_URL", "redis://127.0.0.1:6399/0")
    if key is not None:
        monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_KEY", key)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "SOURCE_API_TOKEN_CACHE_KEY must be set to at least 32 characters" in str(refused.value)


def test_the_cache_key_never_shows_in_the_settings(monkeypatch):
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_URL", "redis://127.0.0.1:6399/0")
    monkeypatch.setenv("SOURCE_API_TOKEN_CACHE_KEY", CACHE_KEY)
    assert CACHE_KEY not in repr(Settings())


def test_the_server_refuses_to_start_with_redis_and_no_cache_key():
    result = subprocess.run(
        [sys.executable, "-c", "import source_api.wsgi"],
        cwd=SERVICE_DIR,
        env={"PATH": "", "SOURCE_API_TOKEN_CACHE_URL": "redis://127.0.0.1:6399/0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "source-api: invalid settings:" in result.stderr
    assert "SOURCE_API_TOKEN_CACHE_KEY must be set to at least 32 characters" in result.stderr
    assert "Traceback" not in result.stderr
