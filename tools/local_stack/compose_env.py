"""The published ports for Docker Compose, as shell assignments: ``eval "$(python compose_env.py)"``.

Compose cannot take a port out of a URL, so local_stack/up.sh sets MOCK_IDP_PORT, WEB_APP_PORT,
SOURCE_API_PORT and TARGET_API_PORT from the settings (environment, then .env) the way the
local launcher picks its ports: a port variable when set, else the port of the service's URL.
It also sets OPERATOR_SECRET, made at the first `make up` unless set, so the containers and
`make reset` on this machine agree, and ALLOWED_HOSTS, the hosts of those URLs (plus any
listed), which every service answers to besides loopback and the compose names.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from local_stack import demo_settings
from local_stack.local_tls import is_https
from obo_common.demo_tools import is_demo_issuer


def main(argv: list[str]) -> int:
    """``compose_env.py [ENV_FILE]``: the .env to read, the repository's by default."""
    try:
        settings = demo_settings.load(Path(argv[0])) if argv else demo_settings.load()
    except ValueError as error:
        print(f"make up: {error}", file=sys.stderr)
        return 1
    if is_https(settings.issuer) and is_demo_issuer(settings.issuer):
        # The images serve mock-idp over plain http: say so rather than start a stack whose
        # issuer nothing answers.
        print(
            f"make up: the https issuer {settings.issuer} is served by the local processes only, not"
            " in containers yet (docs/configuration.md, An https issuer)",
            file=sys.stderr,
        )
        return 1
    for name, variable in demo_settings.PORT_VARIABLES.items():
        print(f"export {variable}={shlex.quote(str(settings.ports[name]))}")
    print(f"export OPERATOR_SECRET={shlex.quote(settings.operator_secret)}")
    print(f"export ALLOWED_HOSTS={shlex.quote(settings.allowed_hosts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
