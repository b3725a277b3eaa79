"""The ``settings`` table: values made once and shared by every worker (the session secret)."""

from __future__ import annotations

from collections.abc import Callable

from .database import Database


class StoredSettings(Database):
    def setting(self, name: str, make_value: Callable[[], str]) -> str:
        """The stored value of a setting, created by make_value() on first use."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
            if row:
                return row["value"]
            value = make_value()
            db.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
            return value
