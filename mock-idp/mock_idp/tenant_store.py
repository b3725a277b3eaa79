"""The tenant as it is now: the file's settings plus changes made through the Management API.

The current tenant document lives in SQLite with a version number, so a change made by
one gunicorn worker is seen by every other at its next request, and survives a restart.
A change is validated as a whole tenant before it is stored: nothing is half-applied.
When the tenant file itself changes between two starts, the file wins.

Passwords and client secrets are stored hashed (``secret_hashing``): a clear value from
the file or the Management API is hashed before it is stored, and a document stored
clear by an older version is hashed once, when a worker starts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable

from .secret_hashing import DEFAULT_PASSWORD_COST, has_clear_secrets, hash_secrets
from .storage import Storage
from .tenant import Tenant, parse_tenant

log = logging.getLogger(__name__)


class TenantStore:
    def __init__(self, storage: Storage, issuer: str, file_tenant: Tenant, password_cost: int = DEFAULT_PASSWORD_COST):
        self.storage = storage
        self.issuer = issuer
        self.password_cost = password_cost
        self.file_document = _document(file_tenant)  # as the file says: clear values stay clear
        self._cached: tuple[int, Tenant] | None = None
        self._lock = threading.Lock()
        self._adopt_file_if_changed()
        self._hash_clear_secrets()

    def current(self) -> Tenant:
        version = self.storage.tenant_version()
        cached = self._cached
        if cached and cached[0] == version:
            return cached[1]
        with self._lock:
            version, document = self.storage.tenant_document()
            tenant = parse_tenant(document, self.issuer)
            self._cached = (version, tenant)
            return tenant

    def change(self, edit: Callable[[dict], None]) -> Tenant:
        """Apply ``edit`` to a copy of the current document, validate, then store it.

        Raises TenantError (naming the field) and stores nothing if the result is invalid.
        """
        tenant: Tenant | None = None

        def validated(document: dict) -> dict:
            nonlocal tenant
            edit(document)
            document = hash_secrets(document, self.password_cost)
            tenant = parse_tenant(document, self.issuer)  # raises before anything is stored
            return _document(tenant)

        self.storage.change_tenant_document(validated)
        assert tenant is not None
        return tenant

    def reset(self) -> Tenant:
        """Put the tenant back to the file's settings."""

        def back_to_the_file(document: dict) -> None:
            document.clear()
            document.update(self.file_document)

        return self.change(back_to_the_file)

    def _adopt_file_if_changed(self) -> None:
        # The digest is of the file's values, so the same file is recognised at every start
        # (a hash has a new salt each time it is made).
        digest = hashlib.sha256(json.dumps(self.file_document, sort_keys=True).encode()).hexdigest()
        if self.storage.adopt_tenant_file(digest, lambda: hash_secrets(self.file_document, self.password_cost)):
            log.warning("the tenant file changed: Management API changes were replaced by the file")

    def _hash_clear_secrets(self) -> None:
        """The migration from a store that kept them clear: hash them, change nothing else."""
        _, document = self.storage.tenant_document()
        if has_clear_secrets(document):
            self.change(lambda _: None)  # ``change`` hashes what is clear
            log.warning("clear passwords or client secrets in the stored tenant were hashed")


def _document(tenant: Tenant) -> dict:
    document = tenant.model_dump(mode="json")
    document["resource_servers"] = [r for r in document["resource_servers"] if not r.get("is_system")]
    return document
