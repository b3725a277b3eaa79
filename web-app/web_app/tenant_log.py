"""The identity provider's tenant log entries one request of this app caused.

The web app sends its X-Request-Id downstream (the Source API passes it on) and the
identity provider records it in each entry's ``details.request_id``: the panel's call and
the inspector's "try it" show the entries of their own request this way.
"""

from __future__ import annotations

from .management_client import ManagementClient


def entries_for(management: ManagementClient, request_id: str) -> list[dict]:
    """The latest tenant log entries whose details.request_id is ``request_id``."""
    entries = management.get("/logs", per_page=100)
    if not isinstance(entries, list):
        return []
    return [
        e
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("details"), dict) and e["details"].get("request_id") == request_id
    ]
