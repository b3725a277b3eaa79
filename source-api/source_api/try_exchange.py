"""The flow inspector's "try it": the Source API's token exchange and refresh, with the
parameters an attendee changed, answered as the identity provider answered.

``GET /demo/token-exchange`` gives what the Source API sends in its own exchange (audience,
scope, and for the current profile requested_token_type and the actor token);
``POST /demo/token-exchange`` sends an exchange with the given values, and
``POST /demo/refresh`` a refresh of the Target API refresh token the last tried exchange
returned. The Source API fills in its client credentials here: they never leave it. The
subject token is always the caller's own access token (validated like every other call),
never a value of the request, so nobody tries an exchange with someone else's token.

Demo tools only (otherwise 404), and only beside the operator secret in ``X-Obo-Operator``
(the web app sends it, as for the trace): a user token alone does not make the Source API
exchange with values its holder chose (otherwise 404 too). A tried exchange counts against
the user's exchange budget like a real one (429); the provider's own rate limits answer as
they would. Bad input is a 400 that says what was wrong, and nothing is sent.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Annotated, Literal

import requests
from flask import Blueprint, abort, jsonify, request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from obo_common import IdentityProviderUnavailable, current_claims, request_id, require_scope
from obo_common.bearer import bearer_token
from obo_common.demo_tools import OPERATOR_HEADER
from obo_common.http_trace import MASK

from .problems import UpstreamTimeout, UpstreamUnavailable
from .services import Services, services
from .token_exchange import ACCESS_TOKEN_TYPE, IDP, TOKEN_EXCHANGE

#: the scope the Source API's own exchange needs from the user's token
NEEDED_SCOPE = "read:contacts"
#: how the answer names the values the browser must not see
ACTOR_TOKEN_SHOWN = "(the Source API's own client-credentials token)"
REFRESH_TOKEN_SHOWN = "(kept by the Source API for the refresh)"
SUBJECT_TOKEN_SHOWN = "(your access token)"
#: users whose last tried refresh token is remembered, at most
MAX_KEPT = 1000

# Printable text without control characters; long enough for any identifier or scope list.
Text = Annotated[str, StringConstraints(max_length=512, pattern=r"^[^\x00-\x1f\x7f]*$")]


class ExchangeInput(BaseModel):
    """What an attendee may change. Empty text: the parameter is not sent."""

    model_config = ConfigDict(extra="forbid", strict=True)
    audience: Text = ""
    scope: Text = ""
    requested_token_type: Text = ""
    resource: Text = ""
    # An actor token is the Source API's own or none: the form cannot carry a token.
    actor_token: Literal["none", "source-api"] = "none"


class RefreshInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scope: Text = ""


class BadInput(Exception):
    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class KeptRefreshTokens:
    """The refresh token of each user's last tried exchange, by a digest of the user's access
    token: the tried refresh uses it, so the Source API's own cached tokens stay untouched."""

    def __init__(self, limit: int = MAX_KEPT):
        self.limit = limit
        self._kept: OrderedDict[str, str] = OrderedDict()
        self._guard = threading.Lock()

    def keep(self, user_token: str, refresh_token: str | None) -> None:
        with self._guard:
            key = _digest(user_token)
            if refresh_token is None:
                self._kept.pop(key, None)
                return
            self._kept[key] = refresh_token
            self._kept.move_to_end(key)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)

    def get(self, user_token: str) -> str | None:
        with self._guard:
            return self._kept.get(_digest(user_token))


