"""The hosts a service answers to: a request naming any other host gets a 400.

A page on another site can make a browser reach a service on loopback through DNS
rebinding (its own name, resolved to 127.0.0.1): the browser then sends that name in
``Host``. Answering only the names this deployment uses stops it before any view runs:
loopback (``localhost``, ``127.0.0.1``, ``::1``), the service's compose name
(``web-app``, ...), the hosts of the URLs in its settings (the issuer, the web app's base
URL, ...) and those listed in ``ALLOWED_HOSTS`` (comma-separated: a proxy's name, a
class network's address). A request without ``Host`` (HTTP/1.0) is not a browser's, and
passes.

mock-idp has the same check in ``mock_idp/allowed_hosts.py``: it is built without this
package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.wrappers import Response

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
    """Refuse, before Flask sees it, a request whose ``Host`` is not in ``allowed``."""
    app.wsgi_app = HostCheck(app.wsgi_app, allowed)  # type: ignore[method-assign]


class HostCheck:
    """WSGI middleware: the check reads one environ key, so it costs next to nothing on the
    requests it lets through (every request of every service)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], allowed: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(allowed)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        header = environ.get("HTTP_HOST")
        if header is None or host_name(header) in self.hosts:
            return self.app(environ, start_response)
        # The names it does answer to are not listed: a rebinding page could read them.
        refusal = Response(
            "400 Bad Request: this service does not answer to the host this request names "
            "(if the name is yours, add it to ALLOWED_HOSTS).\n",
            status=400,
            mimetype="text/plain",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )
        return refusal(environ, start_response)
