"""The Source API reuses a Target API token instead of exchanging on every call.

Exchanges are counted where they happen: the identity provider's tenant log, entries
for the user made after a marker taken by the test.
"""

import threading

import pytest
from backend_client import call_source, login
from demo_tenant import ALICE, BOB
from tenant_admin import exchanges_since, log_marker

CALLS = 5
SIMULTANEOUS = 6  # fewer than the Source API's 8 threads, so all are served at once


def contacts(stack, user_token: str) -> dict:
    response = call_source(stack, "/api/contacts", user_token)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("user", [ALICE, BOB], ids=["alice", "bob"])
def test_repeated_calls_with_one_user_token_make_one_exchange(stack, user):
    email, user_id = user
    user_token = login(stack, email)["access_token"]
    marker = log_marker(stack)

    answers = [contacts(stack, user_token) for _ in range(CALLS)]

    assert len(exchanges_since(stack, marker, user_id)) == 1
    vias = [answer.pop("via") for answer in answers]
    assert [via["target_token"] for via in vias] == ["exchange"] + ["cache"] * (CALLS - 1)
    # The same Target API token each time: same times, same answer.
    assert len({(via["obtained_at"], via["expires_at"]) for via in vias}) == 1
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["owner"] == user_id


def test_simultaneous_first_calls_of_a_user_share_one_exchange(stack):
    _, user_id = ALICE
    user_token = login(stack)["access_token"]
    marker = log_marker(stack)
    start = threading.Barrier(SIMULTANEOUS)
    responses = [None] * SIMULTANEOUS

    def call(index):
        start.wait()
        responses[index] = call_source(stack, "/api/contacts", user_token)  # each on a new connection

    threads = [threading.Thread(target=call, args=(i,)) for i in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for response in responses:
        assert response.status_code == 200, response.text
    assert len(exchanges_since(stack, marker, user_id)) == 1
    sources = sorted(response.json()["via"]["target_token"] for response in responses)
    assert sources == ["cache"] * (SIMULTANEOUS - 1) + ["exchange"]


@pytest.mark.parametrize("second", [ALICE, BOB], ids=["same-user", "other-user"])
def test_a_new_user_token_makes_a_new_exchange(stack, second):
    first_token = login(stack, ALICE[0])["access_token"]
    marker = log_marker(stack)
    assert contacts(stack, first_token)["via"]["target_token"] == "exchange"

    second_token = login(stack, second[0])["access_token"]  # a new login: a new user token

    assert contacts(stack, second_token)["via"]["target_token"] == "exchange"
    assert contacts(stack, first_token)["via"]["target_token"] == "cache"
    assert contacts(stack, second_token)["via"]["target_token"] == "cache"
    if second == ALICE:
        assert len(exchanges_since(stack, marker, ALICE[1])) == 2
    else:
        assert len(exchanges_since(stack, marker, ALICE[1])) == len(exchanges_since(stack, marker, BOB[1])) == 1


def test_simultaneous_first_calls_of_many_users_make_one_exchange_each(stack):
    # Users here are user tokens: three logins of each demo user, each its own cache entry.
    tokens = [(user_id, login(stack, email)["access_token"]) for email, user_id in (ALICE, BOB) * 3]
    marker = log_marker(stack)
    calls = [(user_id, token) for user_id, token in tokens for _ in range(2)]
    start = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def call(index):
        start.wait()
        responses[index] = call_source(stack, "/api/contacts", calls[index][1])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for response in responses:
        assert response.status_code == 200, response.text
    sources = [response.json()["via"]["target_token"] for response in responses]
    for _, token in tokens:
        mine = [source for (_, t), source in zip(calls, sources, strict=True) if t == token]
        assert sorted(mine) == ["cache", "exchange"]
    assert len(exchanges_since(stack, marker, ALICE[1])) == 3
    assert len(exchanges_since(stack, marker, BOB[1])) == 3
