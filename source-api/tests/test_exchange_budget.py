"""The per-user exchange budget: one user with fresh tokens cannot spend the Source API
client's whole exchange budget at the identity provider; cached tokens cost nothing."""

from __future__ import annotations

import json
import threading

import pytest
from conftest import ALICE, TARGET_URL, grants

from source_api import create_app
from source_api.exchange_budget import ExchangeBudget, ExchangeBudgetSpent
from source_api.settings import Settings

BOB = "auth0|65f1a2b3c4d5e6f708091a02"
LIMIT = 3


@pytest.fixture
def settings(settings) -> Settings:
    return settings.model_copy(update={"user_exchange_limit": LIMIT, "user_exchange_window": 60})


@pytest.fixture
def target(network):
    network.route("GET", TARGET_URL + "/api/contacts", lambda call: (200, {"owner": ALICE, "contacts": []}))
    return network


@pytest.fixture
def app(settings, network, clock):
    app = create_app(settings)
    target_tokens = app.extensions["source_api"].target_tokens
    target_tokens.clock = target_tokens.budget.clock = clock
    return app


def contacts(client, token: str):
    return client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"})


def test_a_user_with_fresh_tokens_is_stopped_before_the_providers_budget(client, factory, target):
    for _ in range(LIMIT):
        assert contacts(client, factory.issue(sub=ALICE)).status_code == 200

    answer = contacts(client, factory.issue(sub=ALICE))

    assert answer.status_code == 429
    assert answer.mimetype == "application/problem+json"
    body = json.loads(answer.get_data())
    assert (body["status"], body["step"], body["upstream"]) == (429, 3, "source-api")
    assert body["type"] == "about:blank#ExchangeBudgetSpent"
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    assert grants(target) == ["exchange"] * LIMIT  # the refused one never reached the provider


def test_other_users_of_the_same_client_still_get_exchanges(client, factory, target):
    for _ in range(LIMIT + 1):
        contacts(client, factory.issue(sub=ALICE))

    assert contacts(client, factory.issue(sub=BOB)).status_code == 200


def test_cached_tokens_do_not_count(client, factory, target):
    token = factory.issue(sub=ALICE)

    answers = [contacts(client, token) for _ in range(LIMIT * 3)]

    assert {answer.status_code for answer in answers} == {200}
    assert grants(target) == ["exchange"]
    # Two more real exchanges are still allowed: the cache hits spent nothing.
    assert [contacts(client, factory.issue(sub=ALICE)).status_code for _ in range(LIMIT - 1)] == [200, 200]


def test_simultaneous_first_calls_spend_one_exchange(settings, network, factory, target):
    one = settings.model_copy(update={"user_exchange_limit": 1})
    client = create_app(one).test_client()
    token = factory.issue(sub=ALICE)
    statuses = []

    def call():
        statuses.append(contacts(client, token).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert statuses == [200] * 6
    assert grants(target) == ["exchange"]


def test_the_budget_comes_back_as_the_window_slides(client, factory, target, clock):
    for _ in range(LIMIT):
        contacts(client, factory.issue(sub=ALICE))
        clock.advance(10)
    assert contacts(client, factory.issue(sub=ALICE)).status_code == 429

    clock.advance(60 - 10 * LIMIT + 1)  # the first exchange leaves the window

    assert contacts(client, factory.issue(sub=ALICE)).status_code == 200
    assert contacts(client, factory.issue(sub=ALICE)).status_code == 429


def test_a_refused_spend_counts_nothing_and_says_when_to_retry(clock):
    budget = ExchangeBudget(limit=2, window=60, clock=clock)
    budget.spend(ALICE)
    clock.advance(20)
    budget.spend(ALICE)
    clock.advance(5)

    with pytest.raises(ExchangeBudgetSpent) as refused:
        budget.spend(ALICE)

    assert refused.value.retry_after == 35  # when the first exchange leaves the window
    clock.advance(35)
    budget.spend(ALICE)  # one slot back: the refusal above was not counted


def test_the_users_remembered_are_bounded(clock):
    budget = ExchangeBudget(limit=1, window=60, clock=clock, max_users=2)
    for user in ("a", "b", "c"):
        budget.spend(user)

    budget.spend("a")  # forgotten as the least recently seen, so it may exchange again
    with pytest.raises(ExchangeBudgetSpent):
        budget.spend("c")


def test_the_settings_read_the_environment_and_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("SOURCE_API_USER_EXCHANGE_LIMIT", "7")
    monkeypatch.setenv("SOURCE_API_USER_EXCHANGE_WINDOW", "30")
    assert (Settings().user_exchange_limit, Settings().user_exchange_window) == (7, 30)
    monkeypatch.setenv("SOURCE_API_USER_EXCHANGE_LIMIT", "0")
    with pytest.raises(ValueError, match=r"(?i)user_exchange_limit"):
        Settings()


def test_the_default_is_well_above_a_person_and_below_the_clients(monkeypatch):
    monkeypatch.delenv("SOURCE_API_USER_EXCHANGE_LIMIT", raising=False)
    monkeypatch.delenv("SOURCE_API_USER_EXCHANGE_WINDOW", raising=False)
    settings = Settings()
    # The tenant's per-client default is 100 exchanges per 60 seconds.
    assert (settings.user_exchange_limit, settings.user_exchange_window) == (20, 60)
