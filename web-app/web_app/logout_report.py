"""What a logout did at the identity provider, told on the logged-out home page (demo tools).

The logout revokes the login's refresh token, and the provider revokes with it every
grant exchanged from that login (T39): the Source API's Target API refresh token stops
working. Nothing in the browser would show that, so with the demo tools on the web app
reads the tenant log entry its revocation caused (the ``srrt`` entry whose
``details.request_id`` is this request's) and keeps a one-line report in the session
for the next page.
"""

from __future__ import annotations

from flask import current_app, session

from obo_common import request_id

from .management_client import ManagementError

REPORT = "logout_report"
REVOKED = "srrt"  # the tenant log's successful refresh token revocation


def record() -> None:
    """After the revocation: keep what the tenant log says it revoked, if it can be read."""
    management = current_app.extensions.get("panel")  # the demo tools' Management API client
    if management is None:
        return
    this_request = request_id.current()
    try:
        entries = management.get("/logs", type=REVOKED, per_page=20)
    except ManagementError:
        return
    entry = next(
        (e for e in entries if e.get("type") == REVOKED and _details(e).get("request_id") == this_request),
        None,
    )
    if entry is not None:
        derived = _details(entry).get("derived_grants_revoked")
        session[REPORT] = {"derived": derived if isinstance(derived, int) else 0, "log_id": entry.get("log_id")}


def take() -> dict | None:
    """The report of the logout that just happened, once."""
    return session.pop(REPORT, None)


def _details(entry: dict) -> dict:
    details = entry.get("details")
    return details if isinstance(details, dict) else {}
