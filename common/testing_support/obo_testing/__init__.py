"""Helpers for the unit tests of obo_common and the app services (never for the end-to-end
suite, which talks to the real services). A package of its own, ``obo-testing``, installed by
the Makefile's virtual environment and by no Dockerfile: it signs tokens of any shape,
``alg=none`` included, which no image may carry.

- ``TokenFactory``: an RSA signing key and the access tokens it signs: valid RS256
  ``typ: at+jwt`` tokens by default, or tokens that are wrong in exactly one way.
- ``FakeNetwork``: a requests transport under every session, answering by URL (canned
  answers or callables) or by host (a WSGI app), recording every request as sent.
- ``FakeSession``: stands in for ``requests.Session``: routes ``(method, url)`` to canned
  answers or callables, records every call, and can fail like the network does.
- ``serve_identity_provider``: discovery and JWKS of a fake provider on a FakeSession.
- ``replace_requests_session``: makes an app factory that calls ``requests.Session()``
  get a FakeSession instead.
- ``Clock``: a clock that only moves when a test moves it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from .network import FakeNetwork, response

ISSUER = "http://localhost:9000/"
AUDIENCE = "https://api.example.com"
SUBJECT = "auth0|test-user"
CLIENT_ID = "web-app"
_DEFAULT = object()


class Clock:
    """A clock for ``clock=`` parameters: it stands still until ``advance`` moves it."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TokenFactory:
    """Signs access tokens as the identity provider would.

    ``issue()`` gives a valid token for ``audience``; keyword arguments override claims
    (``None`` removes one); ``alg``, ``typ`` and ``kid`` change the header (``None``
    removes ``typ``/``kid``); ``signing_key`` signs with another key; ``alg="HS256"``
    signs with an HMAC secret and ``alg="none"`` leaves the token unsigned.
    """

    def __init__(
        self,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        kid: str = "test-key-1",
        scope: str = "openid profile",
        lifetime: int = 3600,
        clock: Callable[[], float] = time.time,
    ):
        self.issuer = issuer
        self.audience = audience
        self.scope = scope
        self.lifetime = lifetime
        self.clock = clock
        self.key = self.new_key(kid)
        self.published: list[RSAKey] = [self.key]
        self.hmac_key = OctKey.generate_key(256)

    @staticmethod
    def new_key(kid: str) -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}, private=True)

    def rotate(self, kid: str, keep_old: bool = False) -> RSAKey:
        """Sign with a new key from now on; publish it (beside the old one if ``keep_old``)."""
        self.key = self.new_key(kid)
        self.published = [*self.published, self.key] if keep_old else [self.key]
        return self.key

    def jwks(self) -> dict:
        """The public keys, as the provider's ``jwks_uri`` serves them."""
        return {"keys": [{**key.as_dict(private=False), "alg": "RS256"} for key in self.published]}

    def claims(self, **overrides: Any) -> dict:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "aud": self.audience,
            "client_id": CLIENT_ID,
            "scope": self.scope,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    @staticmethod
    def raw(header: dict, payload: dict, signature: str = "c2lnbmF0dXJl") -> str:
        """A compact JWS put together without any check (for headers joserfc would refuse)."""
        return f"{_b64(header)}.{_b64(payload)}.{signature}"

    def issue(
        self,
        *,
        alg: str = "RS256",
        typ: str | None = "at+jwt",
        kid: Any = _DEFAULT,
        signing_key: RSAKey | OctKey | None = None,
        header: dict | None = None,
        **claims: Any,
    ) -> str:
        protected: dict[str, Any] = {"alg": alg}
        if typ is not None:
            protected["typ"] = typ
        kid = self.key.kid if kid is _DEFAULT else kid
        if kid is not None:
            protected["kid"] = kid
        protected.update(header or {})
        payload = self.claims(**claims)
        if alg == "none":
            return self.raw(protected, payload, signature="")
        if signing_key is None:
            signing_key = self.hmac_key if alg.startswith("HS") else self.key
        return jwt.encode(protected, payload, signing_key, algorithms=[alg], default_type=None)