def try_blueprint(setup: Services) -> Blueprint:
    bp = Blueprint("try_exchange", __name__, url_prefix="/demo")
    kept = KeptRefreshTokens()
    settings = setup.settings
    bp.before_request(lambda: _only_for_the_operators_demo(setup))

    @bp.errorhandler(BadInput)
    def bad_input(error: BadInput):
        return jsonify(error="invalid_request", error_description=error.description), 400

    @bp.get("/token-exchange")
    @require_scope(NEEDED_SCOPE)
    def exchange_defaults():
        return jsonify(**defaults(settings), profile=settings.exchange_profile)

    @bp.post("/token-exchange")
    @require_scope(NEEDED_SCOPE)
    def try_exchange():
        asked = _parse(ExchangeInput)
        user_token = bearer_token(request.headers["Authorization"]) or ""
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": user_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
        }
        for name in ("audience", "scope", "requested_token_type", "resource"):
            if getattr(asked, name):
                form[name] = getattr(asked, name)
        if asked.actor_token == "source-api":
            form.update(actor_token=_actor_token(), actor_token_type=ACCESS_TOKEN_TYPE)
        # Counted like the Source API's own exchanges: trying is no way around the budget.
        services().target_tokens.budget.spend(current_claims["sub"])
        status, answer = _send(form, "token exchange", step=3)
        if status == 200:
            kept.keep(user_token, answer.get("refresh_token"))
        return _tried("token-exchange", form, status, answer)

    @bp.post("/refresh")
    @require_scope(NEEDED_SCOPE)
    def try_refresh():
        asked = _parse(RefreshInput)
        user_token = bearer_token(request.headers["Authorization"]) or ""
        refresh_token = kept.get(user_token)
        if refresh_token is None:
            raise BadInput(
                "No Target API refresh token to use: try an exchange with offline_access in its scope first "
                "(the current profile issues none)."
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
        }
        if asked.scope:
            form["scope"] = asked.scope
        status, answer = _send(form, "refresh", step=5)
        if status == 200 and answer.get("refresh_token"):
            kept.keep(user_token, answer["refresh_token"])  # rotated: the old one is void
        return _tried("refresh", form, status, answer)

    return bp


def _only_for_the_operators_demo(setup: Services) -> None:
    if not setup.demo_tools.enabled() or not setup.operator.matches(request.headers.get(OPERATOR_HEADER, "")):
        abort(404)


def defaults(settings) -> dict[str, str]:
    """The values of the Source API's own exchange, as the form starts."""
    current = settings.exchange_profile == "current"
    return {
        "audience": settings.target_audience,
        "scope": settings.exchange_scope,
        "requested_token_type": ACCESS_TOKEN_TYPE if current else "",
        "resource": "",
        "actor_token": "source-api" if settings.send_actor_token else "none",
    }


def _parse(model: type[BaseModel]):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("Send a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in invalid.errors())
        raise BadInput(f"Not sent: {problems}.") from None


def _actor_token() -> str:
    profile = services().target_tokens.profile
    return profile.actor_token()  # an outage or a refusal is the Source API's problem+json


def _send(form: dict, grant: str, step: int) -> tuple[int, dict]:
    tokens = services().target_tokens
    try:
        response = tokens.session.post(
            tokens.idp.endpoint("token_endpoint"),
            data=form,
            headers=request_id.outgoing_headers(),
            timeout=services().settings.timeout,
        )
    except requests.Timeout:
        raise UpstreamTimeout(
            f"The identity provider did not answer the {grant} in time", step=step, upstream=IDP
        ) from None
    except (requests.RequestException, IdentityProviderUnavailable):
        raise UpstreamUnavailable(
            f"The identity provider cannot be reached for the {grant}", step=step, upstream=IDP
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {"text": response.text[:2000]}
    return response.status_code, answer if isinstance(answer, dict) else {"answer": answer}


def _tried(grant: str, form: dict, status: int, answer: dict):
    """What was sent and what came back, with what the browser must not see replaced."""
    sent = dict(form)
    sent["client_secret"] = MASK
    shown = {
        "subject_token": SUBJECT_TOKEN_SHOWN,
        "actor_token": ACTOR_TOKEN_SHOWN,
        "refresh_token": REFRESH_TOKEN_SHOWN,
    }
    for name, label in shown.items():
        if name in sent:
            sent[name] = label
    answer = dict(answer)
    if "refresh_token" in answer:
        answer["refresh_token"] = REFRESH_TOKEN_SHOWN
    return jsonify(grant=grant, sent=sent, status=status, answer=answer, request_id=request_id.current())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
