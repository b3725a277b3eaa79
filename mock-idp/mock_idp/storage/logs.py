"""The ``logs`` table: the tenant log entries, searched the way the Management API does."""

from __future__ import annotations

import json

from .database import Database, insert


class TenantLogs(Database):
    def append_log(self, entry: dict, keep: int | None = None, since: str | None = None) -> None:
        """Store ``entry``; then drop what is beyond the newest ``keep`` entries or dated
        before ``since``. Both deletes walk an index from the oldest end, so each costs
        what it deletes (mostly one entry, or none), not the table."""
        row = dict(entry, details=json.dumps(entry.get("details") or {}, sort_keys=True))
        with self.transaction() as db:
            insert(db, "logs", row)
            if keep is not None:
                db.execute("DELETE FROM logs WHERE seq <= (SELECT MAX(seq) FROM logs) - ?", (keep,))
            if since is not None:
                db.execute("DELETE FROM logs WHERE date < ?", (since,))

    def logs(
        self,
        limit: int = 50,
        offset: int = 0,
        types: tuple[str, ...] = (),
        since: str | None = None,
        until: str | None = None,
        after: str | None = None,
        hide_client_credentials_of: tuple[str, ...] = (),
        count_at_most: int | None = None,
        **filters,
    ) -> tuple[list[dict], int]:
        """Log entries, newest first, and how many match in all (or, with ``count_at_most``,
        how many up to that bound: a page needs to know whether there is more, not how much).

        ``after`` (a log_id) keeps the entries written after that one; of those, the
        ``limit`` oldest are answered, so a reader that polls with the newest id it has
        catches up without a gap. An unknown id matches nothing.
        ``hide_client_credentials_of`` leaves out the client_credentials entries
        (``seccft``/``feccft``) of those clients: the Management API's own token requests,
        which would drown a workshop's log.
        """
        where, params = [], []
        for column in ("client_id", "user_id", "audience", "log_id"):
            if filters.get(column):
                where.append(f"{column} = ?")
                params.append(filters[column])
        if types:
            where.append(f"type IN ({','.join('?' for _ in types)})")
            params.extend(types)
        if since:
            where.append("date >= ?")
            params.append(since)
        if until:
            where.append("date <= ?")
            params.append(until)
        if after:
            where.append("seq > (SELECT seq FROM logs WHERE log_id = ?)")
            params.append(after)
        if hide_client_credentials_of:
            # COALESCE: an entry without a client (NULL) is not one of theirs, and stays.
            marks = ",".join("?" for _ in hide_client_credentials_of)
            where.append(f"NOT (type IN ('seccft', 'feccft') AND COALESCE(client_id, '') IN ({marks}))")
            params.extend(hide_client_credentials_of)
        condition = (" WHERE " + " AND ".join(where)) if where else ""
        if count_at_most is None:
            total = self.query(f"SELECT COUNT(*) AS n FROM logs{condition}", params)[0]["n"]
        else:
            counted = f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM logs{condition} LIMIT ?)"
            total = self.query(counted, (*params, count_at_most))[0]["n"]
        order = "ASC" if after else "DESC"
        sql = f"SELECT * FROM logs{condition} ORDER BY seq {order} LIMIT ? OFFSET ?"
        rows = self.query(sql, (*params, limit, offset))
        if after:
            rows.reverse()
        entries = [dict(row, details=json.loads(row["details"])) for row in rows]
        for entry in entries:
            del entry["seq"]
        return entries, total

    def clear_logs(self) -> int:
        """Delete every log entry; returns how many there were."""
        return self.execute("DELETE FROM logs")
