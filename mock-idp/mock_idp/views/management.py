"""The Management API subset: everything a troubleshooting case or a workshop switches.

Changes go through the tenant store: validated as a whole, applied to every worker at
once, kept across restarts until ``POST /api/v2/tenants/settings/reset``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import login_throttle
from ..management_auth import ApiError, json_object, only_fields, render_api_error, requires_scope
from ..management_log import record_change
from ..provider import idp
from ..tenant import TenantError

bp = Blueprint("management", __name__, url_prefix="/api/v2")
bp.register_error_handler(ApiError, render_api_error)
bp.after_request(record_change)

CLIENT_FIELDS = {
    "name", "client_secret", "app_type", "is_first_party", "token_endpoint_auth_method",
    "callbacks", "allowed_logout_urls", "grant_types", "refresh_token", "resource_server_identifier",
}  # fmt: skip
RESOURCE_SERVER_FIELDS = {
    "name", "scopes", "token_lifetime", "allow_offline_access",
    "skip_consent_for_verifiable_first_party_clients", "token_exchange", "subject_type_authorization",
    "step_up",
}  # fmt: skip
SETTINGS_FIELDS = {
    "friendly_name", "default_audience", "rate_limits", "clock_skew", "token_exchange_policy",
    "token_exchange_profile", "token_exchange_delegation_depth",
}  # fmt: skip
RULE_FIELDS = {"enabled", "order"}


def _change(edit):
    try:
        return idp().tenants.change(edit)
    except TenantError as error:
        raise ApiError(400, f"Payload validation error: {error}", "invalid_body") from None


def _index(items: list[dict], key: str, value: str, what: str) -> int:
    for i, item in enumerate(items):
        if item.get(key) == value:
            return i
    raise ApiError(404, f"The {what} does not exist", f"inexistent_{what.replace(' ', '_')}")


# -- clients (applications) --------------------------------------------------------


def _client_view(client) -> dict:
    return client.model_dump(mode="json", exclude={"client_secret"})


@bp.get("/clients")
@requires_scope("read:clients")
def list_clients():
    return jsonify([_client_view(c) for c in idp().tenant().clients])


@bp.get("/clients/<client_id>")
@requires_scope("read:clients")
def get_client(client_id):
    client = idp().tenant().client(client_id)
    if client is None:
        raise ApiError(404, "The client does not exist", "inexistent_client")
    return jsonify(_client_view(client))


@bp.patch("/clients/<client_id>")
@requires_scope("update:clients")
def update_client(client_id):
    body = only_fields(json_object(), CLIENT_FIELDS)

    def edit(document):
        i = _index(document["clients"], "client_id", client_id, "client")
        document["clients"][i].update(body)

    return jsonify(_client_view(_change(edit).client(client_id)))


# -- resource servers (APIs) ---------------------------------------------------------


def _api_or_404(id_or_identifier: str):
    api = idp().tenant().resource_server_by_id(id_or_identifier)
    if api is None:
        raise ApiError(404, "The resource server does not exist", "inexistent_resource_server")
    return api


@bp.get("/resource-servers")
@requires_scope("read:resource_servers")
def list_resource_servers():
    return jsonify([r.model_dump(mode="json") for r in idp().tenant().resource_servers])


@bp.get("/resource-servers/<path:api_id>")
@requires_scope("read:resource_servers")
def get_resource_server(api_id):
    return jsonify(_api_or_404(api_id).model_dump(mode="json"))


@bp.patch("/resource-servers/<path:api_id>")
@requires_scope("update:resource_servers")
def update_resource_server(api_id):
    body = only_fields(json_object(), RESOURCE_SERVER_FIELDS)
    api = _api_or_404(api_id)
    if api.is_system:
        raise ApiError(403, "The Management API cannot be changed", "operation_not_supported")

    def edit(document):
        i = _index(document["resource_servers"], "identifier", api.identifier, "resource server")
        document["resource_servers"][i].update(body)

    return jsonify(_change(edit).resource_server(api.identifier).model_dump(mode="json"))


# -- Source API / Target API pairings --------------------------------------------------


def _pairing_view(tenant, pairing) -> dict:
    source, target = tenant.resource_server(pairing.source), tenant.resource_server(pairing.target)
    return {"id": f"{source.id}:{target.id}", **pairing.model_dump(mode="json")}


def _pairing_index(document_pairings: list[dict], pairing_id: str) -> int:
    source_id, _, target_id = pairing_id.partition(":")
    tenant = idp().tenant()
    source, target = tenant.resource_server_by_id(source_id), tenant.resource_server_by_id(target_id)
    for i, pairing in enumerate(document_pairings):
        if source and target and (pairing["source"], pairing["target"]) == (source.identifier, target.identifier):
            return i
    raise ApiError(404, "The API pairing does not exist", "inexistent_api_pairing")


@bp.get("/api-pairings")
@requires_scope("read:resource_servers")
def list_pairings():
    tenant = idp().tenant()
    return jsonify([_pairing_view(tenant, p) for p in tenant.api_pairings])


@bp.post("/api-pairings")
@requires_scope("update:resource_servers")
def create_pairing():
    body = only_fields(json_object(), {"source", "target", "scopes"})
    tenant = idp().tenant()
    source, target = (tenant.resource_server_by_id(str(body.get(end, ""))) for end in ("source", "target"))
    if source is None or target is None:
        raise ApiError(400, "Payload validation error: source and target must name APIs of the tenant", "invalid_body")
    if tenant.pairing(source.identifier, target.identifier):
        raise ApiError(409, "These APIs are already paired", "api_pairing_conflict")
    pairing = {"source": source.identifier, "target": target.identifier, "scopes": body.get("scopes", [])}
    changed = _change(lambda document: document["api_pairings"].append(pairing))
    created = changed.pairing(source.identifier, target.identifier)
    return jsonify(_pairing_view(changed, created)), 201


@bp.patch("/api-pairings/<pairing_id>")
@requires_scope("update:resource_servers")
def update_pairing(pairing_id):
    body = only_fields(json_object(), {"scopes"})
    ends = {}

    def edit(document):
        pairing = document["api_pairings"][_pairing_index(document["api_pairings"], pairing_id)]
        pairing.update(body)
        ends.update(source=pairing["source"], target=pairing["target"])

    changed = _change(edit)
    return jsonify(_pairing_view(changed, changed.pairing(ends["source"], ends["target"])))


@bp.delete("/api-pairings/<pairing_id>")
@requires_scope("update:resource_servers")
def delete_pairing(pairing_id):
    _change(lambda document: document["api_pairings"].pop(_pairing_index(document["api_pairings"], pairing_id)))
    return "", 204


# -- tenant settings and rules ---------------------------------------------------------


def _settings_view(tenant) -> dict:
    return tenant.model_dump(mode="json", include=SETTINGS_FIELDS)


@bp.get("/tenants/settings")
@requires_scope("read:tenant_settings")
def get_settings():
    return jsonify(_settings_view(idp().tenant()))


@bp.patch("/tenants/settings")
@requires_scope("update:tenant_settings")
def update_settings():
    body = only_fields(json_object(), SETTINGS_FIELDS)
    return jsonify(_settings_view(_change(lambda document: document.update(body))))


@bp.post("/tenants/settings/reset")
@requires_scope("update:tenant_settings")
def reset_tenant():
    """Put clients, APIs, pairings, rules and settings back to the tenant file's state."""
    idp().tenants.reset()
    return jsonify(message="The tenant is back to the settings of its file.")


