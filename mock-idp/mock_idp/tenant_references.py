"""The tenant's cross-references: every id a tenant names is one it has.

Field types and ranges are the model's (``tenant.py``); what cannot be checked one field at
a time is checked here, once the whole tenant is parsed. Each check refuses with the path
of the field at fault and what is wrong with it; the first problem found is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tenant import ApiPairing, Tenant


def _ids_are_unique(tenant: Tenant) -> None:
    _unique("clients", [c.client_id for c in tenant.clients])
    _unique("resource_servers", [r.identifier for r in tenant.resource_servers])
    _unique("resource_servers (id)", [r.id for r in tenant.resource_servers])
    _unique("users", [u.user_id for u in tenant.users])
    _unique("users (email)", [u.email.lower() for u in tenant.users])
    _unique("rules", [r.name for r in tenant.rules])


def _unique(what: str, values: list[str]) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what}: {value!r} appears twice")
        seen.add(value)


def _exchange_clients_exist(tenant: Tenant) -> None:
    """An API with token exchange on names a client of this tenant as its exchanging client."""
    for i, api in enumerate(tenant.resource_servers):
        exchange = api.token_exchange
        where = f"resource_servers.{i}.token_exchange.client_id"
        if exchange.enabled and exchange.client_id is None:
            raise ValueError(f"{where}: token exchange is enabled but names no client")
        if exchange.enabled and tenant.client(exchange.client_id) is None:
            raise ValueError(f"{where}: {exchange.client_id!r} is not a client of this tenant")


def _custom_api_clients_resolve(tenant: Tenant) -> None:
    """A client's resource_server_identifier names an API of this tenant, and only a Custom
    API client (app_type resource_server) has one."""
    for i, client in enumerate(tenant.clients):
        if client.resource_server_identifier is None:
            continue
        where = f"clients.{i}.resource_server_identifier"
        if client.app_type != "resource_server":
            raise ValueError(f"{where}: only a client of app_type resource_server (a Custom API client) has one")
        _require_tenant_api(tenant, client.resource_server_identifier, where)


def _default_audience_exists(tenant: Tenant) -> None:
    if tenant.default_audience:
        _require_tenant_api(tenant, tenant.default_audience, "default_audience")


def _pairings_resolve(tenant: Tenant) -> None:
    """Pairings are checked one after the other, each completely."""
    for i, pairing in enumerate(tenant.api_pairings):
        _pairing_ends_are_tenant_apis(tenant, i, pairing)
        _pairing_joins_two_apis(i, pairing)
        _pairing_scopes_are_target_scopes(tenant, i, pairing)


def _pairing_ends_are_tenant_apis(tenant: Tenant, i: int, pairing: ApiPairing) -> None:
    for end in ("source", "target"):
        _require_tenant_api(tenant, getattr(pairing, end), f"api_pairings.{i}.{end}")


def _pairing_joins_two_apis(i: int, pairing: ApiPairing) -> None:
    if pairing.source == pairing.target:
        raise ValueError(f"api_pairings.{i}: an API cannot be paired with itself")


def _pairing_scopes_are_target_scopes(tenant: Tenant, i: int, pairing: ApiPairing) -> None:
    target = tenant.resource_server(pairing.target)
    if target is None:
        return  # _pairing_ends_are_tenant_apis, run first, has refused an unknown target
    for scope in pairing.scopes:
        if scope not in target.scope_values:
            raise ValueError(f"api_pairings.{i}.scopes: {scope!r} is not a scope of {target.identifier}")


def _client_grants_resolve(tenant: Tenant) -> None:
    """A client grant names a client, an API (the Management API too) and scopes of that API."""
    for i, grant in enumerate(tenant.client_grants):
        if tenant.client(grant.client_id) is None:
            raise ValueError(f"client_grants.{i}.client_id: {grant.client_id!r} is not a client")
        api = tenant.resource_server(grant.audience)
        if api is None:
            raise ValueError(f"client_grants.{i}.audience: no resource server {grant.audience!r}")
        for scope in grant.scope:
            if scope not in api.scope_values:
                raise ValueError(f"client_grants.{i}.scope: {scope!r} is not a scope of {api.identifier}")


def _require_tenant_api(tenant: Tenant, identifier: str, where: str) -> None:
    """``identifier`` names an API of this tenant; the built-in Management API is not one."""
    api = tenant.resource_server(identifier)
    if api is None:
        raise ValueError(f"{where}: no resource server {identifier!r}")
    if api.is_system:
        raise ValueError(f"{where}: {identifier!r} is the built-in Management API, not an API of this tenant")


# Run in this order; the first problem found is the one reported.
CROSS_REFERENCE_CHECKS: tuple[Callable[[Tenant], None], ...] = (
    _ids_are_unique,
    _exchange_clients_exist,
    _custom_api_clients_resolve,
    _default_audience_exists,
    _pairings_resolve,
    _client_grants_resolve,
)
