"""The published ports for Docker Compose, as shell assignments: ``eval "$(python compose_env.py)"``.

Compose cannot take a port out of a URL, so local_stack/up.sh sets MOCK_IDP_PORT, WEB_APP_PORT,
SOURCE_API_PORT and TARGET_API_PORT from the settings (environment, then .env) the way the
local launcher picks its ports: a port variable when set, else the port of the service's URL.
It also sets OPERATOR_SECRET, made at the first `make up` unless set, so the containers and
`make reset` on this machine agree, and ALLOWED_HOSTS, the hosts of those URLs (plus any
listed), which every service answers to besides loopback and the compose names.

With an https issuer naming the mock (``OIDC_ISSUER=https://localhost:9000/``) it makes the
local CA and mock-idp's certificate first (local_stack/local_tls.py, in ``.run/tls`` or
DEMO_RUN_DIR's ``tls``), and sets LOCAL_TLS_DIR to that folder and COMPOSE_FILE to the
files compose would read anyway plus docker-compose.https.yml, which serves mock-idp over
TLS and has the other services trust the CA.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from dotenv import dotenv_values

from local_stack import demo_settings, local_tls
from obo_common.demo_tools import is_demo_issuer

HTTPS_OVERRIDE = "docker-compose.https.yml"
# Compose's own default, when COMPOSE_FILE names none.
DEFAULT_COMPOSE_FILE = "docker-compose.yml"


def main(argv: list[str]) -> int:
    """``compose_env.py [ENV_FILE]``: the .env to read, the repository's by default."""
    env_file = Path(argv[0]) if argv else demo_settings.ROOT / ".env"
    try:
        settings = demo_settings.load(env_file)
    except ValueError as error:
        print(f"make up: {error}", file=sys.stderr)
        return 1
    if local_tls.is_https(settings.issuer) and is_demo_issuer(settings.issuer):
        tls = local_tls.for_containers(settings.issuer, run_dir())
        print(f"export LOCAL_TLS_DIR={shlex.quote(str(tls))}")
        print(f"export COMPOSE_FILE={shlex.quote(with_https_override(compose_file(env_file)))}")
    for name, variable in demo_settings.PORT_VARIABLES.items():
        print(f"export {variable}={shlex.quote(str(settings.ports[name]))}")
    print(f"export OPERATOR_SECRET={shlex.quote(settings.operator_secret)}")
    print(f"export ALLOWED_HOSTS={shlex.quote(settings.allowed_hosts)}")
    return 0


def run_dir() -> Path:
    """The run folder local processes use too (local_stack/run_local.py): DEMO_RUN_DIR or .run/."""
    return demo_settings.ROOT / (os.environ.get("DEMO_RUN_DIR") or ".run")


def compose_file(env_file: Path) -> str:
    """COMPOSE_FILE as compose would read it: the environment, then .env."""
    values = dotenv_values(env_file) if env_file.is_file() else {}
    return os.environ.get("COMPOSE_FILE") or values.get("COMPOSE_FILE") or DEFAULT_COMPOSE_FILE


def with_https_override(files: str) -> str:
    """``files`` (COMPOSE_FILE's list, ``:``-separated) with docker-compose.https.yml last."""
    names = [name for name in files.split(os.pathsep) if name]
    if not any(Path(name).name == HTTPS_OVERRIDE for name in names):
        names.append(HTTPS_OVERRIDE)
    return os.pathsep.join(names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
