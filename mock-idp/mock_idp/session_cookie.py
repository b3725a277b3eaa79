"""The signed session cookie: Flask's, with its signer made once per secret key.

Flask opens the session at the start of every request, the token endpoint's included, and
its cookie interface builds a new signer each time. The signer depends on the secret
keys only, so one is kept per set of keys: a changed key gets a new one.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookies(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._signer: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signer = self._signer
        if signer is None or signer[0] != keys:
            signer = self._signer = (keys, super().get_signing_serializer(app))
        return signer[1]
