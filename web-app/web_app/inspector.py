"""The flow inspector (demo tools only): every hop and token of the last login, call and
refresh, on one page; after a step-up login, also the call that met the challenge.

While the demo tools are on, the actions (the login callback, a call, a refresh) are traced
(``obo_common.http_trace``; the Source API adds its own hops to its answer) and their hops
are kept on the server for the user's session, the last of each action. ``/inspector`` shows
them to that user: their own tokens, which no other page ever shows. With the demo tools
off nothing is recorded and the page is a 404.

The record sits next to the session (a file per session id under ``<data dir>/inspector``,
or a key beside the session in Redis), not in it: writing it never writes the session, so
a call recorded alongside a refresh cannot put back the tokens the refresh replaced. It
holds tokens, so it ends with its session: deleted with it (logout, a new session id at
login, the operator) and set to expire when it does (``session_store``).
"""

from __future__ import annotations

import time
from functools import wraps

from flask import Blueprint, abort, current_app, g, render_template, request, session

from obo_common import http_trace

from . import inspector_page, session_store, step_up, token_store
from .pages import login_required
from .services import services

bp = Blueprint("inspector", __name__)
ACTIONS = {
    "auth.callback": "login",
    "pages.call_source_api": "call",
    "panel.call": "call",  # the "break it" panel's call, failed or not
    "step_up.retry": "call",  # the call sent again after a step-up login
    "pages.refresh": "refresh",
}


@bp.record_once
def _open_store(state) -> None:
    settings = state.app.extensions["web_app"].settings
    if settings.demo_tools == "off":
        return
    # Beside the sessions, wherever they are kept (files, or Redis for replicas).
    state.app.extensions["inspector"] = state.app.session_interface.records("inspector")


def recorded() -> dict | None:
    """The hops kept for this session: ``{"login": {"at", "status", "hops"}, "call": ..., "refresh": ...}``."""
    return _store().get(_key())


def _store() -> session_store.Records:
    return current_app.extensions["inspector"]  # only used while the demo tools are on


def _key() -> str:
    return key_for(session.sid)  # type: ignore[attr-defined]  # Flask-Session gives one


key_for = session_store.key_for


def _enabled() -> bool:
    return services().demo_tools.enabled()


@bp.app_context_processor
def _nav():
    return {"inspector_available": _enabled() and token_store.logged_in()}


@bp.before_app_request
def _trace_the_actions():
    if request.endpoint in ACTIONS and _enabled():
        g.inspector_key = _key()  # a login changes the session id
        if ACTIONS[request.endpoint] == "login" and step_up.waiting():
            # Read now: the new session id at login deletes the record kept beside the old one.
            g.challenged_call = (_store().get(g.inspector_key) or {}).get("call")
        http_trace.begin()


@bp.after_app_request
def _keep_the_hops(response):
    """The action's hops, kept whether it succeeded or not: a failed hop is worth seeing."""
    if request.endpoint == "auth.logout" and _enabled():
        _store().delete(_key())
    hops = http_trace.hops()
    if request.endpoint in ACTIONS and hops and token_store.logged_in():
        action = ACTIONS[request.endpoint]
        record = {} if action == "login" else recorded() or {}
        if action == "login":  # a new story: the last login's calls and refreshes are dropped
            _store().delete(g.inspector_key)
            if g.get("challenged_call"):
                # A login the Target API asked for: the call that met its challenge stays in view.
                record["step_up"] = g.challenged_call
        record[action] = {"at": int(time.time()), "status": response.status_code, "hops": hops}
        # No longer than the session: a login's session is saved after this, as long as this.
        _store().set(_key(), record, timeout=session_store.seconds_left(session))
    return response


def demo_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _enabled():
            abort(404)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/inspector")
@demo_only
@login_required
def inspector():
    page = inspector_page.build(recorded(), token_store.held_tokens())
    return render_template("inspector.html", page=page, now=int(time.time()))
