"""The "break it" panel (/panel): switches that misconfigure the shared demo tenant through
the Management API, a button that makes the call of the call page and shows how it
fails, with the tenant log entries it caused, and "Restore everything".

Demo tools only (404 otherwise), for a logged-in user, every switch a POST with CSRF.
After every change the Source API forgets its cached Target API tokens, so the next call
meets the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from flask import Blueprint, abort, current_app, render_template, request

from obo_common import request_id

from . import step_up, token_store
from .failures import Failure
from .forms import ENDPOINTS
from .management_client import ManagementClient, ManagementError
from .pages import CallOutcome, call_with_one_refresh, login_required
from .panel_switches import BY_NAME, MEND, SWITCHES, Switch, Tenant
from .services import services
from .troubleshooting_cases import refusal_case

bp = Blueprint("panel", __name__, url_prefix="/panel")
# Refusals of the user's token that key rotations cause: the rest are expiry (T12).


@dataclass(frozen=True)
class Row:
    switch: Switch
    state: str
    broken: bool
    actions: list[tuple[str, str]]  # (action, button label)


@dataclass
class PanelCall:
    """What "Call the Source API now" met, and what the tenant logged for it."""

    request_id: str
    outcome: CallOutcome | None = None
    failure: Failure | None = None
    entries: list[dict] = field(default_factory=list)
    logs_error: str | None = None

    @property
    def refusal_case(self):
        if not self.outcome or not self.outcome.refused:
            return None
        return refusal_case(self.outcome.refused)


@bp.record_once
def _set_up(state) -> None:
    state.app.extensions["panel"] = ManagementClient(state.app.extensions["web_app"].settings)


@bp.app_context_processor
def _nav_link() -> dict:
    return {"panel_link": services().demo_tools.enabled()}


@bp.before_request
def _only_with_demo_tools():
    if not services().demo_tools.enabled():
        abort(404)


def _management() -> ManagementClient:
    return current_app.extensions["panel"]


@bp.get("")
@login_required
def panel():
    return _page()


@bp.post("/switch")
@login_required
def flip():
    switch = BY_NAME.get(request.form.get("switch", ""))
    action = switch.actions.get(request.form.get("action", "")) if switch else None
    if action is None:
        raise Failure(400, "The panel did not understand this switch", detail="Use the buttons of the panel.")
    try:
        action.run(_management(), Tenant.read(_management()), services().settings)
    except ManagementError as error:
        return _page(error=f"{switch.title}: not changed. {error}", status=502)
    what = "put back" if action.mends else f"changed ({action.label})"
    return _page(message=f"{switch.title}: {what}. {_forget_cached_tokens()}", changed=switch.name)


@bp.post("/restore")
@login_required
def restore():
    management = _management()
    management.forget_token()  # whatever the switches did to the keys, start from a fresh token
    try:
        management.post("/tenants/settings/reset")
        management.post("/keys/signing/reset")
    except ManagementError as error:
        return _page(error=f"Not everything was restored. {error}", status=502)
    return _page(
        message="Everything is restored: the tenant is back to its file, the oldest signing key still published "
        f"signs again (retired keys stay retired). {_forget_cached_tokens()}"
    )


@bp.post("/call")
@login_required
def call():
    called = PanelCall(request_id.current())
    try:
        called.outcome = call_with_one_refresh(ENDPOINTS["contacts"])
    except step_up.StepUpDemanded as demand:
        return step_up.log_in_again(demand, "contacts")
    except Failure as failure:
        called.failure = failure
    try:
        called.entries = _logged_for(called.request_id)
    except ManagementError as error:
        called.logs_error = str(error)
    return _page(called=called)


def _logged_for(this_request: str) -> list[dict]:
    """The tenant log entries whose details.request_id is this request's: the web app sends
    its X-Request-Id downstream and the identity provider records it with each entry."""
    entries = _management().get("/logs", per_page=100)
    return [e for e in entries if isinstance(e.get("details"), dict) and e["details"].get("request_id") == this_request]


def _forget_cached_tokens() -> str:
    """DELETE /operator/target-token-cache at the Source API, with the operator secret."""
    settings = services().settings
    try:
        response = requests.delete(
            settings.source_api_url + "/operator/target-token-cache",
            headers={"Authorization": f"Bearer {services().operator_secret}"},
            timeout=settings.idp_timeouts,
        )
        forgotten = response.json().get("forgotten") if response.status_code == 200 else None
    except (requests.RequestException, ValueError, AttributeError):
        forgotten = None
    if not isinstance(forgotten, int):
        return (
            "The Source API's cached Target API tokens could not be forgotten (is it running, with the same "
            "OPERATOR_SECRET?): its next call may still use one."
        )
    return f"The Source API forgot its {forgotten} cached Target API token(s): the next call meets the change."


def _page(message=None, error=None, called: PanelCall | None = None, changed: str | None = None, status=200):
    rows: list[Row] = []
    try:
        tenant = Tenant.read(_management())
        rows = [_row(switch, tenant) for switch in SWITCHES]
    except ManagementError as reading:
        error = error or f"The tenant could not be read: {reading}"
        status = 502 if status == 200 else status
    page = render_template(
        "panel.html",
        rows=rows,
        message=message,
        error=error,
        called=called,
        changed=changed,
        still_logged_in=token_store.logged_in(),
    )
    return page, status


def _row(switch: Switch, tenant: Tenant) -> Row:
    settings = services().settings
    broken = switch.broken(tenant, settings)
    toggle = set(switch.actions) == {"break", MEND}
    actions = [
        (name, action.label)
        for name, action in switch.actions.items()
        if (action.mends == broken if toggle else not (action.mends and not broken))
    ]
    return Row(switch, switch.state(tenant, settings), broken, actions)
