"""What `make test-containers` checks in the scaled layout (docker-compose.scale.yml):

- GET /healthz at the Source API's published port names three replicas in turn, each with
  its cache in Redis;
- simultaneous first calls of each user, spread over the replicas by the balancer, make one
  token exchange per user in all (the tenant log counts them);
- Redis, read from inside its container, holds no token and no JWT.
"""

from __future__ import annotations

import re
import threading

import requests

from container_test.container_checks import ALICE, BOB, MANAGEMENT, TIMEOUT, expect, log_in_directly
from container_test.container_steps import StepFailed

SIMULTANEOUS = 6
EXCHANGE = "success_on_behalf_of_token_exchange"
ALICE_ID = "auth0|65f1a2b3c4d5e6f708091a01"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.")


def instances_in_turn(source_url: str, replicas: int = 3) -> list[str]:
    answers = []
    for _ in range(replicas * 2):
        response = requests.get(source_url + "/healthz", timeout=TIMEOUT)
        expect(response.status_code == 200, f"GET {source_url}/healthz answered {response.status_code}")
        answers.append(response.json())
    named = [answer.get("instance") for answer in answers]
    expect({a.get("cache") for a in answers} == {"redis"}, f"the replicas' caches: {answers}")
    expect(len(set(named[:replicas])) == replicas, f"/healthz through the balancer named {named}")
    expect(named[replicas:] == named[:replicas], f"/healthz did not name the replicas in turn: {named}")
    return named[:replicas]


def exchanges(issuer: str, user_id: str) -> int:
    """How many successful token exchanges the tenant log holds for ``user_id``."""
    token = requests.post(
        issuer + "oauth/token",
        data={"grant_type": "client_credentials", "audience": issuer + "api/v2/", **MANAGEMENT},
        timeout=TIMEOUT,
    )
    expect(token.status_code == 200, f"a Management API token: {token.status_code} {token.text}")
    response = requests.get(
        issuer + "api/v2/logs",
        params={"type": EXCHANGE, "user_id": user_id, "per_page": 1, "include_totals": "true"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=TIMEOUT,
    )
    expect(response.status_code == 200, f"the tenant log: {response.status_code} {response.text}")
    return int(response.json()["total"])


def one_exchange_per_user(issuer: str, source_url: str, web_url: str) -> list[str]:
    """Each user's SIMULTANEOUS first calls at once; the tokens used, for the Redis check."""
    users = [(ALICE, ALICE_ID), BOB]
    tokens = [log_in_directly(issuer, web_url, email)[0] for email, _ in users]
    before = [exchanges(issuer, user_id) for _, user_id in users]
    calls = [token["access_token"] for token in tokens for _ in range(SIMULTANEOUS)]
    start = threading.Barrier(len(calls))
    statuses: list[int | str] = [0] * len(calls)

    def call(index: int) -> None:
        start.wait()
        try:
            response = requests.get(
                source_url + "/api/contacts", headers={"Authorization": f"Bearer {calls[index]}"}, timeout=TIMEOUT * 3
            )
            statuses[index] = response.status_code
        except requests.RequestException as error:
            statuses[index] = str(error)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expect(statuses == [200] * len(calls), f"the simultaneous calls answered {statuses}")
    made = [exchanges(issuer, user_id) - count for (_, user_id), count in zip(users, before, strict=True)]
    expect(made == [1, 1], f"{SIMULTANEOUS} simultaneous first calls of each user made {made} exchanges, not one each")
    return [value for token in tokens for value in (token["access_token"], token.get("refresh_token", ""))]


def redis_holds_nothing_readable(engine, container: str, tokens: list[str]) -> int:
    """Every key and value in Redis, read in its container with redis-cli; how many keys."""

    def cli(*arguments: str) -> str:
        command = [*engine.engine, "exec", container, "redis-cli", "--no-raw", *arguments]
        return engine.steps.run(command, env=engine.env, timeout=60).output

    listing = cli("--scan")
    keys = [key.strip('"') for key in listing.split()]
    expect(bool(keys), "Redis holds no key: the replicas do not cache there")
    read = {
        "string": ["get"],
        "set": ["smembers"],
        "hash": ["hgetall"],
        "list": ["lrange", "0", "-1"],
        "zset": ["zrange", "0", "-1", "withscores"],
    }
    dump = [listing]
    for key in keys:
        kind = cli("type", key).strip().strip('"')
        if kind not in read:
            raise StepFailed(f"Redis key {key} is a {kind}, which this check does not read")
        dump.append(cli(read[kind][0], key, *read[kind][1:]))
    everything = "\n".join(dump)
    expect(not JWT.search(everything), "Redis holds a JWT")
    expect(not any(t and t in everything for t in tokens), "Redis holds a user's token")
    return len(keys)
