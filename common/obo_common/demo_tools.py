"""The demo's tools: the flow inspector, the "break it" panel and the operator endpoints.

They show tokens to their own user and change the tenant, which is what a workshop needs
and what a deployment must never do. ``DEMO_TOOLS`` decides, in every service that has
them:

- ``auto`` (the default): on only while the identity provider is this project's mock: its
  issuer is local (a loopback address or the compose service ``mock-idp``) *and* its
  discovery document says it is the mock (``DEMO_PROVIDER_MARKER``). Another provider on
  loopback (a Keycloak, a tunnel to a real tenant) turns them off, as does a provider that
  cannot be asked yet (asked again a few seconds later);
- ``on``: on, whatever the issuer (e.g. a workshop against a tenant of its own);
- ``off``: off.

The operator endpoints (``/operator/...``) also need ``Authorization: Bearer <OPERATOR_SECRET>``.
The secret is kept only as its SHA-256 digest and compared in constant time. Unset, it is
made at first start and kept in a file (``OPERATOR_SECRET_FILE``) that every process
sharing it reads; the value once published as the default is refused unless the tools are
off, since anyone could send it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from functools import wraps
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import abort, jsonify, request

from . import secret_file
from .bearer import bearer_challenge, bearer_token
from .bearer_protector import View
from .idp_endpoints import IdentityProviderEndpoints, IdentityProviderUnavailable

log = logging.getLogger(__name__)

DemoToolsSetting = Literal["auto", "on", "off"]
DEMO_HOSTS = {"localhost", "mock-idp"}
# Published in earlier versions as the default: refused while the tools may be on.
DEFAULT_OPERATOR_SECRET = "demo-operator-secret"
# What the mock identity provider's discovery document says about itself (true).
DEMO_PROVIDER_MARKER = "obo_demo_provider"
RETRY_AFTER = 5.0  # seconds before a provider that could not be asked is asked again
# A request for the Source API's trace (X-Obo-Trace: 1) is answered only beside the
# operator secret in this header: the trace holds calls made with the Source API's own
# credentials, so it is for the web app's inspector, not for every token holder.
TRACE_HEADER = "X-Obo-Trace"
OPERATOR_HEADER = "X-Obo-Operator"


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
    """Whether the tools may be on, from the settings alone (``auto``: a local issuer);
    ``DemoTools`` also asks the provider."""
    if setting == "auto":
        return is_demo_issuer(issuer)
    return setting == "on"


class DemoTools:
    """Whether the demo tools are on now: the setting, and for ``auto`` the provider's answer."""

    def __init__(
        self, setting: DemoToolsSetting, idp: IdentityProviderEndpoints, clock: Callable[[], float] = time.monotonic
    ):
        self.setting = setting
        self.idp = idp
        self.clock = clock
        self._known: bool | None = None if setting == "auto" and is_demo_issuer(idp.issuer) else False
        self._asked_at: float | None = None
        self._guard = threading.Lock()

    def __bool__(self) -> bool:
        return self.enabled()

    def enabled(self) -> bool:
        if self.setting != "auto":
            return self.setting == "on"
        if self._known is not None:
            return self._known
        with self._guard:
            if self._known is None and (self._asked_at is None or self.clock() - self._asked_at >= RETRY_AFTER):
                self._asked_at = self.clock()
                try:
                    self._known = self.idp.metadata().get(DEMO_PROVIDER_MARKER) is True
                except IdentityProviderUnavailable:
                    return False  # fail safe; asked again after RETRY_AFTER
                if not self._known:
                    log.info("DEMO_TOOLS=auto: the identity provider is not this project's mock; tools off")
            return bool(self._known)


def operator_secret(configured: str | None, file: Path | None, setting: DemoToolsSetting) -> str:
    """The operator secret: configured, else made once in ``file``; with neither, a random
    one nobody knows (the operator endpoints then refuse everyone)."""
    if configured:
        if configured == DEFAULT_OPERATOR_SECRET and setting != "off":
            raise ValueError(
                "this is the published default, which anyone can send: set another, or leave "
                "OPERATOR_SECRET unset to have one made at first start"
            )
        return configured
    if file is not None:
        return secret_file.load_or_create(file)
    log.warning("no OPERATOR_SECRET and no OPERATOR_SECRET_FILE: the operator endpoints refuse every caller")
    return secrets.token_hex(32)


class OperatorSecret:
    """The operator's shared secret, held as a digest and compared in constant time."""

    def __init__(self, secret: str):
        if not secret:
            raise ValueError("the operator secret must not be empty")
        self._digest = hashlib.sha256(secret.encode()).digest()

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(self._digest, hashlib.sha256(presented.encode()).digest())


def operator_only(enabled: bool | DemoTools, secret: OperatorSecret) -> Callable[[View], View]:
    """Decorate a view: 404 while the demo tools are off, 401 without the operator secret."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not bool(enabled):
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
