"""The tenant as it is now: the file's settings plus changes made through the Management API.

The current tenant document lives in SQLite with a version number, so a change made by
one gunicorn worker is seen by every other at its next request, and survives a restart.
A change is validated as a whole tenant before it is stored: nothing is half-applied.
When the tenant file itself changes between two starts, the file wins.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable

from .storage import Storage
from .tenant import Tenant, parse_tenant

log = logging.getLogger(__name__)


class TenantStore:
    def __init__(self, storage: Storage, issuer: str, file_tenant: Tenant):
        self.storage = storage
        self.issuer = issuer
        self.file_document = _document(file_tenant)
        self._cached: tuple[int, Tenant] | None = None
        self._lock = threading.Lock()
        self._adopt_file_if_changed()

    def current(self) -> Tenant:
        version = self.storage.query("SELECT version FROM tenant_state WHERE id = 1")[0]["version"]
        cached = self._cached
        if cached and cached[0] == version:
            return cached[1]
        with self._lock:
            row = self.storage.query("SELECT version, document FROM tenant_state WHERE id = 1")[0]
            tenant = parse_tenant(json.loads(row["document"]), self.issuer)
            self._cached = (row["version"], tenant)
            return tenant

    def change(self, edit: Callable[[dict], None]) -> Tenant:
        """Apply ``edit`` to a copy of the current document, validate, then store it.

        Raises TenantError (naming the field) and stores nothing if the result is invalid.
        """
        with self.storage.transaction() as db:
            row = db.execute("SELECT version, document FROM tenant_state WHERE id = 1").fetchone()
            document = json.loads(row["document"])
            edit(document)
            tenant = parse_tenant(document, self.issuer)
            db.execute(
                "UPDATE tenant_state SET version = ?, document = ? WHERE id = 1",
                (row["version"] + 1, json.dumps(_document(tenant))),
            )
        return tenant

    def reset(self) -> Tenant:
        """Put the tenant back to the file's settings."""
        return self.change(lambda document: (document.clear(), document.update(self.file_document)))

    def _adopt_file_if_changed(self) -> None:
        digest = hashlib.sha256(json.dumps(self.file_document, sort_keys=True).encode()).hexdigest()
        with self.storage.transaction() as db:
            row = db.execute("SELECT version, file_digest FROM tenant_state WHERE id = 1").fetchone()
            if row and row["file_digest"] == digest:
                return
            if row:
                log.warning("the tenant file changed: Management API changes were replaced by the file")
            db.execute(
                "INSERT INTO tenant_state (id, version, file_digest, document) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
                "file_digest = excluded.file_digest, document = excluded.document",
                ((row["version"] + 1) if row else 1, digest, json.dumps(self.file_document)),
            )


def _document(tenant: Tenant) -> dict:
    document = tenant.model_dump(mode="json")
    document["resource_servers"] = [r for r in document["resource_servers"] if not r.get("is_system")]
    return document