@bp.get("/rules")
@requires_scope("read:rules")
def list_rules():
    return jsonify([r.model_dump(mode="json") for r in idp().tenant().rules])


@bp.patch("/rules/<name>")
@requires_scope("update:rules")
def update_rule(name):
    body = only_fields(json_object(), RULE_FIELDS)

    def edit(document):
        document["rules"][_index(document["rules"], "name", name, "rule")].update(body)

    changed = _change(edit)
    return jsonify(next(r.model_dump(mode="json") for r in changed.rules if r.name == name))


# -- grants (the consents users gave) ----------------------------------------------------


def _grant_view(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "user_id": row["user_id"],
        "clientID": row["client_id"],
        "audience": row["audience"],
        "scope": row["scope"].split(),
    }


@bp.get("/grants")
@requires_scope("read:grants")
def list_grants():
    return jsonify([_grant_view(row) for row in idp().storage.consents(request.args.get("user_id"))])


@bp.delete("/grants/<grant_id>")
@requires_scope("delete:grants")
def delete_grant(grant_id):
    # An id is a SQLite integer: more than 18 digits cannot be one.
    if not (grant_id.isascii() and grant_id.isdigit() and len(grant_id) <= 18):
        raise ApiError(404, "The grant does not exist", "inexistent_grant")
    if not idp().storage.delete_consent(int(grant_id)):
        raise ApiError(404, "The grant does not exist", "inexistent_grant")
    return "", 204


@bp.delete("/grants")
@requires_scope("delete:grants")
def delete_grants_of_user():
    user_id = request.args.get("user_id")
    if not user_id:
        raise ApiError(400, "Query validation error: user_id is required", "invalid_query_string")
    idp().storage.delete_consents_of(user_id)
    return "", 204


# -- user blocks (failed-login throttling) -----------------------------------------------


@bp.delete("/user-blocks")
@requires_scope("update:users")
def unblock_by_identifier():
    if request.args.get("all") == "true":  # the mock's own: every account and address
        login_throttle.unblock_everyone()
        return "", 204
    identifier = request.args.get("identifier", "").strip()
    if not identifier:
        raise ApiError(400, "Query validation error: identifier (or all=true) is required", "invalid_query_string")
    login_throttle.unblock(identifier)
    return "", 204


@bp.delete("/user-blocks/<path:user_id>")
@requires_scope("update:users")
def unblock_user(user_id):
    user = idp().tenant().user(user_id)
    if user is None:
        raise ApiError(404, "The user does not exist", "inexistent_user")
    login_throttle.unblock(user.email)
    return "", 204


# -- signing keys ---------------------------------------------------------------------


@bp.get("/keys/signing")
@requires_scope("read:signing_keys")
def list_signing_keys():
    return jsonify(idp().keys.describe())


@bp.post("/keys/signing/rotate")
@requires_scope("create:signing_keys")
def rotate_signing_key():
    return jsonify(kid=idp().keys.rotate()), 201


@bp.post("/keys/signing/reset")
@requires_scope("create:signing_keys")
def reset_signing_keys():
    """The mock's own addition: the first key signs again, every later one stays published."""
    return jsonify(kid=idp().keys.reset())
