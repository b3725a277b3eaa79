"""The identity provider's state for one app: settings, tenant, storage, signing keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_request_context

from .keys import SigningKeys
from .rate_limits import RateLimiter
from .rules import RuleRunner
from .settings import Settings
from .storage import Storage
from .tenant import MANAGEMENT_API_PATH, Tenant
from .tenant_store import TenantStore


@dataclass
class MockIdpState:
    settings: Settings
    storage: Storage
    keys: SigningKeys
    tenants: TenantStore
    rate_limiter: RateLimiter
    rules: RuleRunner
    server: Any = None  # the AuthorizationServer, set once it is built

    def tenant(self) -> Tenant:
        """The tenant as it is now; one consistent snapshot for the whole request."""
        if not has_request_context():
            return self.tenants.current()
        tenant = g.get("tenant")  # one lookup: a request asks for the tenant many times
        if tenant is None:
            tenant = g.tenant = self.tenants.current()
        return tenant

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    @property
    def userinfo_url(self) -> str:
        return self.settings.url("userinfo")

    @property
    def management_audience(self) -> str:
        return self.settings.url(MANAGEMENT_API_PATH)


def idp() -> MockIdpState:
    return current_app.extensions["mock_idp"]
