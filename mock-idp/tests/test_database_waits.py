"""A statement that finds the database locked by another connection waits without stopping
the worker: under gunicorn's gevent worker, the other greenlets of the process go on.

Run in a child process patched by gevent, as a worker is (patching this one would change
every other test): one greenlet holds the write lock and waits for an event; a second one
writes; the first must still be able to run, set free by the main greenlet, and the second's
write must then succeed. SQLite's own wait (busy_timeout) would sleep in C, the holder could
never run, and the write would fail with "database is locked" after the whole timeout.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
from gevent import monkey

monkey.patch_all()

import sys
from pathlib import Path

import gevent
from gevent.event import Event

from mock_idp.storage.database import Database

db = Database(Path(sys.argv[1]))
held, release = Event(), Event()


def hold():
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (name, value) VALUES ('held', '1')")
        held.set()
        release.wait()  # yields to the other greenlets with the write lock held


def write():
    db.execute("INSERT INTO settings (name, value) VALUES ('waited', '1')")


holder = gevent.spawn(hold)
held.wait()
writer = gevent.spawn(write)
gevent.sleep(0)  # the writer's first try: the database is locked
print("writer done while locked:", writer.ready())
release.set()
gevent.joinall([holder, writer])
print("writer failed:", writer.exception)
print("rows:", sorted(row["name"] for row in db.query("SELECT name FROM settings WHERE name IN ('held', 'waited')")))
"""


def test_a_write_waits_for_the_lock_while_the_holder_goes_on(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "mock-idp.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "writer done while locked: False",
        "writer failed: None",
        "rows: ['held', 'waited']",
    ], done.stderr
