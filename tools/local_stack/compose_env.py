"""The published ports for Docker Compose, as shell assignments: ``eval "$(python compose_env.py)"``.

Compose cannot take a port out of a URL, so local_stack/up.sh sets MOCK_IDP_PORT, WEB_APP_PORT,
SOURCE_API_PORT and TARGET_API_PORT from the settings (environment, then .env) the way the
local launcher picks its ports: a port variable when set, else the port of the service's URL.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from local_stack import demo_settings


def main(argv: list[str]) -> int:
    """``compose_env.py [ENV_FILE]``: the .env to read, the repository's by default."""
    try:
        settings = demo_settings.load(Path(argv[0])) if argv else demo_settings.load()
    except ValueError as error:
        print(f"make up: {error}", file=sys.stderr)
        return 1
    for name, variable in demo_settings.PORT_VARIABLES.items():
        print(f"export {variable}={shlex.quote(str(settings.ports[name]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
