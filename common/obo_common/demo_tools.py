"""The demo's tools: the flow inspector, the "break it" panel and the operator endpoints.

They show tokens to their own user and change the tenant, which is what a workshop needs
and what a deployment must never do. ``DEMO_TOOLS`` decides, in every service that has
them:

- ``auto`` (the default): on only while the issuer is the local demo provider (a loopback
  address or the compose service ``mock-idp``), so pointing a service at a real tenant
  turns them off without another setting;
- ``on``: on, whatever the issuer (e.g. a workshop against a tenant of its own);
- ``off``: off.

The operator endpoints (``/operator/...``) also need ``Authorization: Bearer <OPERATOR_SECRET>``.
The secret is kept only as its SHA-256 digest and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from ipaddress import ip_address
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import abort, jsonify, request

from .bearer import bearer_challenge, bearer_token
from .bearer_protector import View

DemoToolsSetting = Literal["auto", "on", "off"]
DEMO_HOSTS = {"localhost", "mock-idp"}
DEFAULT_OPERATOR_SECRET = "demo-operator-secret"


def is_demo_issuer(issuer: str) -> bool:
    """True for the issuer of the local demo provider: loopback, ``localhost`` or ``mock-idp``."""
    host = (urlsplit(issuer).hostname or "").lower()
    if host in DEMO_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def demo_tools_enabled(setting: DemoToolsSetting, issuer: str) -> bool:
    if setting == "auto":
        return is_demo_issuer(issuer)
    return setting == "on"


class OperatorSecret:
    """The operator's shared secret, held as a digest and compared in constant time."""

    def __init__(self, secret: str):
        if not secret:
            raise ValueError("the operator secret must not be empty")
        self._digest = hashlib.sha256(secret.encode()).digest()

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(self._digest, hashlib.sha256(presented.encode()).digest())


def operator_only(enabled: bool, secret: OperatorSecret) -> Callable[[View], View]:
    """Decorate a view: 404 while the demo tools are off, 401 without the operator secret."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not enabled:
                abort(404)
            presented = bearer_token(request.headers.get("Authorization"))
            if presented is None or not secret.matches(presented):
                response = jsonify(
                    error="unauthorized", error_description="Send Authorization: Bearer <OPERATOR_SECRET>."
                )
                response.status_code = 401
                response.headers["WWW-Authenticate"] = bearer_challenge("operator")
                return response
            return view(*args, **kwargs)

        return wrapper

    return decorate