@dataclass
class Call:
    """One request made through a FakeSession."""

    method: str
    url: str
    headers: dict = field(default_factory=dict)
    data: Any = None
    json: Any = None
    params: Any = None
    timeout: Any = None


class FakeSession:
    """Stands in for ``requests.Session``.

    ``route(method, url, answer)``: ``answer`` is a ``requests.Response``, a ``(status,
    json)`` or ``(status, json, headers)`` tuple, a dict (200 with that JSON), an
    exception (class or instance) to raise, a callable taking the ``Call`` and returning
    any of these, or a list of them used in turn (the last one repeats). Routing the
    same method and URL again replaces the answer. Unrouted URLs fail as a refused
    connection would.
    """

    def __init__(self):
        self.routes: dict[tuple[str, str], Any] = {}
        self.calls: list[Call] = []
        self.headers: dict = {}
        self._lock = threading.Lock()

    def route(self, method: str, url: str, answer: Any) -> None:
        with self._lock:
            self.routes[(method.upper(), url)] = list(answer) if isinstance(answer, list) else answer

    def calls_to(self, method: str, url: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method.upper() and call.url == url]

    def request(self, method, url, *, headers=None, data=None, json=None, params=None, timeout=None, **_):
        call = Call(method.upper(), url, dict(headers or {}), data, json, params, timeout)
        with self._lock:
            self.calls.append(call)
            answer = self.routes.get((call.method, url))
            if isinstance(answer, list):
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer is None:
            raise requests.ConnectionError(f"FakeSession: nothing routed for {call.method} {url}")
        answered = self._answer(answer, call)
        # What a real session would have sent, for code that reads it back (http_trace).
        answered.request = requests.Request(
            call.method, url, headers=call.headers, data=data, json=json, params=params
        ).prepare()
        return answered

    def _answer(self, answer: Any, call: Call) -> requests.Response:
        if isinstance(answer, BaseException) or (isinstance(answer, type) and issubclass(answer, BaseException)):
            raise answer
        if callable(answer):
            return self._answer(answer(call), call)
        if isinstance(answer, requests.Response):
            return answer
        if isinstance(answer, tuple):
            return response(*answer[:2], headers=answer[2] if len(answer) > 2 else None)
        if isinstance(answer, dict):
            return response(200, answer)
        raise TypeError(f"FakeSession cannot answer with {answer!r}")

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, data=None, json=None, **kwargs):
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url, data=None, **kwargs):
        return self.request("PUT", url, data=data, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def mount(self, prefix, adapter) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class ProviderUrls:
    """The URLs a back end uses at the fake provider (at ``internal_url``)."""

    issuer: str
    internal_url: str
    discovery_url: str
    jwks_uri: str
    token_endpoint: str

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "authorize",
            "token_endpoint": self.issuer + "oauth/token",
            "jwks_uri": self.issuer + ".well-known/jwks.json",
            "userinfo_endpoint": self.issuer + "userinfo",
            "end_session_endpoint": self.issuer + "oidc/logout",
        }


def serve_identity_provider(
    session: FakeSession | FakeNetwork, factory: TokenFactory, internal_url: str | None = None
) -> ProviderUrls:
    """Route discovery and the JWKS (always ``factory``'s current keys) on ``session`` (a
    FakeSession or a FakeNetwork).

    Discovery names the issuer's own URLs, as the provider does; a back end with
    ``internal_url`` must reach them at that address instead.
    """
    base = (internal_url or factory.issuer).rstrip("/") + "/"
    idp = ProviderUrls(
        issuer=factory.issuer,
        internal_url=base,
        discovery_url=base + ".well-known/openid-configuration",
        jwks_uri=base + ".well-known/jwks.json",
        token_endpoint=base + "oauth/token",
    )
    session.route("GET", idp.discovery_url, lambda call: idp.discovery())
    session.route("GET", idp.jwks_uri, lambda call: factory.jwks())
    return idp


@contextmanager
def replace_requests_session(session: FakeSession) -> Iterator[FakeSession]:
    """While open, ``requests.Session()`` returns ``session`` (wrap an app factory in it)."""
    original = requests.Session
    requests.Session = lambda *args, **kwargs: session
    try:
        yield session
    finally:
        requests.Session = original
