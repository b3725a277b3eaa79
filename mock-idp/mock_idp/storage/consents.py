"""The ``consents`` table: the scopes each user granted each client for each API."""

from __future__ import annotations

from .database import Database


class Consents(Database):
    def consented_scopes(self, user_id: str, client_id: str, audience: str) -> set[str]:
        rows = self.query(
            "SELECT scope FROM consents WHERE user_id = ? AND client_id = ? AND audience = ?",
            (user_id, client_id, audience),
        )
        return set(rows[0]["scope"].split()) if rows else set()

    def save_consent(self, user_id: str, client_id: str, audience: str, scopes: set[str], now: int):
        with self.transaction() as db:
            row = db.execute(
                "SELECT scope FROM consents WHERE user_id = ? AND client_id = ? AND audience = ?",
                (user_id, client_id, audience),
            ).fetchone()
            merged = set(row["scope"].split()) if row else set()
            merged |= scopes
            db.execute(
                "INSERT OR REPLACE INTO consents (user_id, client_id, audience, scope, granted_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user_id, client_id, audience, " ".join(sorted(merged)), now),
            )

    def consents(self, user_id: str | None = None) -> list[dict]:
        sql = "SELECT rowid AS id, user_id, client_id, audience, scope, granted_at FROM consents"
        rows = self.query(sql + " WHERE user_id = ?", (user_id,)) if user_id else self.query(sql)
        return [dict(row) for row in rows]

    def delete_consent(self, consent_id: int) -> bool:
        return bool(self.execute("DELETE FROM consents WHERE rowid = ?", (consent_id,)))

    def delete_consents_of(self, user_id: str) -> int:
        return self.execute("DELETE FROM consents WHERE user_id = ?", (user_id,))
