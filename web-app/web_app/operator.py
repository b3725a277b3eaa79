"""DELETE /operator/sessions: end every web app session, e.g. before a workshop starts
again. A bearer-authenticated API for an operator's script, not a form: exempt from CSRF.

Only while the demo tools are on, and only with the operator secret (obo_common/demo_tools.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from obo_common.demo_tools import OperatorSecret, operator_only


def operator_blueprint(setup) -> Blueprint:
    bp = Blueprint("operator", __name__, url_prefix="/operator")
    only_operator = operator_only(setup.demo_tools, OperatorSecret(setup.operator_secret))

    @bp.delete("/sessions")
    @only_operator
    def end_sessions():
        return jsonify(ended=current_app.session_interface.end_all())

    return bp
