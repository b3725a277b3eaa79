"""A container's healthcheck: exit 0 when the service in this container answers GET /healthz.

Every image installs this package (obo_serving) and docker-compose.yml runs it as
["CMD", "python", "-m", "obo_serving.healthcheck"]. No argument holds a space, so the check means
the same under every engine: podman 4.3's Docker-compatible API splits a CMD
healthcheck's arguments on whitespace, which breaks a `python -c "..."` one-liner.
The port is the container's PORT variable, which compose sets for each service;
HEALTHCHECK_SCHEME=https (docker-compose.https.yml, for mock-idp serving TLS) asks over TLS,
the certificate checked against what the container trusts (SSL_CERT_FILE).
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    scheme = os.environ.get("HEALTHCHECK_SCHEME") or "http"
    port = os.environ.get("PORT", "")
    if scheme == "http":
        url = f"http://127.0.0.1:{port}/healthz"
    elif scheme == "https":
        url = f"https://127.0.0.1:{port}/healthz"
    else:
        print(f"HEALTHCHECK_SCHEME is {scheme!r}: http or https", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (http or https, above)
            return 0 if response.status == 200 else 1
    except (OSError, ValueError) as error:  # refused, timed out, an HTTP error, no PORT
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
