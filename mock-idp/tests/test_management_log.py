"""Every change made through the Management API leaves a tenant log entry (``sapi``), as
the provider's does: what was done, by which client, the fields sent (never their values,
a client secret among them). Reads and refused calls leave none."""

from __future__ import annotations

import pytest

from .flows import ALICE_ID, Management

CHANGES = [
    ("patch", "/clients/web-app", {"name": "Web App 2"}, "Update a client"),
    ("patch", "/clients/web-app", {"client_secret": "a-new-secret-of-enough-length"}, "Update a client"),
    ("patch", "/resource-servers/https://target-api.example.com", {"token_lifetime": 600}, "Update a resource server"),
    ("patch", "/api-pairings/source-api:target-api", {"scopes": ["read:contacts"]}, "Update an API pairing"),
    ("delete", "/api-pairings/source-api:target-api", None, "Delete an API pairing"),
    ("patch", "/tenants/settings", {"friendly_name": "Another"}, "Update tenant settings"),
    ("post", "/tenants/settings/reset", None, "Reset tenant settings to the tenant file"),
    ("patch", "/rules/add-on-behalf-of-claims", {"enabled": False}, "Update a rule"),
    ("delete", "/grants?user_id=" + ALICE_ID, None, "Delete the grants of a user"),
    ("delete", "/user-blocks?all=true", None, "Unblock every account and address"),
    ("delete", "/user-blocks?identifier=alice@example.com", None, "Unblock a user"),
    ("delete", "/user-blocks/" + ALICE_ID, None, "Unblock a user"),
    ("post", "/keys/signing/rotate", None, "Rotate the signing key"),
    ("post", "/keys/signing/reset", None, "Reset the signing keys"),
]


def call(api: Management, method: str, path: str, body):
    client = api.client
    target = "/api/v2" + path
    if method == "patch":
        return client.patch(target, headers=api.headers, json=body)
    if method == "post":
        return client.post(target, headers=api.headers, json=body if body is not None else {})
    return client.delete(target, headers=api.headers)


@pytest.mark.parametrize(("method", "path", "body", "description"), CHANGES, ids=lambda v: str(v)[:40])
def test_a_change_is_logged_as_sapi(flows, method, path, body, description):
    api = Management(flows)
    response = call(api, method, path, body)
    assert response.status_code < 300, response.json

    entry = flows.last_log()
    assert entry["type"] == "sapi"
    assert entry["description"] == description
    assert entry["client_id"] == "management"
    assert entry["details"]["request"] == {
        "method": method.upper(),
        "path": "/api/v2" + path.partition("?")[0],
        "body_fields": sorted(body or {}),
    }
    assert entry["details"]["response"] == {"statusCode": response.status_code}
    assert "a-new-secret" not in str(entry)


def test_creating_a_pairing_and_deleting_a_grant_are_logged(flows):
    api = Management(flows)
    flows.login_tokens()  # a consent: a grant to delete
    [grant] = api.get("/grants").json
    assert api.delete(f"/grants/{grant['id']}").status_code == 204
    assert (flows.last_log()["type"], flows.last_log()["description"]) == ("sapi", "Delete a grant")
    assert api.delete("/api-pairings/source-api:target-api").status_code == 204
    body = {"source": "source-api", "target": "target-api", "scopes": ["read:contacts"]}
    assert api.post("/api-pairings", body).status_code == 201
    assert flows.last_log()["description"] == "Create an API pairing"
    assert flows.last_log()["details"]["request"]["body_fields"] == ["scopes", "source", "target"]


def test_reads_and_refused_changes_leave_no_entry(flows):
    api, reader = Management(flows), Management(flows, scope="read:clients")
    before = flows.last_log()["log_id"]
    assert api.get("/clients").status_code == 200
    assert api.patch("/clients/web-app", {"nope": 1}).status_code == 400
    assert api.patch("/clients/nobody", {"name": "x"}).status_code == 404
    assert reader.patch("/clients/web-app", {"name": "x"}).status_code == 403
    assert flows.last_log()["log_id"] == before
