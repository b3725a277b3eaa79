"""The ``curl`` command that makes a recorded hop's request again, for the flow inspector.

The parameters are the real ones (tokens included: the page shows the user their own);
each masked secret becomes the shell variable the hop's ``secrets`` names
(``$WEB_APP_CLIENT_SECRET``, ``$SOURCE_API_CLIENT_SECRET``), so the command runs where
that variable is set and the page never holds a secret. Every word is quoted with
``shlex.quote``.
"""

from __future__ import annotations

import json
import re
from shlex import quote

from obo_common.http_trace import MASK

_SENT_HEADERS = ("Authorization", "Accept", "X-Obo-Trace")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Why running a command again may not give the same answer (or may end the login).
SINGLE_USE = {
    "1": "The code was redeemed already: codes are single-use, so this answers invalid_grant.",
    "5": "A rotated refresh token is single-use: sending it again is reuse, which ends the login "
    "(troubleshooting T34).",
}


def curl(hop: dict) -> str | None:
    """The command for ``hop``, or None when it sent no request (a cache hit)."""
    request = hop.get("request")
    if not isinstance(request, dict) or not request.get("url") or not request.get("method"):
        return None
    method = str(request["method"]).upper()
    form = request.get("form") if isinstance(request.get("form"), dict) else None
    body = request.get("json")
    sent_headers = request.get("headers")
    headers = sent_headers if isinstance(sent_headers, dict) else {}
    words = ["curl -sS" + ("" if method == "GET" or (method == "POST" and (form or body)) else f" -X {quote(method)}")]
    words.append(quote(str(request["url"])))
    for name in _SENT_HEADERS:
        value = headers.get(name)
        if value and MASK not in str(value) and (name, value) != ("Accept", "*/*"):
            words.append(f"-H {quote(f'{name}: {value}')}")
    masked = hop.get("secrets")
    secrets = masked if isinstance(masked, dict) else {}
    for name, value in (form or {}).items():
        if value == MASK:
            words.append(f'--data-urlencode {quote(name + "=")}"${_variable(name, secrets)}"')
        else:
            words.append(f"--data-urlencode {quote(f'{name}={value}')}")
    if body is not None and not form:
        words.append(f"-H {quote('Content-Type: application/json')}")
        words.append(f"--data-raw {quote(json.dumps(body) if not isinstance(body, str) else body)}")
    return " \\\n  ".join(words)


def _variable(name: str, secrets: dict) -> str:
    """The shell variable for a masked field: the one the hop names, or one made from the
    field's name; never anything the shell would read as more than a variable name."""
    named = secrets.get(name)
    if isinstance(named, str) and _VARIABLE.match(named):
        return named
    made = "".join(c if c.isalnum() else "_" for c in str(name)).upper()
    return made if _VARIABLE.match(made) else "SECRET"


def caveat(hop: dict) -> str | None:
    if hop.get("caller") == "web-app":
        return SINGLE_USE.get(str(hop.get("step")))
    return None
