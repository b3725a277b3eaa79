"""The token cache in Redis (fakeredis here; the e2e tests use a real redis-server): two
``TargetTokens`` on one Redis stand for two replicas."""

from __future__ import annotations

import logging
import re
import threading

import fakeredis
import pytest
from conftest import INTERNAL, grants

from obo_testing import Clock
from source_api.cache_sealing import Sealer
from source_api.exchange_budget import ExchangeBudgetSpent, SharedExchangeBudget
from source_api.problems import UserTokenRefused
from source_api.redis_token_cache import PREFIX, RedisLink, RedisTokenCache
from source_api.token_cache import TargetToken
from source_api.token_exchange import TOKEN_EXCHANGE, TargetTokens

TOKEN_URL = INTERNAL + "oauth/token"
SECRET = "a-cache-secret-of-at-least-32-characters"
ALICE = {"iss": "http://localhost:9000/", "sub": "auth0|alice", "grant_id": "grant-alice-1"}
ALICE_AGAIN = {**ALICE, "grant_id": "grant-alice-2"}  # a second login of alice
BOB = {"iss": "http://localhost:9000/", "sub": "auth0|bob", "grant_id": "grant-bob-1"}


class Replica:
    """One Source API process: its own TargetTokens, Redis client and link."""

    def __init__(self, settings, idp, session, clock, server, lock_timeout=5.0):
        self.redis = fakeredis.FakeRedis(server=server)
        self.link_clock = Clock(0)
        self.link = RedisLink(self.redis, clock=self.link_clock)
        self.cache = RedisTokenCache(self.link, Sealer(SECRET), lock_timeout, clock)
        self.tokens = TargetTokens(settings, idp, session, clock=clock, cache=self.cache)

    def get(self, user_token: str, claims: dict):
        return self.tokens.get(user_token, claims={**claims, "exp": int(self.tokens.clock()) + 7200})


@pytest.fixture
def server():
    return fakeredis.FakeServer()


@pytest.fixture
def replicas(settings, idp, session, clock, server):
    return [Replica(settings, idp, session, clock, server) for _ in range(2)]


@pytest.fixture
def issued_per_subject(network, token_endpoint):
    """Each issued token names the user token it was exchanged for: a wrong user's token shows."""

    def answer(call):
        status, body = token_endpoint(call)
        if call.data["grant_type"] == TOKEN_EXCHANGE:
            body["access_token"] = f"target-for-{call.data['subject_token']}-{token_endpoint.issued}"
        return status, body

    network.route("POST", TOKEN_URL, answer)


def dump(server) -> list[bytes]:
    client = fakeredis.FakeRedis(server=server)
    everything = []
    for name in client.keys("*"):
        everything.append(name)
        kind = client.type(name)
        if kind == b"string":
            everything.append(client.get(name))
        elif kind == b"set":
            everything.extend(client.smembers(name))
        elif kind == b"zset":
            everything.extend(member for member, _ in client.zrange(name, 0, -1, withscores=True))
    return everything


def test_two_replicas_make_one_exchange_for_a_user_token(replicas, network):
    first = replicas[0].get("user-token-1", ALICE)
    second = replicas[1].get("user-token-1", ALICE)
    assert (first.source, second.source) == ("exchange", "cache")
    assert second.token.access_token == first.token.access_token == "target-at-1"
    assert grants(network) == ["exchange"]


def test_a_refreshed_user_token_of_the_same_login_uses_the_cached_entry(replicas, network):
    replicas[0].get("user-token-1", ALICE)
    assert replicas[1].get("user-token-1-refreshed", ALICE).source == "cache"
    assert grants(network) == ["exchange"]


def test_two_users_two_logins_two_scopes_never_share_an_entry(settings, idp, session, clock, server, network):
    replica = Replica(settings, idp, session, clock, server)
    other_scope = Replica(settings.model_copy(update={"exchange_scope": "read:contacts"}), idp, session, clock, server)
    seen = {
        replica.get("user-token-1", ALICE).token.access_token,
        replica.get("user-token-2", ALICE_AGAIN).token.access_token,
        replica.get("user-token-3", BOB).token.access_token,
        other_scope.get("user-token-1", ALICE).token.access_token,
    }
    assert len(seen) == 4
    assert grants(network) == ["exchange"] * 4


def test_without_grant_id_the_jti_then_the_token_itself_is_the_login(replicas, network):
    no_grant = {"iss": ALICE["iss"], "sub": ALICE["sub"]}
    replicas[0].get("user-token-1", {**no_grant, "jti": "jti-1"})
    assert replicas[1].get("user-token-2", {**no_grant, "jti": "jti-1"}).source == "cache"
    assert replicas[1].get("user-token-3", {**no_grant, "jti": "jti-2"}).source == "exchange"
    replicas[0].get("user-token-4", no_grant)
    assert replicas[1].get("user-token-4", no_grant).source == "cache"
    assert replicas[1].get("user-token-5", no_grant).source == "exchange"


