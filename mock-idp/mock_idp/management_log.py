"""A tenant log entry for each change made through the Management API, as the provider
writes one (``sapi``, "Success API Operation"): what was done, by which client, the
fields sent. Never their values: a client secret is one of them.

Registered after each request of the Management API's blueprints; a read (GET) or a
refused call leaves no entry. Clearing the log leaves this one entry behind it.
"""

from __future__ import annotations

from flask import Response, g, request

from . import tenant_log

# The view functions that change something, and what their entry says.
DESCRIPTIONS = {
    "management.update_client": "Update a client",
    "management.update_resource_server": "Update a resource server",
    "management.create_pairing": "Create an API pairing",
    "management.update_pairing": "Update an API pairing",
    "management.delete_pairing": "Delete an API pairing",
    "management.update_settings": "Update tenant settings",
    "management.reset_tenant": "Reset tenant settings to the tenant file",
    "management.update_rule": "Update a rule",
    "management.delete_grant": "Delete a grant",
    "management.delete_grants_of_user": "Delete the grants of a user",
    "management.unblock_by_identifier": "Unblock a user",
    "management.unblock_user": "Unblock a user",
    "management.rotate_signing_key": "Rotate the signing key",
    "management.reset_signing_keys": "Reset the signing keys",
    "logs.clear_logs": "Delete all logs",
}


def record_change(response: Response) -> Response:
    """``after_request`` of the Management API: log a successful change."""
    description = DESCRIPTIONS.get(request.endpoint or "")
    client_id = g.get("management_client_id")
    if description is None or client_id is None or not 200 <= response.status_code < 300:
        return response
    if request.endpoint == "management.unblock_by_identifier" and request.args.get("all") == "true":
        description = "Unblock every account and address"
    try:
        body = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # nested thousands deep, on a call that reads no body
        body = None
    tenant_log.record(
        "sapi",
        description,
        client_id=client_id,
        details={
            "request": {
                "method": request.method,
                "path": request.path,
                "body_fields": sorted(body) if isinstance(body, dict) else [],
            },
            "response": {"statusCode": response.status_code},
        },
    )
    return response
