"""Print the running demo's URLs and client secrets as shell assignments.

    eval "$(make -s env)"

sets IDP (the identity provider, no trailing slash), WEB, SRC and TGT (the web app, the
Source API, the Target API) and WEB_APP_CLIENT_SECRET, SOURCE_API_CLIENT_SECRET and
MANAGEMENT_CLIENT_SECRET, and OPERATOR_SECRET (the demo tools' own: set, or made by the first
`make up`), read as the services read them: the environment, then ``.env``,
then the defaults. The reproduction blocks of docs/troubleshooting.md and the sheet of
docs/workshop.md are written with these names, so they work on any ports without edits.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from local_stack import demo_settings


def variables(settings: demo_settings.DemoSettings) -> dict[str, str]:
    """The names the guide's blocks use, and their values for ``settings``."""
    return {
        "IDP": settings.issuer.rstrip("/"),
        "WEB": settings.web_app_url,
        "SRC": settings.source_api_url,
        "TGT": settings.target_api_url,
        "WEB_APP_CLIENT_SECRET": settings.web_app_client_secret,
        "SOURCE_API_CLIENT_SECRET": settings.source_api_client_secret,
        "MANAGEMENT_CLIENT_SECRET": settings.management_client_secret,
        "OPERATOR_SECRET": settings.operator_secret,
    }


def assignments(settings: demo_settings.DemoSettings) -> str:
    """One ``NAME=value`` line per variable, quoted for any POSIX shell. Not exported: a
    later `make up` in the same terminal must read .env, not an old copy of it."""
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in variables(settings).items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, default=demo_settings.ROOT / ".env", help="default: .env")
    args = parser.parse_args(argv)
    try:
        settings = demo_settings.load(args.env_file)
    except ValueError as error:
        print(f"make env: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(assignments(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
