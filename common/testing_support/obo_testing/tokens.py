"""Access tokens as the identity provider signs them, and a clock the tests move."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

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