def test_simultaneous_calls_of_many_users_on_two_replicas_each_get_their_own_token(
    replicas, network, issued_per_subject
):
    users = [("user-token-a", ALICE), ("user-token-a2", ALICE_AGAIN), ("user-token-b", BOB)]
    results: list[tuple[str, str]] = []
    guard = threading.Lock()

    def call(replica, user_token, claims):
        token = replica.get(user_token, claims).token.access_token
        with guard:
            results.append((user_token, token))

    threads = [
        threading.Thread(target=call, args=(replicas[n % 2], user_token, claims))
        for n in range(6)
        for user_token, claims in users
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 18
    assert all(token.startswith(f"target-for-{user_token}-") for user_token, token in results)
    # One exchange per login, across both replicas.
    assert sorted(call.data["subject_token"] for call in network.calls_to("POST", TOKEN_URL)) == sorted(
        user_token for user_token, _ in users
    )


def test_a_redis_dump_holds_no_token_and_no_jwt(replicas, server, factory, network, token_endpoint):
    user_token = factory.issue(sub=ALICE["sub"])
    target_token = factory.issue(sub=ALICE["sub"], aud="https://target-api.example.com")

    def jwt_answer(call):
        status, body = token_endpoint(call)
        return status, {**body, "access_token": target_token}

    network.route("POST", TOKEN_URL, jwt_answer)
    assert replicas[0].get(user_token, ALICE).token.access_token == target_token
    replicas[0].tokens.budget.spend(ALICE["sub"])
    everything = b" ".join(dump(server))
    for kind in (b"entry:", b"renew:", b"login:", b"exchange-budget:"):
        assert kind in everything
    for secret in (user_token, target_token, "target-rt-1", ALICE["sub"], ALICE["grant_id"], "eyJ"):
        assert secret.encode() not in everything


def test_an_entry_expires_at_the_tokens_expiry_minus_the_renew_margin(replicas, server):
    replicas[0].get("user-token-1", ALICE)
    client = fakeredis.FakeRedis(server=server)
    (entry,) = client.keys(PREFIX + "entry:*")
    (renew,) = client.keys(PREFIX + "renew:*")
    (index,) = client.keys(PREFIX + "login:*")
    assert 3_530_000 < client.pttl(entry) <= 3_540_000  # 3600 s less the 60 s margin
    # The refresh token lives as long as the user's token (7200 s), and the index with it.
    assert 7_190_000 < client.pttl(renew) <= 7_200_000
    assert 7_190_000 < client.pttl(index) <= 7_200_000


def test_a_flushed_redis_costs_one_exchange(replicas, server, network):
    replicas[0].get("user-token-1", ALICE)
    fakeredis.FakeRedis(server=server).flushall()
    assert replicas[1].get("user-token-1", ALICE).source == "exchange"
    assert replicas[0].get("user-token-1", ALICE).source == "cache"
    assert grants(network) == ["exchange", "exchange"]


def test_near_expiry_another_replica_renews_with_the_refresh_token(replicas, network, clock, server):
    replicas[0].get("user-token-1", ALICE)
    clock.advance(3600 - 30)
    assert replicas[1].get("user-token-1", ALICE).source == "refresh"
    assert replicas[0].get("user-token-1", ALICE).source == "cache"
    assert grants(network) == ["exchange", "refresh_token"]


def test_an_entry_past_its_use_is_renewed_with_its_refresh_token(replicas, network, server):
    replicas[0].get("user-token-1", ALICE)
    client = fakeredis.FakeRedis(server=server)
    client.delete(*client.keys(PREFIX + "entry:*"))  # what Redis does at expiry minus margin
    assert replicas[1].get("user-token-1", ALICE).source == "refresh"
    assert grants(network) == ["exchange", "refresh_token"]


def test_a_corrupted_entry_is_a_logged_miss(replicas, server, network, caplog):
    replicas[0].get("user-token-1", ALICE)
    client = fakeredis.FakeRedis(server=server)
    for name in client.keys(PREFIX + "entry:*") + client.keys(PREFIX + "renew:*"):
        client.set(name, b"\x00" * 40, keepttl=True)
    with caplog.at_level(logging.WARNING):
        assert replicas[1].get("user-token-1", ALICE).source == "exchange"
    assert "an entry that does not open" in caplog.text
    assert grants(network) == ["exchange", "exchange"]


def test_an_entry_copied_under_another_users_key_does_not_open(replicas, server, network, issued_per_subject):
    client = fakeredis.FakeRedis(server=server)
    replicas[0].get("user-token-a", ALICE)
    (alice_entry,) = client.keys(PREFIX + "entry:*")
    replicas[0].get("user-token-b", BOB)
    bob_entry = next(name for name in client.keys(PREFIX + "entry:*") if name != alice_entry)
    client.set(bob_entry, client.get(alice_entry))
    client.delete(*client.keys(PREFIX + "renew:*"))
    token = replicas[1].get("user-token-b", BOB).token.access_token
    assert token.startswith("target-for-user-token-b-")


def test_another_secret_opens_nothing(settings, idp, session, clock, server, network):
    Replica(settings, idp, session, clock, server).get("user-token-1", ALICE)
    other = Replica(settings, idp, session, clock, server)
    other.cache.sealer = Sealer("another-secret-of-at-least-32-characters")
    assert other.get("user-token-1", ALICE).source == "exchange"


def test_a_replica_waits_for_the_exchange_another_holds_the_lock_for(replicas, network, monkeypatch):
    holder, waiter = replicas
    key = holder.tokens.key("user-token-1", claims=ALICE)
    waiting = threading.Event()
    make_lock = waiter.redis.lock

    def lock(*args, **kwargs):
        made = make_lock(*args, **kwargs)
        acquire = made.acquire

        def announced_acquire(*a, **k):
            waiting.set()
            return acquire(*a, **k)

        made.acquire = announced_acquire
        return made

    monkeypatch.setattr(waiter.redis, "lock", lock)
    result = {}
    with holder.cache.single_flight(key):
        thread = threading.Thread(target=lambda: result.setdefault("lookup", waiter.get("user-token-1", ALICE)))
        thread.start()
        assert waiting.wait(timeout=10)
        # The holder's exchange, stored under its lock.
        now = holder.tokens.clock()
        obtained = TargetToken("target-from-holder", now + 3600, "read:contacts", now, "exchange")
        holder.cache.put(key, obtained, now + 3540, now + 3540)
    thread.join(timeout=10)
    assert result["lookup"].source == "cache"
    assert result["lookup"].token.access_token == "target-from-holder"
    assert grants(network) == []


def test_a_lock_never_released_costs_a_wait_then_an_exchange_not_a_failure(
    settings, idp, session, clock, server, network, caplog
):
    stuck = Replica(settings, idp, session, clock, server, lock_timeout=0.2)
    other = fakeredis.FakeRedis(server=server)
    key = stuck.tokens.key("user-token-1", claims=ALICE)
    assert other.lock(f"{PREFIX}lock:{key.entry}", timeout=60).acquire(blocking=False)
    with caplog.at_level(logging.WARNING):
        assert stuck.get("user-token-1", ALICE).source == "exchange"
    assert "for another replica's exchange" in caplog.text


def test_a_lock_is_released_only_by_its_owner(replicas, server):
    replica = replicas[0]
    key = replica.tokens.key("user-token-1", claims=ALICE)
    name = f"{PREFIX}lock:{key.entry}"
    client = fakeredis.FakeRedis(server=server)
    with replica.cache.single_flight(key):
        # The lock timed out and another replica took it.
        client.delete(name)
        assert client.lock(name, timeout=60).acquire(blocking=False)
        taken = client.get(name)
    assert client.get(name) == taken


def test_forget_login_drops_that_logins_entries_on_every_replica(replicas, network):
    replicas[0].get("user-token-1", ALICE)
    replicas[0].get("user-token-2", ALICE_AGAIN)
    replicas[0].get("user-token-3", BOB)
    assert replicas[1].tokens.forget_login("user-token-1", claims=ALICE) == 1
    assert replicas[0].get("user-token-1", ALICE).source == "exchange"
    assert replicas[0].get("user-token-2", ALICE_AGAIN).source == "cache"
    assert replicas[0].get("user-token-3", BOB).source == "cache"


def test_forget_login_reads_the_index_and_scans_nothing(replicas, server, monkeypatch):
    replicas[0].get("user-token-1", ALICE)
    monkeypatch.setattr(replicas[1].redis, "scan_iter", None)
    monkeypatch.setattr(replicas[1].redis, "keys", None)
    assert replicas[1].tokens.forget_login("user-token-1", claims=ALICE) == 1
    assert not fakeredis.FakeRedis(server=server).keys(PREFIX + "*")


def test_a_revoked_login_refused_at_the_exchange_drops_its_entries(replicas, network, clock):
    replicas[0].get("user-token-1", ALICE)
    clock.advance(3600)  # its token expired; renewal is refused: the login was revoked
    network.route("POST", TOKEN_URL, lambda call: (400, _revoked(call)))
    with pytest.raises(UserTokenRefused):
        replicas[1].get("user-token-1", ALICE)
    key = replicas[0].tokens.key("user-token-1", claims=ALICE)
    assert replicas[0].cache.get(key) is None


def test_an_exchange_under_way_when_the_login_ends_stores_nothing(replicas, network, token_endpoint):
    exchanging, logging_out = replicas

    def exchange_during_logout(call):
        # The logout reaches another replica while this exchange is at the provider.
        assert logging_out.tokens.forget_login("user-token-1", claims={**ALICE, "exp": 1_700_007_200}) == 0
        return token_endpoint(call)

    network.route("POST", TOKEN_URL, exchange_during_logout)
    assert exchanging.get("user-token-1", ALICE).source == "exchange"
    key = exchanging.tokens.key("user-token-1", claims=ALICE)
    assert exchanging.cache.get(key) is None
    # Another login of the same user is not affected.
    network.route("POST", TOKEN_URL, token_endpoint)
    exchanging.get("user-token-2", ALICE_AGAIN)
    assert exchanging.get("user-token-2", ALICE_AGAIN).source == "cache"


def test_a_refusal_that_is_no_revocation_leaves_the_login_alone(replicas, network, clock, token_endpoint):
    replicas[0].get("user-token-1", ALICE)
    clock.advance(3600)
    expired = {"error": "invalid_request", "error_description": "subject_token expired"}
    network.route(
        "POST",
        TOKEN_URL,
        lambda call: (400, expired) if call.data["grant_type"] == TOKEN_EXCHANGE else (400, {"error": "invalid_grant"}),
    )
    with pytest.raises(UserTokenRefused):
        replicas[1].get("user-token-1", ALICE)
    network.route("POST", TOKEN_URL, token_endpoint)
    replicas[1].get("user-token-1b", ALICE)
    assert replicas[0].get("user-token-1b", ALICE).source == "cache"


def _revoked(call):
    if call.data["grant_type"] == "refresh_token":
        return {"error": "invalid_grant", "error_description": "revoked"}
    return {"error": "invalid_request", "error_description": "subject_token revoked"}


def test_forget_all_empties_the_cache_for_every_replica(replicas):
    replicas[0].get("user-token-1", ALICE)
    replicas[0].get("user-token-3", BOB)
    assert replicas[1].tokens.forget_all() == 2
    assert replicas[0].get("user-token-1", ALICE).source == "exchange"


def test_the_exchange_budget_counts_across_replicas(settings, idp, session, clock, server, network):
    limited = settings.model_copy(update={"user_exchange_limit": 2})
    one, two = (Replica(limited, idp, session, clock, server) for _ in range(2))
    assert isinstance(one.tokens.budget, SharedExchangeBudget)
    one.get("user-token-1", ALICE)
    two.get("user-token-2", ALICE_AGAIN)
    with pytest.raises(ExchangeBudgetSpent) as spent:
        one.get("user-token-3", {**ALICE, "grant_id": "grant-alice-3"})
    assert spent.value.retry_after == 60
    assert two.get("user-token-4", BOB).source == "exchange"  # another user's budget
    clock.advance(61)
    assert two.get("user-token-3", {**ALICE, "grant_id": "grant-alice-3"}).source == "exchange"


def test_redis_down_costs_exchanges_and_a_log_line_then_it_is_used_again(replicas, server, network, caplog):
    replica = replicas[0]
    replica.get("user-token-1", ALICE)
    server.connected = False
    with caplog.at_level(logging.WARNING):
        assert replica.get("user-token-1", ALICE).source == "exchange"
        assert replica.get("user-token-1", ALICE).source == "exchange"
    assert caplog.text.count("Redis failed") == 1
    assert replica.cache.health() == {"cache": "redis", "redis": "down"}
    server.connected = True
    replica.link_clock.advance(1.0)
    with caplog.at_level(logging.WARNING):
        assert replica.get("user-token-1", ALICE).source == "cache"
    assert "Redis answers again" in caplog.text
    assert replica.cache.health() == {"cache": "redis", "redis": "up"}


def test_the_budget_counts_in_this_process_while_redis_is_down(settings, idp, session, clock, server, network):
    replica = Replica(settings.model_copy(update={"user_exchange_limit": 1}), idp, session, clock, server)
    server.connected = False
    replica.get("user-token-1", ALICE)
    with pytest.raises(ExchangeBudgetSpent):
        replica.get("user-token-2", ALICE_AGAIN)


def test_keys_are_hashes(replicas, server):
    replicas[0].get("user-token-1", ALICE)
    names = fakeredis.FakeRedis(server=server).keys("*")
    assert names
    assert all(
        re.fullmatch(rb"source-api:(token-cache:(entry|renew|login)|exchange-budget):[0-9a-f]{64}", n) for n in names
    )
