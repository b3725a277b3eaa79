"""HTTP sessions for calls this app makes: each call carries the request id, so one click can
be followed through the Source API and the identity provider, and a timeout, so a service
that hangs becomes an error page instead of a stuck worker."""

from __future__ import annotations

import requests
from authlib.integrations.requests_client import OAuth2Session

from obo_common import request_id


class _WithRequestId:
    default_timeout: tuple[float, float] | None = None

    def request(self, method, url, headers=None, **kwargs):
        if self.default_timeout:
            kwargs.setdefault("timeout", self.default_timeout)
        headers = {**(headers or {}), **request_id.outgoing_headers()}
        return super().request(method, url, headers=headers, **kwargs)


class OutgoingSession(_WithRequestId, requests.Session):
    """The app's one pooled session (Source API calls, discovery)."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.default_timeout = timeout


class IdentityProviderSession(_WithRequestId, OAuth2Session):
    """What Authlib's client uses for the token endpoint and the JWKS (``default_timeout``
    comes in through the client's ``client_kwargs``)."""
