"""The Target API's step-up requirement (TARGET_API_STEP_UP_*): a call needing one of the
configured scopes is refused, 401 with an RFC 9470 challenge, when the token's login is
not strong enough (T45) or not recent enough (T46). The token is checked first (placed
under ``require_scope``)."""

from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify

from obo_common import current_claims
from obo_common.step_up import ERROR

from .services import services


def step_up_for(scope: str):
    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            found = services()
            if scope in found.step_up_scopes:
                required = found.step_up
                why = required.unmet(dict(current_claims))
                if why:
                    realm = current_app.extensions["bearer_protector"].realm
                    response = jsonify(error=ERROR, error_description=why, **required.as_json())
                    response.status_code = 401
                    response.headers["WWW-Authenticate"] = required.challenge(realm, why)
                    response.headers["Cache-Control"] = "no-store"
                    return response
            return view(*args, **kwargs)

        return guarded

    return decorator
