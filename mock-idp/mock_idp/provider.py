"""The identity provider's state for one app: settings, tenant, storage, signing keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from .keys import SigningKeys
from .settings import Settings
from .storage import Storage
from .tenant import Tenant


@dataclass
class IdentityProvider:
    settings: Settings
    storage: Storage
    keys: SigningKeys
    initial_tenant: Tenant
    server: Any = None  # the AuthorizationServer, set once it is built

    def tenant(self) -> Tenant:
        return self.initial_tenant

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    @property
    def userinfo_url(self) -> str:
        return self.settings.url("userinfo")


def idp() -> IdentityProvider:
    return current_app.extensions["mock_idp"]
