"""The ``authorization_codes``, ``refresh_tokens``, ``revoked_families``, ``derived_grants``
and ``login_grants`` tables: what a login issued, and what revoking it reaches.

A family is every refresh token of one login; a grant made by a token exchange is linked
to the family of its subject token, so revoking a login revokes what was exchanged from it.
A login's family is linked to the login session at the identity provider it came from, so
revoking it (the client's logout, or reuse detection) ends that session too.
"""

from __future__ import annotations

import sqlite3

from .database import Database, insert


class CodesAndRefreshTokens(Database):
    def save_code(self, **row) -> None:
        insert(self, "authorization_codes", row)

    def use_code(self, code_hash: str, now: int) -> tuple[sqlite3.Row | None, bool]:
        """Mark a code used, atomically. Returns the code and whether it was used before."""
        first_use = self.execute(
            "UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (now, code_hash),
        )
        rows = self.query("SELECT * FROM authorization_codes WHERE code_hash = ?", (code_hash,))
        return (rows[0] if rows else None), not first_use

    def save_refresh_token(self, **row) -> None:
        with self.transaction() as db:
            revoked = db.execute(
                "SELECT revoked_at FROM revoked_families WHERE family_id = ? UNION ALL "
                "SELECT revoked_at FROM authorization_codes WHERE code_hash = ? AND revoked_at IS NOT NULL",
                (row["family_id"], row.get("code_hash")),
            ).fetchone()
            row = dict(row, revoked_at=revoked["revoked_at"] if revoked else None)
            insert(db, "refresh_tokens", row)

    def refresh_token(self, token_hash: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None

    def mark_rotated(self, token_hash: str, now: int) -> bool:
        """True for the one request that rotates this token; False if it already was."""
        return bool(
            self.execute(
                "UPDATE refresh_tokens SET rotated_at = ? "
                "WHERE token_hash = ? AND rotated_at IS NULL AND revoked_at IS NULL",
                (now, token_hash),
            )
        )

    def revoke_family(self, family_id: str, now: int) -> int:
        """Revoke a family and every grant exchanged from it; returns how many of those."""
        with self.transaction() as db:
            return len(_revoke_families(db, [family_id], now)) - 1

    def link_grant(self, family_id: str, parent_id: str, now: int) -> bool:
        """Record that ``family_id`` was exchanged from ``parent_id``. False (and the new
        grant born revoked) when the parent was revoked meanwhile."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO derived_grants (family_id, parent_id) VALUES (?, ?)", (family_id, parent_id)
            )
            revoked = db.execute("SELECT 1 FROM revoked_families WHERE family_id = ?", (parent_id,)).fetchone()
            if revoked:
                _revoke_families(db, [family_id], now)
            return not revoked

    def link_login_session(self, family_id: str, session_id: str, now: int) -> None:
        """Record that the login ``family_id`` came from login session ``session_id``; a
        grant revoked meanwhile ends the session at once."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO login_grants (family_id, session_id) VALUES (?, ?)", (family_id, session_id)
            )
            if db.execute("SELECT 1 FROM revoked_families WHERE family_id = ?", (family_id,)).fetchone():
                _end_login_sessions(db, family_id, now)

    def grant_revoked(self, family_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM revoked_families WHERE family_id = ?", (family_id,)))

    def revoke_tokens_of_code(self, code_hash: str, now: int) -> None:
        """A replayed code: revoke what it issued, and what it is about to issue."""
        with self.transaction() as db:
            db.execute("UPDATE authorization_codes SET revoked_at = ? WHERE code_hash = ?", (now, code_hash))
            families = db.execute("SELECT DISTINCT family_id FROM refresh_tokens WHERE code_hash = ?", (code_hash,))
            _revoke_families(db, [family_id for (family_id,) in families.fetchall()], now)
            db.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE code_hash = ? AND revoked_at IS NULL",
                (now, code_hash),
            )


def _revoke_families(db: sqlite3.Connection, family_ids: list[str], now: int) -> list[str]:
    """Revoke these families and, transitively, the grants exchanged from them."""
    revoked, pending = [], list(family_ids)
    while pending:
        family_id = pending.pop()
        if family_id in revoked:
            continue
        revoked.append(family_id)
        db.execute("INSERT OR IGNORE INTO revoked_families (family_id, revoked_at) VALUES (?, ?)", (family_id, now))
        db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", (now, family_id)
        )
        _end_login_sessions(db, family_id, now)
        children = db.execute("SELECT family_id FROM derived_grants WHERE parent_id = ?", (family_id,))
        pending.extend(child for (child,) in children.fetchall())
    return revoked


def _end_login_sessions(db: sqlite3.Connection, family_id: str, now: int) -> None:
    """End the login session a revoked login came from: its cookie logs nobody in any more."""
    db.execute(
        "UPDATE login_sessions SET ended_at = ? WHERE ended_at IS NULL "
        "AND session_id IN (SELECT session_id FROM login_grants WHERE family_id = ?)",
        (now, family_id),
    )
