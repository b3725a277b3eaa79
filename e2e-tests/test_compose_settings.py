"""`.env` means the same to Docker Compose as to `make up`'s local processes.

docker-compose.yml is rendered (``docker-compose config``) with a given .env, and each
service's environment there is compared with what the local launcher (local_stack/run_local.py,
local_stack/launcher.py) gives the same service for the same .env. Which variables a service
reads comes from the service itself: its Settings' names, and for mock-idp the references
of its tenant file. No Docker engine is needed; docker-compose itself is (CI installs it).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values

from local_stack import demo_settings, run_local

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"mock-idp": "mock_idp", "target-api": "target_api", "source-api": "source_api", "web-app": "web_app"}
# The addresses the services use for each other are the compose network's names in
# containers, localhost URLs locally: the one place the two modes differ on purpose.
NETWORK = {
    "IDP_INTERNAL_URL": "http://mock-idp:9000/",
    "WEB_APP_SOURCE_API_URL": "http://source-api:3001",
    "SOURCE_API_TARGET_URL": "http://target-api:3002",
}
EXAMPLE = ROOT / ".env.example"

pytestmark = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed here (.ci/run installs it)"
)


def read_names(service: str) -> set[str]:
    """The environment variables ``service`` reads."""
    directory = ROOT / service
    settings = importlib.import_module(f"{SERVICES[service]}.settings").Settings
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.choices[0] if alias is not None else f"{prefix}{name}".upper())
    if service == "mock-idp":
        names |= set(re.findall(r"\$\{([A-Z_]+)", (directory / "tenant.yaml").read_text()))
    return names


def port_mapping(rendered) -> tuple[str, int, int]:
    """(host address, published, target) of a rendered port: compose v1 writes
    "127.0.0.1:19000:9000/tcp", v2 an object."""
    if isinstance(rendered, dict):
        return rendered.get("host_ip", ""), int(rendered["published"]), int(rendered["target"])
    host_ip, published, target = str(rendered).split("/")[0].rsplit(":", 2)
    return host_ip, int(published), int(target)


def render(env_file: Path, *files: str) -> dict:
    options = [arg for name in files or ("docker-compose.yml",) for arg in ("-f", name)]
    return compose_config(ROOT, "--env-file", str(env_file), *options)


def compose_config(folder: Path, *options: str) -> dict:
    """The services of `docker-compose config` run in ``folder``, with none of our environment."""
    done = subprocess.run(
        ["docker-compose", *options, "config"],
        cwd=folder,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["services"]


def local_environment(env_file: Path, monkeypatch) -> dict[str, dict[str, str]]:
    """What the launcher gives each service for this .env: its own environment (the .env
    loaded into it), plus the names it derives for mock-idp and each gunicorn's address."""
    monkeypatch.setattr(os, "environ", {"PATH": os.environ["PATH"]})
    run_local.load_env_file(env_file)
    monkeypatch.setattr(demo_settings, "ROOT", env_file.parent)
    settings = demo_settings.load(env_file)
    for name, value in run_local.mock_idp_environment(settings).items():
        os.environ.setdefault(name, value)
    return {s.name: {**os.environ, **s.env} for s in run_local.default_services(settings.ports)}


def distinct_values(path: Path) -> dict[str, str]:
    """Every setting of .env.example, each with a value none of the defaults has."""
    values = {}
    for name in dotenv_values(EXAMPLE):
        values[name] = f"test-{name.lower().replace('_', '-')}"
    values.update(
        OIDC_ISSUER="https://tenant.example.com/",
        IDP_INTERNAL_URL="",  # as the docs advise for a real tenant
        WEB_APP_BASE_URL="http://localhost:13000",
        WEB_APP_SOURCE_API_URL="http://localhost:13001",
        SOURCE_API_TARGET_URL="http://localhost:13002",
        WEB_APP_SCOPE="openid email read:contacts",
        SOURCE_API_EXCHANGE_SCOPE="read:contacts",
    )
    path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
    return values


