"""The flow inspector's "try it" (/inspector/try, demo tools only): the Source API's token
exchange, and its refresh, as a form an attendee changes and sends, with what came back.

The exchange goes out from the Source API (``POST /demo/token-exchange`` there, called with
the user's own access token): it holds its client credentials and fills them in itself, so
this app never has them and the browser never sees them, and the subject token is the
user's token the Source API validated. The page shows the provider's answer (the token
decoded, or the error), the troubleshooting entry the error is, and the tenant log entries
the request caused (found by its request id, as the panel's call finds its own).

Every form is a POST with a CSRF token; a bad value is a 400 saying which, and nothing is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Blueprint, abort, current_app, render_template

from obo_common.demo_tools import OPERATOR_HEADER

from . import tenant_log, token_store
from .failures import Failure
from .forms import TryExchangeForm, TryRefreshForm
from .management_client import ManagementError
from .pages import login_required
from .services import services
from .token_display import Decoded, decode, show
from .troubleshooting_cases import EXCHANGE, REFRESH, SOURCE_API, Case, number_for

bp = Blueprint("try_exchange", __name__, url_prefix="/inspector/try")
SOURCE_PATHS = {"token-exchange": "/demo/token-exchange", "refresh": "/demo/refresh"}
FIELDS = {
    "token-exchange": ("audience", "scope", "requested_token_type", "resource", "actor_token"),
    "refresh": ("scope",),
}

# Answers only a tried exchange or refresh meets: the Source API's own always sends an
# audience, a fixed subject_token_type, no actor token unless configured, and no refresh
# scope (the rules every page shares are troubleshooting_cases.RULES, tried after these).
TRIED_RULES: list[tuple[str, str, str | None, str]] = [
    ("token-exchange", "invalid_request", "Missing required parameter: audience", "T19"),
    ("token-exchange", "invalid_request", "Unsupported subject_token_type", "T26"),
    ("token-exchange", "invalid_request", "Unsupported requested_token_type", "T26"),
    ("token-exchange", "invalid_request", "actor_token is not supported", "T27"),
    ("token-exchange", "invalid_request", "actor_token", "T43"),
    ("token-exchange", "invalid_target", None, "T20"),
    ("refresh", "invalid_scope", None, "T36"),
]
SHARED_WHERE = {"token-exchange": EXCHANGE, "refresh": REFRESH}


@dataclass
class Tried:
    """One tried request and what came back, as the Source API reported it."""

    grant: str
    sent: dict
    status: int
    answer: dict
    request_id: str
    entries: list[dict] = field(default_factory=list)
    logs_error: str | None = None

    @property
    def error(self) -> str | None:
        error = self.answer.get("error")
        return error if isinstance(error, str) else None

    @property
    def description(self) -> str | None:
        description = self.answer.get("error_description")
        return description if isinstance(description, str) else None

    @property
    def token(self) -> Decoded | None:
        token = self.answer.get("access_token")
        return decode(token) if self.status == 200 and isinstance(token, str) else None

    @property
    def claim_rows(self) -> list[tuple[str, str]]:
        claims = self.token.claims if self.token else None
        return [(name, show(name, value)) for name, value in (claims or {}).items()]

    @property
    def case(self) -> Case | None:
        if self.status == 200:
            return None
        number = case_number(self.grant, self.error, self.description)
        return Case(number) if number else None

    @property
    def answer_json(self) -> str:
        return json.dumps(self.answer, indent=2, ensure_ascii=False)


def case_number(grant: str, error: str | None, description: str | None) -> str | None:
    for rule_grant, rule_error, piece, number in TRIED_RULES:
        if rule_grant == grant and rule_error == error and (piece is None or piece in (description or "")):
            return number
    return number_for(SHARED_WHERE[grant], error, description)


@bp.before_request
def _only_with_demo_tools():
    if not services().demo_tools.enabled():
        abort(404)


@bp.get("")
@login_required
def page():
    exchange = TryExchangeForm(data=_defaults())
    return render_template("try_exchange.html", exchange=exchange, refresh=TryRefreshForm())


@bp.post("/exchange")
@login_required
def try_exchange():
    return _try("token-exchange", TryExchangeForm(), TryRefreshForm(formdata=None))


@bp.post("/refresh")
@login_required
def try_refresh():
    return _try("refresh", TryExchangeForm(formdata=None, data=_defaults()), TryRefreshForm())


def _try(grant: str, exchange: TryExchangeForm, refresh: TryRefreshForm):
    form = exchange if grant == "token-exchange" else refresh
    if not form.validate_on_submit():  # a missing CSRF token never gets here (CSRFProtect: 400)
        page = render_template("try_exchange.html", exchange=exchange, refresh=refresh, refused=grant)
        return page, 400
    tried, refusal = _send(grant, {name: getattr(form, name).data or "" for name in FIELDS[grant]})
    if tried is None:
        form.form_errors.append(refusal)
        page = render_template("try_exchange.html", exchange=exchange, refresh=refresh, refused=grant)
        return page, 400
    try:
        tried.entries = tenant_log.entries_for(current_app.extensions["panel"], tried.request_id)
    except ManagementError as error:
        tried.logs_error = str(error)
    return render_template("try_exchange.html", exchange=exchange, refresh=refresh, tried=tried)


def _defaults() -> dict:
    """What the Source API sends in its own exchange (it says; blank if it cannot)."""
    try:
        response = _source_api("GET", SOURCE_PATHS["token-exchange"])
    except Failure:
        return {}
    body = _json(response)
    return body if response.status_code == 200 else {}


def _send(grant: str, values: dict) -> tuple[Tried | None, str]:
    """The Source API's report of the tried request, or (None, why it sent nothing)."""
    response = _source_api("POST", SOURCE_PATHS[grant], values)
    body = _json(response)
    status = response.status_code
    if status == 200 and isinstance(body.get("status"), int):
        answer, sent = body.get("answer"), body.get("sent")
        answer = answer if isinstance(answer, dict) else {}
        sent = sent if isinstance(sent, dict) else {}
        return Tried(grant, sent, body["status"], answer, str(body.get("request_id") or "")), ""
    if status == 400:
        return None, f"The Source API sent nothing: {body.get('error_description') or 'it refused the values'}"
    raise _source_api_failure(response, body)


