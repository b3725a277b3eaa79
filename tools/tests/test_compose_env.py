"""`make up`'s settings for Docker Compose (local_stack/compose_env.py): the https override
and its certificates with an https issuer naming the mock, nothing of it otherwise."""

from __future__ import annotations

import pytest

from local_stack import compose_env


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    monkeypatch.delenv("OIDC_ISSUER", raising=False)
    return tmp_path / "run"


def exported(capsys) -> dict[str, str]:
    return dict(line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines())


def test_an_https_mock_issuer_makes_the_certificates_and_lays_the_override_over(tmp_path, run_dir, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("OIDC_ISSUER=https://localhost:9000/\n")

    assert compose_env.main([str(env_file)]) == 0

    variables = exported(capsys)
    assert variables["COMPOSE_FILE"] == "docker-compose.yml:docker-compose.https.yml"
    assert variables["LOCAL_TLS_DIR"] == str(run_dir / "tls")
    assert variables["MOCK_IDP_PORT"] == "9000"
    assert {"ca.pem", "trust.pem", "mock-idp.pem", "mock-idp-key.pem"} <= {p.name for p in (run_dir / "tls").iterdir()}


@pytest.mark.parametrize("issuer", ["http://localhost:9000/", "https://tenant.eu.auth0.com/"])
def test_plain_http_and_a_real_tenant_change_nothing(tmp_path, run_dir, capsys, issuer):
    env_file = tmp_path / ".env"
    env_file.write_text(f"OIDC_ISSUER={issuer}\n")

    assert compose_env.main([str(env_file)]) == 0

    variables = exported(capsys)
    assert "COMPOSE_FILE" not in variables
    assert "LOCAL_TLS_DIR" not in variables
    assert not run_dir.exists()


def test_the_override_goes_after_the_files_env_names(tmp_path, run_dir, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("OIDC_ISSUER=https://localhost:9000/\nCOMPOSE_FILE=docker-compose.yml:mine.yml\n")

    assert compose_env.main([str(env_file)]) == 0

    assert exported(capsys)["COMPOSE_FILE"] == "docker-compose.yml:mine.yml:docker-compose.https.yml"


def test_the_environment_wins_over_env_and_the_override_is_named_once(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("COMPOSE_FILE=from-env-file.yml\n")
    monkeypatch.setenv("COMPOSE_FILE", "docker-compose.yml:docker-compose.https.yml")

    files = compose_env.compose_file(env_file)

    assert files == "docker-compose.yml:docker-compose.https.yml"
    assert compose_env.with_https_override(files) == files
    assert compose_env.with_https_override("docker-compose.yml") == "docker-compose.yml:docker-compose.https.yml"
