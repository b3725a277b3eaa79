"""DELETE /operator/sessions: end every web app session, e.g. before a workshop starts
again. A bearer-authenticated API for an operator's script, not a form: exempt from CSRF.

Only while the demo tools are on, and only with the operator secret (obo_common/demo_tools.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from obo_common.demo_tools import OperatorSecret, operator_only

from . import redis_sessions


def operator_blueprint(settings) -> Blueprint:
    bp = Blueprint("operator", __name__, url_prefix="/operator")
    only_operator = operator_only(
        settings.demo_tools_enabled, OperatorSecret(settings.operator_secret.get_secret_value())
    )

    @bp.delete("/sessions")
    @only_operator
    def end_sessions():
        if redis_sessions.in_use(current_app):
            return jsonify(ended=redis_sessions.end_all(current_app))
        # Flask-Session keeps one file per session in this cache (see create_app).
        store = current_app.config["SESSION_CACHELIB"]
        ended = sum(1 for _ in store._list_dir())  # the session files, without the cache's own
        store.clear()
        return jsonify(ended=ended)

    return bp