def _source_api(method: str, path: str, values: dict | None = None) -> requests.Response:
    settings = services().settings
    headers = {
        "Authorization": f"Bearer {token_store.access_token()}",
        "Accept": "application/json",
        OPERATOR_HEADER: services().operator_secret,
    }
    try:
        return services().source_api.http.request(method, settings.source_api_url + path, headers=headers, json=values)
    except requests.Timeout:
        raise Failure(504, "The Source API did not answer in time", step="3", reported_by="this app") from None
    except requests.RequestException:
        raise Failure(
            503,
            "The Source API cannot be reached",
            step="3",
            reported_by="this app",
            detail="Is it running, and is WEB_APP_SOURCE_API_URL its address?",
        ) from None


def _source_api_failure(response: requests.Response, body: dict) -> Failure:
    status = response.status_code
    if status == 401:
        return Failure(
            401,
            "The Source API refused your access token",
            where=SOURCE_API,
            step="2",
            reported_by="the Source API",
            error=body.get("error") or "invalid_token",
            description=body.get("error_description"),
            detail="Refresh your tokens on the home page (or log in again), then try again.",
        )
    if status == 404:
        return Failure(
            404,
            'The Source API has no "try it"',
            step="3",
            reported_by="the Source API",
            detail="Its demo tools are off (DEMO_TOOLS): it only tries exchanges in the demo configuration.",
        )
    return Failure(
        status if status in (403, 429, 502, 503, 504) else 502,
        str(body.get("title") or f"The Source API answered HTTP {status}"),
        step=str(body.get("step") or "3"),
        reported_by="the Source API",
        error=body.get("upstream_error") or body.get("error"),
        description=body.get("upstream_error_description") or body.get("error_description"),
        detail=body.get("detail"),
        retry_after=response.headers.get("Retry-After"),
    )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