def test_every_setting_of_env_example_reaches_each_service_that_reads_it_in_both_modes(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    values = distinct_values(env_file)
    containers = render(env_file)
    local = local_environment(env_file, monkeypatch)

    compared = set()
    for service in SERVICES:
        reads = read_names(service)
        environment = containers[service].get("environment", {})
        for name in sorted(reads & (set(local[service]) | set(environment))):
            if name in NETWORK or name.endswith("_BIND") or name in ("PORT", "MOCK_IDP_DATABASE"):
                continue
            if name in values or name in ("MOCK_IDP_ISSUER", "MANAGEMENT_CLIENT_ID", "MANAGEMENT_CLIENT_SECRET"):
                assert environment.get(name) == local[service].get(name), f"{service} {name}"
                compared.add(name)
        for name in NETWORK:
            if name in reads:
                assert name in environment, f"{service} {name}"
    unread = set(values) - compared - set(NETWORK) - {"COMPOSE_FILE", "COMPOSE_PROFILES"}
    assert not unread, f"settings of .env.example that reach no service: {sorted(unread)}"


def test_an_empty_idp_internal_url_stays_empty_for_a_real_tenant_without_mock_idp(tmp_path):
    env_file = tmp_path / ".env"
    distinct_values(env_file)

    demo = render(env_file)
    tenant = render(env_file, "docker-compose.yml", "docker-compose.tenant.yml")

    for service in ("target-api", "source-api", "web-app"):
        assert demo[service]["environment"]["IDP_INTERNAL_URL"] == "http://mock-idp:9000/"  # the demo's default
        assert tenant[service]["environment"]["IDP_INTERNAL_URL"] == "", service
        # Nothing waits for a service that is off.
        assert "mock-idp" not in tenant[service].get("depends_on", {}), service
    assert "profiles" not in demo["mock-idp"]
    assert tenant["mock-idp"]["profiles"] == ["mock"]


def test_compose_reads_the_tenant_override_from_compose_file_in_env(tmp_path):
    env_file = tmp_path / ".env"
    distinct_values(env_file)
    with env_file.open("a") as out:
        out.write("COMPOSE_FILE=docker-compose.yml:docker-compose.tenant.yml\n")

    services = render_with_compose_file(env_file)

    assert services["mock-idp"]["profiles"] == ["mock"]


def render_with_compose_file(env_file: Path) -> dict:
    # COMPOSE_FILE is read from the project's .env only (not --env-file): a copy of the project.
    project = env_file.parent / "project"
    project.mkdir()
    for name in ("docker-compose.yml", "docker-compose.tenant.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copy(env_file, project / ".env")
    return compose_config(project)


def test_an_https_mock_idp_lays_the_https_override_over_and_a_real_https_tenant_does_not(tmp_path):
    env_file = tmp_path / ".env"

    def compose_env(issuer: str) -> dict[str, str]:
        env_file.write_text(f"OIDC_ISSUER={issuer}\n")
        done = subprocess.run(
            [sys.executable, "-m", "local_stack.compose_env", str(env_file)],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"], "DEMO_RUN_DIR": str(tmp_path / "run")},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())

    mock = compose_env("https://localhost:9000/")
    assert mock["COMPOSE_FILE"] == "docker-compose.yml:docker-compose.https.yml"
    assert mock["LOCAL_TLS_DIR"] == str(tmp_path / "run" / "tls")
    assert {"ca.pem", "trust.pem", "mock-idp.pem", "mock-idp-key.pem"} <= {
        p.name for p in (tmp_path / "run" / "tls").iterdir()
    }
    tenant = compose_env("https://tenant.eu.auth0.com/")
    assert "COMPOSE_FILE" not in tenant
    assert "LOCAL_TLS_DIR" not in tenant


def test_the_https_override_serves_mock_idp_over_tls_and_has_the_others_trust_the_ca(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"OIDC_ISSUER=https://localhost:9000/\nLOCAL_TLS_DIR={tmp_path / 'tls'}\n")
    services = render(env_file, "docker-compose.yml", "docker-compose.https.yml")

    mock = services["mock-idp"]["environment"]
    assert mock["MOCK_IDP_ISSUER"] == "https://localhost:9000/"
    assert mock["GUNICORN_CMD_ARGS"] == "--certfile=/tls/mock-idp.pem --keyfile=/tls/mock-idp-key.pem"
    assert mock["HEALTHCHECK_SCHEME"] == "https"
    for name in ("web-app", "source-api", "target-api"):
        environment = services[name]["environment"]
        assert environment["IDP_INTERNAL_URL"] == "https://mock-idp:9000/"
        assert environment["REQUESTS_CA_BUNDLE"] == environment["SSL_CERT_FILE"] == "/tls/trust.pem"
    for name, service in services.items():
        # Read-only: no container can change what the others trust.
        assert f"{tmp_path / 'tls'}:/tls:ro" in [str(volume) for volume in service["volumes"]], name
    # Without the override nothing of it: plain http stays the default.
    plain = render(env_file)
    assert "GUNICORN_CMD_ARGS" not in plain["mock-idp"]["environment"]
    assert all("REQUESTS_CA_BUNDLE" not in service["environment"] for service in plain.values())


def test_one_setting_moves_both_the_published_port_and_the_url(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OIDC_ISSUER=http://localhost:19000/\nWEB_APP_BASE_URL=http://localhost:13000\n")
    ports = subprocess.run(
        [sys.executable, "-m", "local_stack.compose_env", str(env_file)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in ports.splitlines())
    assert exported["MOCK_IDP_PORT"] == "19000"
    assert exported["WEB_APP_PORT"] == "13000"
    assert exported["SOURCE_API_PORT"] == "3001"  # today's default where nothing moved it

    with env_file.open("a") as out:
        out.writelines(f"{name}={value}\n" for name, value in exported.items())
    services = render(env_file)

    published = {name: port_mapping(service["ports"][0]) for name, service in services.items()}
    assert published["mock-idp"] == ("127.0.0.1", 19000, 9000)  # this machine only, by default
    assert published["web-app"] == ("127.0.0.1", 13000, 3000)
    assert services["mock-idp"]["environment"]["MOCK_IDP_ISSUER"] == "http://localhost:19000/"
    assert services["mock-idp"]["environment"]["MOCK_IDP_PORT"] == "19000"
    assert services["web-app"]["environment"]["WEB_APP_BASE_URL"] == "http://localhost:13000"
    assert services["web-app"]["environment"]["WEB_APP_PORT"] == "13000"
