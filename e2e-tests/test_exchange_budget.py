"""The Source API's per-user exchange budget (docs/security.md), against the real services.

One user logging in again and again, each fresh token exchanged once, is stopped by the
Source API (429, Retry-After, problem+json) before spending the Source API client's
budget at the identity provider; other users are still served, and a cached Target API
token is still used without counting. A second Source API with a small budget is started
for it, so the suite's own Source API keeps its limit out of the other tests' way.
"""

from backend_client import call_api, login
from demo_tenant import ALICE, BOB
from expectations import assert_problem
from tenant_admin import exchanges_since, log_marker

LIMIT = 2


def test_one_user_with_fresh_tokens_cannot_spend_the_clients_exchanges(stack):
    alice_tokens = [login(stack, ALICE[0])["access_token"] for _ in range(LIMIT + 1)]
    bob_token = login(stack, BOB[0])["access_token"]
    marker = log_marker(stack)

    with stack.another("source-api", SOURCE_API_USER_EXCHANGE_LIMIT=str(LIMIT)) as source_api:
        contacts = source_api.url + "/api/contacts"
        served = [call_api(contacts, token) for token in alice_tokens[:LIMIT]]
        refused = call_api(contacts, alice_tokens[LIMIT])
        again_from_cache = call_api(contacts, alice_tokens[0])
        bob = call_api(contacts, bob_token)

    assert [answer.status_code for answer in served] == [200] * LIMIT, [a.text for a in served]
    assert_problem(refused, 429, step=3, upstream="source-api")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60, refused.headers
    # A cache hit costs nothing: the first token's Target API token is still used.
    assert again_from_cache.status_code == 200, again_from_cache.text
    assert again_from_cache.json()["via"]["target_token"] == "cache"
    assert bob.status_code == 200, bob.text
    # The refused call never reached the identity provider.
    assert len(exchanges_since(stack, marker, ALICE[1])) == LIMIT
    assert len(exchanges_since(stack, marker, BOB[1])) == 1
