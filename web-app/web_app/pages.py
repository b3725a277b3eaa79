"""Home, profile, calling the Source API (step 2), refreshing tokens (step 5), health."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, jsonify, render_template

from . import step_up, token_store
from .call_account import how_obtained
from .failures import Failure
from .forms import ENDPOINTS, ActionForm, CallForm
from .services import services
from .source_api_client import SOURCE, AccessTokenRejected
from .token_store import RefreshReport
from .troubleshooting_cases import SOURCE_API, Case, refusal_case

bp = Blueprint("pages", __name__)


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not token_store.logged_in():
            raise Failure(401, "You are not logged in", detail="Log in to use this page.", log_in_again=True)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/")
def home():
    if not token_store.logged_in():
        return render_template("home.html")
    return render_template("home.html", profile=token_store.profile(), facts=token_store.facts(), form=ActionForm())


@bp.get("/profile")
@login_required
def profile():
    return render_template("profile.html", profile=token_store.profile(), facts=token_store.facts(), form=ActionForm())


@bp.get("/call")
@login_required
def call_page():
    return render_template("call.html", form=CallForm())


@bp.post("/call")
@login_required
def call_source_api():
    form = CallForm()
    if not form.validate_on_submit():
        raise Failure(400, "The form was not understood", detail="Use the buttons of the Call the Source API page.")
    try:
        outcome = call_with_one_refresh(ENDPOINTS[form.endpoint.data])
    except step_up.StepUpDemanded as demand:
        return step_up.log_in_again(demand, form.endpoint.data)
    return render_call(form.endpoint.data, outcome)


def render_call(endpoint: str, outcome: CallOutcome, stepped_up: step_up.SteppedUp | None = None):
    account = None
    if endpoint == "contacts":
        account = how_obtained(outcome.answer.get("via"), services().settings.source_api_audience)
    return render_template(
        "call.html",
        form=CallForm(),
        endpoint=endpoint,
        answer=outcome.answer,
        account=account,
        refreshed=outcome.refreshed,
        refused=outcome.refused,
        refused_case=refusal_case(outcome.refused) if outcome.refused else None,
        stepped_up=stepped_up,
    )


@bp.post("/refresh")
@login_required
def refresh():
    refresh_token = token_store.refresh_token()
    if refresh_token is None:
        raise Failure(
            400,
            "There is no refresh token to use",
            case=Case("T07"),
            step="5",
            detail="The login returned none. Log in again to get new tokens.",
        )
    try:
        token = services().provider.refresh(refresh_token, token_store.profile().get("sub"))
    except Failure as failure:
        if failure.error == "invalid_grant":
            token_store.clear()
            failure.log_in_again = True
        raise
    return render_template("refreshed.html", report=token_store.save_refresh(token), facts=token_store.facts())


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@dataclass(frozen=True)
class CallOutcome:
    answer: dict
    refreshed: RefreshReport | None = None
    refused: str | None = None  # why the Source API refused the access token before the refresh


def call_with_one_refresh(path: str) -> CallOutcome:
    """An access token the Source API calls expired is refreshed once and the call retried once;
    if that does not do it, the user logs in again (T12). Used by the call page and the panel."""
    source_api = services().source_api
    try:
        return CallOutcome(source_api.get(path, token_store.access_token()))
    except AccessTokenRejected as rejected:
        report = _refresh_or_log_in_again(rejected)
        refused = rejected.description or "invalid_token"
    try:
        return CallOutcome(source_api.get(path, token_store.access_token()), report, refused)
    except AccessTokenRejected as rejected:
        raise _log_in_again(rejected, "The Source API refused the access token even after a refresh.") from None


def _refresh_or_log_in_again(rejected: AccessTokenRejected) -> RefreshReport:
    refresh_token = token_store.refresh_token()
    if refresh_token is None:
        raise _log_in_again(rejected, "There is no refresh token to renew it with (see T07).")
    try:
        token = services().provider.refresh(refresh_token, token_store.profile().get("sub"))
    except Failure as failure:
        if failure.error != "invalid_grant":
            raise  # an outage or a misconfiguration: logging in again would not help
        raise _log_in_again(
            rejected, f"Renewing it failed: {failure.error} ({failure.description or 'no description'})."
        ) from None
    return token_store.save_refresh(token)


def _log_in_again(rejected: AccessTokenRejected, why: str) -> Failure:
    token_store.clear()
    return Failure(
        401,
        "Your access token was refused: log in again",
        where=SOURCE_API,
        error="invalid_token",
        description=rejected.description,
        step="2",
        reported_by=SOURCE,
        detail=why,
        log_in_again=True,
    )
