"""Three Source API replicas behind HAProxy share one token cache in a real Redis.

Everything here goes through the load balancer at the Source API's URL, as the web app
does; exchanges are counted where they happen, in the identity provider's tenant log.
The stack is conftest's ``scale_stack``: its own processes, beside the suite's.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections import Counter

import pytest
import redis
import requests
from backend_client import call_api, call_source, login
from browser_user import web_app_call, web_app_post, web_app_sign_in
from demo_tenant import ALICE, BOB, TIMEOUT
from tenant_admin import exchanges_since, log_marker

REPLICAS = ("source-api-1", "source-api-2", "source-api-3")
SIMULTANEOUS = 6  # calls of each user token at once
JWT = re.compile(rb"eyJ[\w-]+\.[\w-]+\.")


def contacts(stack, user_token: str) -> dict:
    response = call_source(stack, "/api/contacts", user_token)
    assert response.status_code == 200, response.text
    return response.json()


def redis_client(stack) -> redis.Redis:
    return redis.Redis(port=stack["redis"].service.port, socket_timeout=TIMEOUT)


def instances(stack, count: int) -> list[str]:
    """The replica named by each of ``count`` GET /healthz through the balancer, in order."""
    answers = []
    for _ in range(count):
        response = requests.get(stack["source-api"].url + "/healthz", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert {answer["cache"] for answer in answers} == {"redis"}, answers
    return [answer["instance"] for answer in answers]


def wait_all_in_rotation(stack, within: float = 30.0) -> None:
    """Until the balancer sends requests to every replica again (its health check, 1 s apart,
    takes a replica back once it answers)."""
    deadline = time.monotonic() + within
    while len(set(instances(stack, len(REPLICAS) * 2))) < len(REPLICAS):
        assert time.monotonic() < deadline, "the balancer did not take every replica back"


def simultaneously(calls) -> list:
    """Run every call at once (each on a thread, released together); their results in order."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def contacts_lines(stack, name: str) -> int:
    """How many contacts requests replica ``name`` has logged (gunicorn's access log)."""
    return stack[name].log.read_text(errors="replace").count('"GET /api/contacts"')


def test_healthz_through_the_balancer_names_three_instances_in_turn(scale_stack):
    wait_all_in_rotation(scale_stack)

    named = instances(scale_stack, len(REPLICAS) * 2)

    assert len(set(named[:3])) == 3, named
    assert named[3:] == named[:3], named  # round robin: the same three, in the same order
    assert {n.rpartition(":")[2] for n in named} == {str(scale_stack[r].service.port) for r in REPLICAS}


def test_simultaneous_first_calls_of_many_logins_make_one_exchange_each_across_replicas(scale_stack):
    logins = [(user, login(scale_stack, user[0])["access_token"]) for user in (ALICE, ALICE, BOB, BOB)]
    marker = log_marker(scale_stack)
    before = {name: contacts_lines(scale_stack, name) for name in REPLICAS}
    calls = [
        (index, lambda token=token: call_source(scale_stack, "/api/contacts", token))
        for index, (_, token) in enumerate(logins)
        for _ in range(SIMULTANEOUS)
    ]

    responses = simultaneously([call for _, call in calls])

    for response in responses:
        assert response.status_code == 200, response.text
    for index, (user, _) in enumerate(logins):
        answers = [r.json() for (i, _), r in zip(calls, responses, strict=True) if i == index]
        assert {answer["owner"] for answer in answers} == {user[1]}
        sources = Counter(answer["via"]["target_token"] for answer in answers)
        assert sources == {"exchange": 1, "cache": SIMULTANEOUS - 1}, sources
    assert len(exchanges_since(scale_stack, marker, ALICE[1])) == 2
    assert len(exchanges_since(scale_stack, marker, BOB[1])) == 2
    # Every replica served some of them: the single flight held across processes.
    assert all(contacts_lines(scale_stack, name) > before[name] for name in REPLICAS)


