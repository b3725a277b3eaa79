"""Step-up (RFC 9470): the Source API passed back the Target API's demand for a stronger or
more recent login. The app logs the browser in again at the identity provider, asking
``acr_values`` and ``max_age`` as the challenge said, then sends the call again once.

The call waiting for the new login is kept in the session; the callback sends the browser
to ``/call/after-step-up``, which makes it once and shows the answer. A second demand
after that login is shown as a failure (T47), never another login: no loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, session

from obo_common.step_up import ERROR, StepUpRequirement

from .failures import Failure
from .forms import ENDPOINTS
from .services import services
from .source_api_client import StepUpDemanded
from .troubleshooting_cases import SOURCE_API

bp = Blueprint("step_up", __name__)
PENDING = "step_up_pending"


@dataclass(frozen=True)
class SteppedUp:
    """What the page says about the login again: what was asked, and why."""

    acr_values: str | None
    max_age: int | None
    description: str | None


def log_in_again(demand: StepUpDemanded, endpoint: str):
    """Keep the call for after the login, and send the browser to log in as demanded."""
    session[PENDING] = {"endpoint": endpoint, "description": demand.description, **demand.required.as_json()}
    extra = {}
    if demand.required.acr_values:
        extra["acr_values"] = " ".join(demand.required.acr_values)
    if demand.required.max_age is not None:
        extra["max_age"] = str(demand.required.max_age)
    return services().provider.login_redirect(**extra)


def waiting() -> bool:
    return isinstance(session.get(PENDING), dict)


@bp.get("/call/after-step-up")
def retry():
    from .pages import call_with_one_refresh, login_required, render_call

    @login_required
    def once():
        pending = session.pop(PENDING, None)
        if not isinstance(pending, dict) or pending.get("endpoint") not in ENDPOINTS:
            raise Failure(400, "There is no call waiting for a login", detail="Use the Call the Source API page.")
        stepped_up = SteppedUp(pending.get("acr_values"), pending.get("max_age"), pending.get("description"))
        try:
            outcome = call_with_one_refresh(ENDPOINTS[pending["endpoint"]])
        except StepUpDemanded as again:
            raise still_insufficient(again) from None
        return render_call(pending["endpoint"], outcome, stepped_up=stepped_up)

    return once()


def still_insufficient(demand: StepUpDemanded) -> Failure:
    """The login again did not give what the Target API asks (T47)."""
    return Failure(
        403,
        "The Target API still refuses your login after you logged in again",
        where=SOURCE_API,
        error=ERROR,
        description=demand.description,
        step="4",
        reported_by="the Target API (through the Source API)",
        detail=_asked(demand.required),
    )


def _asked(required: StepUpRequirement) -> str:
    parts = []
    if required.acr_values:
        parts.append(f"acr_values={' '.join(required.acr_values)}")
    if required.max_age is not None:
        parts.append(f"max_age={required.max_age}")
    return "It asks for " + (", ".join(parts) or "a stronger login") + ", which the new login did not give."
