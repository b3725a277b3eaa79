"""Adapters: tenant clients and stored codes and refresh tokens, seen through the
interfaces (mixins) Authlib's grants and endpoints call."""

from __future__ import annotations

import sqlite3

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from typing_extensions import override

from . import clock
from .secret_hashing import verify_client_secret
from .tenant import Client

TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_post", "client_secret_basic")


class OAuthClient(ClientMixin):
    def __init__(self, client: Client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    @override
    def get_client_id(self):
        return self.client.client_id

    @override
    def get_default_redirect_uri(self):
        return None  # redirect_uri is always required, and must be listed exactly

    @override
    def get_allowed_scope(self, scope):
        return scope or ""  # filtered against the requested API once the audience is known

    @override
    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.client.callbacks

    @override
    def check_client_secret(self, client_secret):
        return verify_client_secret(self.client.client_secret, client_secret)

    @override
    def check_endpoint_auth_method(self, method, endpoint):
        return method in TOKEN_ENDPOINT_AUTH_METHODS

    @override
    def check_response_type(self, response_type):
        return response_type == "code" and "authorization_code" in self.client.grant_types

    @override
    def check_grant_type(self, grant_type):
        return grant_type in self.client.grant_types


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, row: sqlite3.Row):
        self.row = row

    def __getattr__(self, name):
        return _column(self.row, name)

    @override
    def get_redirect_uri(self):
        return self.row["redirect_uri"]

    @override
    def get_scope(self):
        return self.row["scope"]

    @override
    def is_expired(self):
        return self.row["expires_at"] <= clock.now()


class RefreshToken(TokenMixin):
    def __init__(self, row: sqlite3.Row):
        self.row = row

    def __getattr__(self, name):
        return _column(self.row, name)

    @override
    def check_client(self, client):
        return self.row["client_id"] == client.get_client_id()

    @override
    def get_scope(self):
        return self.row["scope"]

    @override
    def get_expires_in(self):
        return self.row["expires_at"] - self.row["created_at"]

    @override
    def is_expired(self):
        return self.row["expires_at"] <= clock.now()

    @override
    def is_revoked(self):
        return self.row["revoked_at"] is not None


def _column(row: sqlite3.Row, name: str):
    try:
        return row[name]
    except IndexError:
        raise AttributeError(name) from None
