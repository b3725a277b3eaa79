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
