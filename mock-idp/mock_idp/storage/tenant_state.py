"""The ``tenant_state`` table: the one current tenant document, its version, the file's digest.

The document is stored as JSON; every change adds one to the version, so each worker
knows with one small read whether the tenant it holds is still current.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .database import Database


class TenantState(Database):
    def tenant_version(self) -> int:
        return self.query("SELECT version FROM tenant_state WHERE id = 1")[0]["version"]

    def tenant_document(self) -> tuple[int, dict]:
        row = self.query("SELECT version, document FROM tenant_state WHERE id = 1")[0]
        return row["version"], json.loads(row["document"])

    def change_tenant_document(self, change: Callable[[dict], dict]) -> None:
        """Store ``change(current document)`` as the next version, in one transaction.

        Nothing is stored when ``change`` raises: a refused edit leaves the tenant as it was.
        """
        with self.transaction() as db:
            row = db.execute("SELECT version, document FROM tenant_state WHERE id = 1").fetchone()
            document = change(json.loads(row["document"]))
            db.execute(
                "UPDATE tenant_state SET version = ?, document = ? WHERE id = 1",
                (row["version"] + 1, json.dumps(document)),
            )

    def adopt_tenant_file(self, file_digest: str, document: Callable[[], dict]) -> bool:
        """Make the file's document (made by ``document()``, only when needed) current
        unless this file was adopted already.

        True when it replaced a document stored from another file (or another version of it).
        """
        with self.transaction() as db:
            row = db.execute("SELECT version, file_digest FROM tenant_state WHERE id = 1").fetchone()
            if row and row["file_digest"] == file_digest:
                return False
            db.execute(
                "INSERT INTO tenant_state (id, version, file_digest, document) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
                "file_digest = excluded.file_digest, document = excluded.document",
                ((row["version"] + 1) if row else 1, file_digest, json.dumps(document())),
            )
            return row is not None