def test_two_exchange_scopes_on_one_redis_never_share_an_entry(scale_stack):
    """A replica asking the Target API for another scope shares the Redis but not the entry."""
    user_token = login(scale_stack)["access_token"]
    marker = log_marker(scale_stack)
    with scale_stack.another("source-api-1", SOURCE_API_EXCHANGE_SCOPE="read:contacts") as narrower:
        responses = simultaneously(
            [
                lambda: call_api(narrower.url + "/api/contacts", user_token),
                lambda: call_source(scale_stack, "/api/contacts", user_token),
            ]
            * SIMULTANEOUS
        )

    for response in responses:
        assert response.status_code == 200, response.text
    narrow_answers = [r.json()["via"] for r in responses[0::2]]
    wide_answers = [r.json()["via"] for r in responses[1::2]]
    assert {via["scope"] for via in narrow_answers} == {"read:contacts"}
    assert {via["scope"] for via in wide_answers} == {"read:contacts offline_access"}
    for answers in (narrow_answers, wide_answers):
        assert Counter(via["target_token"] for via in answers)["exchange"] == 1
    assert len(exchanges_since(scale_stack, marker, ALICE[1])) == 2


def test_a_redis_dump_holds_no_token_and_no_jwt(scale_stack):
    tokens = [login(scale_stack, user[0]) for user in (ALICE, BOB)]
    for token in tokens:
        for _ in range(len(REPLICAS)):
            assert contacts(scale_stack, token["access_token"])["via"]["refresh_token"]  # kept too, sealed
    client = redis_client(scale_stack)

    dump = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        value = {
            "string": lambda k: client.get(k),
            "set": lambda k: b" ".join(sorted(client.smembers(k))),
            "hash": lambda k: b" ".join(a + b" " + b for a, b in client.hgetall(k).items()),
            "list": lambda k: b" ".join(client.lrange(k, 0, -1)),
            "zset": lambda k: b" ".join(client.zrange(k, 0, -1)),
        }[kind](key)
        dump.append(key + b" " + (value or b""))
    everything = b"\n".join(dump)

    assert len(dump) >= 2 * len(tokens), dump  # the cache is in Redis: an entry and more per login
    assert not JWT.search(everything)
    for token in tokens:
        for name in ("access_token", "refresh_token", "id_token"):
            assert token[name].encode() not in everything
            assert token[name].encode()[-16:] not in everything


@pytest.mark.parametrize("kind", ["stopped", "paused"])
def test_redis_stopped_or_frozen_costs_exchanges_never_a_failure_and_caching_comes_back(scale_stack, kind):
    user_token = login(scale_stack)["access_token"]
    contacts(scale_stack, user_token)

    with scale_stack["redis"].fault(kind):
        responses = simultaneously([lambda: call_source(scale_stack, "/api/contacts", user_token)] * 6)
        responses += [call_source(scale_stack, "/api/contacts", login(scale_stack)["access_token"])]
        assert [r.status_code for r in responses] == [200] * len(responses), [r.text for r in responses]

    fresh = login(scale_stack)["access_token"]
    sources = [contacts(scale_stack, fresh)["via"]["target_token"]]
    deadline = time.monotonic() + 30
    while sources[-1] != "cache":  # each replica tries Redis again a moment after an error
        assert time.monotonic() < deadline, f"the cache was not used again: {sources}"
        sources.append(contacts(scale_stack, fresh)["via"]["target_token"])
    assert redis_client(scale_stack).dbsize() > 0


def test_a_killed_replica_costs_no_failure_and_no_new_exchange_for_cached_users(scale_stack):
    tokens = {user: login(scale_stack, user[0])["access_token"] for user in (ALICE, BOB)}
    for token in tokens.values():
        for _ in range(len(REPLICAS)):
            contacts(scale_stack, token)
    marker = log_marker(scale_stack)
    victim = scale_stack["source-api-2"]

    os.killpg(victim.process.pid, signal.SIGKILL)  # master and workers, as a crash would
    victim.process.wait()
    try:
        answers = [contacts(scale_stack, token) for _ in range(3 * len(REPLICAS)) for token in tokens.values()]
    finally:
        victim.start()
        wait_all_in_rotation(scale_stack)

    assert {answer["via"]["target_token"] for answer in answers} == {"cache"}
    for user in tokens:
        assert exchanges_since(scale_stack, marker, user[1]) == []


def test_logout_at_the_web_app_drops_the_logins_cached_tokens_on_every_replica(scale_stack):
    client = redis_client(scale_stack)
    before = set(client.keys())
    browser = requests.Session()
    assert web_app_sign_in(scale_stack, browser).status_code == 302
    pages = [web_app_call(scale_stack, browser).text for _ in range(len(REPLICAS))]
    assert "a fresh exchange" in pages[0]
    assert all("from its cache" in page for page in pages[1:]), pages[1:]
    cached = {key for key in set(client.keys()) - before if b"entry:" in key or b"renew:" in key}
    assert cached, "the web app's call left no entry in Redis"

    web_app_post(scale_stack, browser, "/logout")

    assert not cached & set(client.keys())
