"""The hosts the identity provider answers to: a request naming any other host gets a 400.

The same check as ``obo_common/allowed_hosts.py`` (read it for why), copied because this
service is built without that package: loopback, ``mock-idp`` (its compose name), the
issuer's host and ``ALLOWED_HOSTS`` (comma-separated). A DNS-rebinding page (its own name
resolved to 127.0.0.1) must not reach the tenant's settings or the Management API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.\-_]+))(?::(?P<port>[0-9]{1,5}))?$")


def hosts_of(urls: Iterable[str | None]) -> set[str]:
    """The host names of ``urls`` (lowercase), the empty and unparsable ones left out."""
    hosts = set()
    for url in urls:
        try:
            host = urlsplit(url).hostname if url else None
        except ValueError:
            host = None
        if host:
            hosts.add(host.lower())
    return hosts


def allowed_hosts(service: str, urls: Iterable[str | None], extra: str | None = None) -> frozenset[str]:
    """Loopback, the service's compose name, the hosts of ``urls`` and of ``extra``."""
    listed = {name.strip().lower() for name in (extra or "").split(",") if name.strip()}
    return frozenset(LOOPBACK | {service} | hosts_of(urls) | listed)


def host_name(header: str) -> str | None:
    """The host of a ``Host`` header value (``name[:port]``, ``[v6][:port]``); None if malformed."""
    match = _HOST.match(header)
    if not match:
        return None
    return (match.group("v6") or match.group("name")).lower().rstrip(".")


def init_app(app: Flask, allowed: Iterable[str]) -> None:
    """Refuse, before anything else runs, a request whose ``Host`` is not in ``allowed``."""
    hosts = frozenset(allowed)

    def check_host():
        header = request.headers.get("Host")
        if header is None or host_name(header) in hosts:
            return None
        # The names it does answer to are not listed: a rebinding page could read them.
        return Response(
            "400 Bad Request: this service does not answer to the host this request names "
            "(if the name is yours, add it to ALLOWED_HOSTS).\n",
            status=400,
            mimetype="text/plain",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )

    app.before_request_funcs.setdefault(None, []).insert(0, check_host)
