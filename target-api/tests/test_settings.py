import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from target_api.settings import Settings

SERVICE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OIDC_ISSUER", "localhost:9000"),  # no scheme: not an absolute URL
        ("OIDC_ISSUER", "ftp://localhost:9000/"),
        ("IDP_INTERNAL_URL", "mock-idp:9000/"),
        ("TARGET_API_AUDIENCE", "   "),
        ("TOKEN_LEEWAY", "600"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert name in str(refused.value)


def test_an_issuer_without_a_trailing_slash_is_an_absolute_url_and_accepted():
    # Other providers' issuers often end without '/'; the API only compares it to `iss`.
    assert Settings(issuer="https://idp.example.com/realms/demo").issuer == "https://idp.example.com/realms/demo"


def test_the_server_refuses_to_start_on_invalid_settings_with_a_clear_message(tmp_path):
    environment = {
        "PATH": "",
        "OIDC_ISSUER": "localhost:9000",
        "TARGET_API_DATABASE": str(tmp_path / "target-api.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import target_api.wsgi"],
        cwd=SERVICE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "target-api: invalid settings: OIDC_ISSUER: Value error, must be an http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr
