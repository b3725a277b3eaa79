"""The flow inspector (demo tools only): every hop and token of the last login, call and
refresh, on one page.

While the demo tools are on, the actions (the login callback, a call, a refresh) are traced
(``obo_common.http_trace``; the Source API adds its own hops to its answer) and their hops
are kept in the user's server-side session, the last of each action. ``/inspector`` shows
them to that user: their own tokens, which no other page ever shows. With the demo tools
off nothing is recorded and the page is a 404.
"""

from __future__ import annotations

import time
from functools import wraps

from flask import Blueprint, abort, render_template, request, session

from obo_common import http_trace

from . import inspector_page, token_store
from .pages import login_required
from .services import services

bp = Blueprint("inspector", __name__)
RECORD = "inspector"
ACTIONS = {"auth.callback": "login", "pages.call_source_api": "call", "pages.refresh": "refresh"}


def _enabled() -> bool:
    return services().settings.demo_tools_enabled


@bp.app_context_processor
def _nav():
    return {"inspector_available": _enabled() and token_store.logged_in()}


@bp.before_app_request
def _trace_the_actions():
    if request.endpoint in ACTIONS and _enabled():
        http_trace.begin()


@bp.after_app_request
def _keep_the_hops(response):
    """The action's hops, kept whether it succeeded or not: a failed hop is worth seeing."""
    hops = http_trace.hops()
    if request.endpoint in ACTIONS and hops and token_store.logged_in():
        action = ACTIONS[request.endpoint]
        # A new login starts a new story: the calls and refreshes of the last one are dropped.
        record = {} if action == "login" else dict(session.get(RECORD) or {})
        record[action] = {"at": int(time.time()), "status": response.status_code, "hops": hops}
        session[RECORD] = record
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
    page = inspector_page.build(session.get(RECORD), token_store.held_tokens())
    return render_template("inspector.html", page=page, now=int(time.time()))
