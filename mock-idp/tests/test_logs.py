"""Tenant logs in the Management API: filters, paging, newest first, clearing."""

import pytest

from .flows import ALICE_ID, Management


@pytest.fixture
def api(flows):
    flows.login_tokens()  # s, seacft
    flows.refresh("unknown")  # fertft
    flows.refresh("unknown")  # fertft
    return Management(flows, scope="read:logs")


def test_entries_are_newest_first_with_every_field(api):
    entries = api.get("/logs").json
    assert [e["type"] for e in entries[:4]] == ["seccft", "fertft", "fertft", "seacft"]
    entry = entries[3]
    assert set(entry) == {
        "log_id", "date", "type", "description", "client_id", "client_name",
        "audience", "user_id", "ip", "details",
    }  # fmt: skip
    assert entry["client_name"] == "Web App"
    assert entry["user_id"] == ALICE_ID
    assert api.get(f"/logs/{entry['log_id']}").json == entry
    assert api.get("/logs/nope").status_code == 404


def test_filters(api):
    assert {e["type"] for e in api.get("/logs", type="fertft").json} == {"fertft"}
    assert {e["type"] for e in api.get("/logs", type="s,seacft").json} == {"s", "seacft"}
    assert all(e["user_id"] == ALICE_ID for e in api.get("/logs", user_id=ALICE_ID).json)
    assert {e["client_id"] for e in api.get("/logs", client_id="management").json} == {"management"}
    assert api.get("/logs", audience="https://source-api.example.com").json[0]["type"] == "seacft"
    assert api.get("/logs", **{"from": "2999-01-01T00:00:00Z"}).json == []
    assert len(api.get("/logs", to="2999-01-01T00:00:00Z").json) >= 5


def test_paging_with_totals(api):
    first = api.get("/logs", per_page=2, page=0, include_totals="true").json
    second = api.get("/logs", per_page=2, page=1, include_totals="true").json
    assert first["total"] == second["total"] >= 5
    assert (first["start"], first["limit"], first["length"]) == (0, 2, 2)
    assert not {e["log_id"] for e in first["logs"]} & {e["log_id"] for e in second["logs"]}


@pytest.mark.parametrize(
    "query",
    [
        {"per_page": "0"},
        {"per_page": "101"},
        {"per_page": "\u00b2"},  # a digit to str.isdigit, not to int()
        {"page": "-1"},
        {"from": "yesterday"},
        {"to": "9999-12-31T23:59:59-01:00"},  # past the calendar's end once in UTC
        {"from": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_bad_query_parameters(api, query):
    response = api.get("/logs", **query)
    assert response.status_code == 400
    assert response.json["errorCode"] == "invalid_query_string"


def test_logs_need_their_scope(flows):
    assert Management(flows, scope="read:clients").get("/logs").status_code == 403


def test_clearing_the_log_needs_its_scope_and_empties_it(flows, api):
    assert flows.backend.delete("/api/v2/logs").status_code == 401
    assert api.delete("/logs").status_code == 403  # read:logs only
    assert flows.logs()

    response = Management(flows, scope="delete:logs").delete("/logs")

    assert response.status_code == 204
    assert response.data == b""
    # One entry is left: the clear itself, and who did it.
    [cleared] = flows.logs()
    assert (cleared["type"], cleared["description"], cleared["client_id"]) == ("sapi", "Delete all logs", "management")
    assert cleared["details"]["request"] == {"method": "DELETE", "path": "/api/v2/logs", "body_fields": []}
    flows.refresh("unknown")
    assert [e["type"] for e in api.get("/logs").json] == ["fertft", "sapi"]


def test_the_management_client_is_granted_clearing(flows):
    token = Management(flows).headers  # the tenant file's whole grant
    assert flows.backend.delete("/api/v2/logs", headers=token).status_code == 204


def test_an_entry_carries_the_callers_request_id(flows):
    flows.refresh("unknown", headers={"X-Request-Id": "click-42"})
    assert flows.last_log()["details"]["request_id"] == "click-42"
    flows.backend.post("/oauth/token", data={"grant_type": "refresh_token"}, headers={"X-Request-Id": "<bad id>"})
    assert "request_id" not in flows.last_log()["details"]
