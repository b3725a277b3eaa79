"""The tenant log's live feed (/logs/feed, for the /logs page) and clearing the log
(DELETE /api/v2/logs), against the running stack.

Other modules read the log from a marker they take; a test here that clears the log
asserts only on what is written after its clear, so the modules run in any order.
"""

from __future__ import annotations

import secrets

import pytest
import requests
from backend_client import call_source, failed_refresh, login, post_token
from demo_tenant import ALICE, MANAGEMENT_CLIENT, TARGET_API, TIMEOUT
from tenant_admin import Management

EMAIL, ALICE_ID = ALICE


def feed(stack, **params) -> requests.Response:
    return requests.get(stack.issuer + "logs/feed", params=params, timeout=TIMEOUT)


def entries(stack, **params) -> list[dict]:
    response = feed(stack, **params)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def marker(stack) -> str:
    """The id of an entry written now: what the test causes comes after it."""
    request_id = "marker-" + secrets.token_hex(6)
    failed_refresh(stack, request_id)
    (entry,) = [e for e in entries(stack, type="fertft") if e["details"].get("request_id") == request_id]
    return entry["log_id"]


def test_an_exchange_through_the_stack_appears_in_the_feed_after_a_marker(stack):
    tokens = login(stack, EMAIL)
    after = marker(stack)

    response = call_source(stack, "/api/contacts", tokens["access_token"])

    assert response.status_code == 200, response.text
    (exchanged,) = entries(stack, after=after, user_id=ALICE_ID, type="success_on_behalf_of_token_exchange")
    assert (exchanged["client_id"], exchanged["audience"]) == ("source-api", TARGET_API)
    assert "read:contacts" in exchanged["details"]["issued"]["scope"]
    assert tokens["access_token"] not in feed(stack, after=after).text


def test_the_feed_hides_the_management_apis_token_requests_unless_asked(stack):
    after = marker(stack)
    Management(stack)  # a client_credentials token: seccft by the management client
    failed_refresh(stack, "after-the-management-token")

    hidden = entries(stack, after=after)
    shown = entries(stack, after=after, management="show")

    assert [e["details"].get("request_id") for e in hidden] == ["after-the-management-token"]
    assert ("seccft", "management") in [(e["type"], e["client_id"]) for e in shown]


@pytest.mark.parametrize("query", [{"after": "not-an-id"}, {"per_page": "500"}, {"to": "someday"}])
def test_a_bad_feed_query_is_a_400_with_its_message(stack, query):
    response = feed(stack, **query)
    assert response.status_code == 400, response.text
    assert next(iter(query)) in response.json()["message"]


@pytest.mark.usefixtures("tenant_as_found")
def test_clearing_the_log_needs_its_scope_and_leaves_only_what_comes_after(stack):
    reader = post_token(
        stack, grant_type="client_credentials", audience=stack.management_api + "/", scope="read:logs",
        **MANAGEMENT_CLIENT,
    )  # fmt: skip
    assert reader.status_code == 200, reader.text
    bearer = {"Authorization": "Bearer " + reader.json()["access_token"]}
    refused = requests.delete(stack.management_api + "/logs", headers=bearer, timeout=TIMEOUT)
    assert refused.status_code == 403, refused.text
    before = marker(stack)
    management = Management(stack)

    response = management.call("DELETE", "/logs")

    assert response.status_code == 204, response.text
    failed_refresh(stack, "after-the-clear")
    listed = management.logs()
    assert before not in {e["log_id"] for e in listed}
    assert "after-the-clear" in [e["details"].get("request_id") for e in listed]
    body = feed(stack, after=before).json()  # the page's marker is gone: it starts again
    assert body["cleared"] is True
    assert "after-the-clear" in [e["details"].get("request_id") for e in body["entries"]]
