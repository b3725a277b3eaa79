"""The Source API's trace for the flow inspector: with ``X-Obo-Trace: 1`` and the operator
secret (the demo tools are on against the local provider) its answer carries the hops it
made: the exchange, with the Target API token it got, and on the next call a cache hit
instead. A token holder without the operator secret gets no trace."""

from backend_client import call_source, login, signing_keys, verify
from demo_tenant import ALICE, SOURCE_CLIENT, TARGET_API


def trace(stack) -> dict[str, str]:
    return {"X-Obo-Trace": "1", "X-Obo-Operator": stack.operator_secret}


def traced_contacts(stack, user_token: str) -> dict:
    response = call_source(stack, "/api/contacts", user_token, headers=trace(stack))
    assert response.status_code == 200, response.text
    assert SOURCE_CLIENT["client_secret"] not in response.text
    return response.json()


def test_the_trace_shows_the_exchange_then_a_cache_hit(stack):
    _, user_id = ALICE
    user_token = login(stack)["access_token"]

    exchange, call = traced_contacts(stack, user_token)["trace"]

    assert (exchange["step"], exchange["title"], exchange["cache"]) == ("3", "Token exchange", "miss")
    assert exchange["request"]["form"]["subject_token"] == user_token
    assert exchange["request"]["form"]["client_secret"] == "********"
    assert exchange["secrets"] == {"client_secret": "SOURCE_API_CLIENT_SECRET"}
    assert exchange["response"]["status"] == 200
    # The Source API's own Target API refresh token is not the user's to see.
    assert exchange["response"]["body"]["refresh_token"] == "********"
    target_token = exchange["response"]["body"]["access_token"]
    claims = verify(target_token, signing_keys(stack), "at+jwt").claims
    assert claims["aud"] == TARGET_API
    assert claims["sub"] == user_id
    assert (call["step"], call["callee"]) == ("4", "target-api")
    assert call["request"]["headers"]["Authorization"] == f"Bearer {target_token}"
    assert call["response"]["status"] == 200
    assert call["request_id"] == exchange["request_id"]

    hit, again = traced_contacts(stack, user_token)["trace"]

    assert (hit["step"], hit["cache"], hit["request"]) == ("3", "hit", None)
    assert "held until" in hit["note"]
    assert again["request"]["headers"]["Authorization"] == f"Bearer {target_token}"


def test_without_the_header_there_is_no_trace(stack):
    response = call_source(stack, "/api/contacts", login(stack)["access_token"])
    assert response.status_code == 200
    assert "trace" not in response.json()


def test_an_error_answer_carries_the_trace_too(stack):
    response = call_source(stack, "/api/contacts", "not-a-token", headers=trace(stack))
    assert response.status_code == 401
    assert response.json()["trace"] == []


def test_a_token_holder_without_the_operator_secret_gets_no_trace(stack):
    response = call_source(stack, "/api/contacts", login(stack)["access_token"], headers={"X-Obo-Trace": "1"})
    assert response.status_code == 200
    assert "trace" not in response.json()
