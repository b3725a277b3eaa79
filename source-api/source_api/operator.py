"""DELETE /operator/target-token-cache: the demo panel's way to make the next call meet a
tenant change (a switched-off exchange, a removed scope) instead of a cached Target API token.
It also forgets which key ids the JWKS cache found missing, so a key the identity provider
published since (a rotation) is fetched at its next token rather than refused for 30 seconds.

Only while the demo tools are on, and only with the operator secret (obo_common/demo_tools.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from obo_common.demo_tools import operator_only

from .services import Services, services


def operator_blueprint(setup: Services) -> Blueprint:
    bp = Blueprint("operator", __name__, url_prefix="/operator")
    only_operator = operator_only(setup.demo_tools, setup.operator)

    @bp.delete("/target-token-cache")
    @only_operator
    def forget_target_tokens():
        forgotten = services().target_tokens.forget_all()
        services().jwks.forget_misses()
        return jsonify(forgotten=forgotten)

    return bp
