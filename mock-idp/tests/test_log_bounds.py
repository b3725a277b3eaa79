"""The tenant log is bounded: entries beyond a count and older than an age are dropped as
new ones are written, a caller's text is cut before it is stored, and the page and its feed
never count the whole table to show a page."""

from __future__ import annotations

import json
import sqlite3

import pytest

from mock_idp.storage.database import Database

from .flows import Flows, Management

DAY = 24 * 3600


def entry_size(entry: dict) -> int:
    return len(json.dumps(entry, ensure_ascii=False))


def test_a_callers_long_text_is_cut_before_it_is_stored(flows):
    long = "a" * 5000
    flows.backend.post("/oauth/token", data={"grant_type": long, "client_id": long, "scope": "s" * 5000})
    flows.backend.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x", "scope": long, **{
        "client_id": "web-app", "client_secret": "web-app-secret"}})  # fmt: skip

    for entry in flows.logs(limit=2):
        assert entry_size(entry) < 2000, entry
    assert flows.logs(limit=1)[0]["details"]["scope"].endswith("…")


def test_entries_beyond_the_retained_count_are_dropped_oldest_first(make_app):
    flows = Flows(make_app(log_retention_entries=5))
    for number in range(8):
        flows.refresh(f"r{number}", headers={"X-Request-Id": f"r{number}"})

    kept = flows.logs(limit=100)
    assert [e["details"]["request_id"] for e in kept] == ["r7", "r6", "r5", "r4", "r3"]


def test_entries_older_than_the_retained_age_are_dropped(make_app, clock_at):
    flows = Flows(make_app(log_retention_days=2))
    flows.refresh("old", headers={"X-Request-Id": "old"})
    clock_at(DAY)
    flows.refresh("a day later", headers={"X-Request-Id": "day-1"})
    clock_at(2 * DAY + 60)
    flows.refresh("two days later", headers={"X-Request-Id": "day-2"})

    assert [e["details"]["request_id"] for e in flows.logs(limit=100)] == ["day-2", "day-1"]


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every SQL statement the storage runs from now on."""
    seen: list[str] = []
    original = Database._connection

    def traced(self) -> sqlite3.Connection:
        connection = original(self)
        connection.set_trace_callback(seen.append)
        return connection

    monkeypatch.setattr(Database, "_connection", traced)
    return seen


def _counts_everything(sql: str) -> bool:
    return "COUNT(" in sql.upper() and " LIMIT " not in sql.upper()


@pytest.mark.parametrize("path", ["/logs", "/logs?page=3&per_page=10", "/logs/feed", "/logs/feed?per_page=5"])
def test_the_page_and_the_feed_count_no_more_than_they_show(flows, statements, path):
    for _ in range(3):
        flows.refresh("x")
    statements.clear()

    assert flows.browser.get(path).status_code == 200

    assert [sql for sql in statements if "logs" in sql and _counts_everything(sql)] == []


def test_the_management_api_counts_only_when_asked_for_totals(flows, statements):
    api = Management(flows, scope="read:logs")
    statements.clear()
    assert api.get("/logs", per_page=5).status_code == 200
    assert [sql for sql in statements if "logs" in sql and _counts_everything(sql)] == []
    assert api.get("/logs", per_page=5, include_totals="true").json["total"] >= 1


def test_the_page_says_more_than_it_counted(make_app, monkeypatch):
    from mock_idp.views import logs as logs_view

    monkeypatch.setattr(logs_view, "COUNTED_AT_MOST", 3)
    flows = Flows(make_app())
    for _ in range(5):
        flows.refresh("x")
    page = flows.browser.get("/logs?per_page=2").text
    assert "more than 3 entries" in page
    assert 'data-capped="true"' in page
    assert ">Older<" in flows.browser.get("/logs?per_page=2&page=1").text
    assert ">Older<" not in flows.browser.get("/logs?per_page=2&page=2").text  # the fifth, the last
