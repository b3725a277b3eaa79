"""Server-side sessions: anonymous traffic cannot push a logged-in user out, and the flow
inspector's record (tokens) ends with its session."""

from __future__ import annotations

import time

import pytest

from web_app.inspector import key_for

from .browser import Browser


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"demo_tools": "on"})


def inspector_record(browser: Browser):
    records = browser.client.application.extensions["inspector"]
    return records, key_for(browser.client.get_cookie("web_app_session").value)


def test_a_flood_of_anonymous_logins_does_not_log_a_user_out(app, settings, logged_in):
    # The user logged in a minute before the flood (a store that evicts evicts them first).
    store, sid = app.session_interface.cache, logged_in.client.get_cookie("web_app_session").value
    store.set("session:" + sid, store.get("session:" + sid), timeout=settings.session_lifetime - 60)
    flood = app.test_client()
    for _ in range(1100):  # more than the store of unfinished logins holds
        flood.delete_cookie("web_app_session")
        assert flood.get("/login").status_code == 302

    assert logged_in.client.get("/profile").status_code == 200


def test_unfinished_logins_are_kept_apart_and_bounded(app, logged_in):
    sessions = app.session_interface
    for _ in range(30):
        app.test_client().get("/login")

    assert sum(1 for _ in sessions.logins._list_dir()) == 1  # only the logged-in user
    assert sum(1 for _ in sessions.pending._list_dir()) == 30


def test_a_login_started_in_the_flood_still_finishes(app, idp):
    browser = Browser(app.test_client(), idp)
    location = browser.start_login()
    for _ in range(20):
        app.test_client().get("/login")
    browser.callback(browser.authorize(location))
    assert browser.client.get("/profile").status_code == 200


def test_the_inspector_record_is_deleted_with_its_session_at_a_new_login(app, logged_in):
    assert logged_in.post("/call", endpoint="contacts").status_code == 200
    records, first = inspector_record(logged_in)
    assert records.get(first)

    logged_in.log_in()  # a new session id: the old session and its record are gone

    assert records.get(first) is None
    assert not records.has(first)


def test_the_inspector_record_expires_with_its_session_and_is_swept(app, logged_in):
    logged_in.post("/call", endpoint="contacts")
    records, key = inspector_record(logged_in)
    sessions = app.session_interface
    assert records.has(key)

    sessions.clock = lambda: time.time() + 8 * 3600 + 1  # past the session's lifetime
    sessions.sweep()

    assert sum(1 for _ in records._list_dir()) == 0  # the file itself is gone, not only unread
    assert sum(1 for _ in sessions.logins._list_dir()) == 0
    assert logged_in.client.get("/profile").status_code == 401


def test_a_call_does_not_keep_the_record_past_its_session(app, logged_in):
    sessions = app.session_interface
    csrf = logged_in.csrf_token()  # the session as the call finds it, saved
    sid = logged_in.client.get_cookie("web_app_session").value
    saved = sessions.logins.get("session:" + sid)
    sessions.logins.set("session:" + sid, {**saved, "_expires_at": int(time.time()) + 60}, timeout=60)

    logged_in.client.post("/call", data={"csrf_token": csrf, "endpoint": "contacts"})

    records, key = inspector_record(logged_in)
    with open(records._get_filename(key), "rb") as record:
        expires = int.from_bytes(record.read(4), "little")
    assert expires <= time.time() + 61


def test_the_operator_ends_logged_in_and_pending_sessions_and_the_records(app, logged_in):
    logged_in.post("/call", endpoint="contacts")
    app.test_client().get("/login")
    ended = app.session_interface.end_all()
    assert ended == 1
    records, _ = inspector_record(logged_in)
    assert sum(1 for _ in records._list_dir()) == 0
    assert sum(1 for _ in app.session_interface.pending._list_dir()) == 0
