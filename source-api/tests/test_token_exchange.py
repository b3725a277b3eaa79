"""TargetTokens: the exchange (step 3), its cache, the target refresh (step 5) and how each
failure of the identity provider is reported."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest
import requests
from conftest import INTERNAL, TARGET_AUDIENCE, grants

from obo_testing import FakeNetwork, response
from source_api import token_cache
from source_api.problems import Problem, UpstreamRefused, UpstreamTimeout, UpstreamUnavailable, UserTokenRefused
from source_api.token_exchange import TargetTokens

TOKEN_URL = INTERNAL + "oauth/token"
USER_TOKEN = "eyJ.user-token-of-alice.sig"


@pytest.fixture
def tokens(settings, idp, session, clock) -> TargetTokens:
    return TargetTokens(settings, idp, session, clock=clock)


def token_posts(network: FakeNetwork):
    return network.calls_to("POST", TOKEN_URL)


def test_many_calls_make_one_exchange_with_the_RFC_8693_form(tokens, network):
    lookups = [tokens.get(USER_TOKEN) for _ in range(5)]
    posts = token_posts(network)
    assert len(posts) == 1
    assert posts[0].data == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": USER_TOKEN,
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "audience": TARGET_AUDIENCE,
        "scope": "read:contacts offline_access",
        "client_id": "source-api",
        "client_secret": "source-api-secret",
    }
    assert posts[0].timeout == (1.5, 4.0)
    assert [lookup.source for lookup in lookups] == ["exchange", "cache", "cache", "cache", "cache"]
    assert {lookup.token.access_token for lookup in lookups} == {"target-at-1"}


def test_the_exchanged_token_records_what_was_issued(tokens, clock):
    token = tokens.get(USER_TOKEN).token
    assert token.expires_at == clock() + 3600
    assert token.obtained_at == clock()
    assert token.scope == "read:contacts offline_access"
    assert token.refresh_token == "target-rt-1"
    assert token.obtained_by == "exchange"


def test_each_user_token_has_its_own_exchange(tokens, network):
    assert tokens.get("user-token-1").token.access_token == "target-at-1"
    assert tokens.get("user-token-2").token.access_token == "target-at-2"
    assert tokens.get("user-token-1").token.access_token == "target-at-1"
    assert [post.data["subject_token"] for post in token_posts(network)] == ["user-token-1", "user-token-2"]


def test_the_cache_holds_no_raw_user_token(tokens):
    tokens.get(USER_TOKEN)
    cache = tokens.cache
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in [*cache._entries, *cache._locks, *cache._logins])
    assert USER_TOKEN not in repr(cache._entries)
    assert USER_TOKEN not in repr(cache._logins)


class _ArrivalCountingLock:
    """A lock that counts the threads that asked for it, so a test can wait for all of them."""

    arrivals = threading.Condition()

    def __init__(self):
        self._lock = threading.Lock()
        self.arrived = 0

    def __enter__(self):
        with self.arrivals:
            self.arrived += 1
            self.arrivals.notify_all()
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()


def test_simultaneous_first_calls_share_one_exchange(tokens, network, token_endpoint, monkeypatch):
    threads_count = 6
    per_user_locks: list[_ArrivalCountingLock] = []

    def make_lock():
        lock = _ArrivalCountingLock()
        per_user_locks.append(lock)
        return lock

    # the per-user-token locks made from now on count who waits for them
    monkeypatch.setattr(token_cache, "threading", SimpleNamespace(Lock=make_lock))

    def slow_exchange(call):
        # answer only once every thread is waiting for this user token
        with _ArrivalCountingLock.arrivals:
            all_waiting = _ArrivalCountingLock.arrivals.wait_for(
                lambda: any(lock.arrived == threads_count for lock in per_user_locks), timeout=10
            )
        assert all_waiting, "the threads did not all wait for the same user token"
        return token_endpoint(call)

    network.route("POST", TOKEN_URL, slow_exchange)
    results = [None] * threads_count

    def call(index):
        results[index] = tokens.get(USER_TOKEN)

    threads = [threading.Thread(target=call, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(token_posts(network)) == 1
    assert {result.token.access_token for result in results} == {"target-at-1"}
    assert sorted(result.source for result in results) == ["cache"] * (threads_count - 1) + ["exchange"]


def test_a_token_outside_the_renew_margin_is_served_from_the_cache(tokens, network, clock):
    tokens.get(USER_TOKEN)
    clock.advance(3600 - 61)
    assert tokens.get(USER_TOKEN).source == "cache"
    assert grants(network) == ["exchange"]


def test_near_expiry_the_target_refresh_token_is_used_with_the_source_api_client(tokens, network, clock):
    tokens.get(USER_TOKEN)
    clock.advance(3600 - 59)
    lookup = tokens.get(USER_TOKEN)
    assert lookup.source == "refresh"
    assert lookup.token.access_token == "target-at-2"
    assert lookup.token.obtained_by == "refresh"
    assert lookup.token.expires_at == clock() + 3600
    assert token_posts(network)[1].data == {
        "grant_type": "refresh_token",
        "refresh_token": "target-rt-1",
        "client_id": "source-api",
        "client_secret": "source-api-secret",
    }
    # the refreshed token is cached in turn
    assert tokens.get(USER_TOKEN).source == "cache"
    assert grants(network) == ["exchange", "refresh_token"]


def test_a_non_rotating_refresh_keeps_the_refresh_token_and_a_rotating_one_replaces_it(tokens, token_endpoint, clock):
    tokens.get(USER_TOKEN)
    token_endpoint.refresh_token = None  # the refresh answer carries none: keep the old one
    clock.advance(3600)
    assert tokens.get(USER_TOKEN).token.refresh_token == "target-rt-1"
    token_endpoint.refresh_token = "target-rt-2"
    clock.advance(3600)
    assert tokens.get(USER_TOKEN).token.refresh_token == "target-rt-2"


@pytest.mark.parametrize(
    "refusal",
    [
        (403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}),
        (403, {"error": "unauthorized_client", "error_description": "Grant type 'refresh_token' not allowed"}),
        (401, {"error": "access_denied", "error_description": "Unauthorized"}),
    ],
    ids=["T33-invalid_grant", "T06-unauthorized_client", "T17-access_denied"],
)
def test_a_refused_refresh_falls_back_to_an_exchange(tokens, network, token_endpoint, clock, refusal):
    def answer(call):
        return refusal if call.data["grant_type"] == "refresh_token" else token_endpoint(call)

    network.route("POST", TOKEN_URL, answer)
    tokens.get(USER_TOKEN)
    clock.advance(3600 - 30)
    lookup = tokens.get(USER_TOKEN)
    assert lookup.source == "exchange"
    assert lookup.token.access_token == "target-at-2"
    assert grants(network) == ["exchange", "refresh_token", "exchange"]
    assert token_posts(network)[2].data["subject_token"] == USER_TOKEN


def test_without_a_refresh_token_an_expiring_token_is_exchanged_again(tokens, network, token_endpoint, clock):
    token_endpoint.refresh_token = None  # T07: the Target API does not allow offline access
    tokens.get(USER_TOKEN)
    clock.advance(3600 - 30)
    assert tokens.get(USER_TOKEN).source == "exchange"
    assert grants(network) == ["exchange", "exchange"]


def test_an_expired_cached_token_is_never_served(tokens, session, token_endpoint, clock):
    token_endpoint.refresh_token = None
    tokens.get(USER_TOKEN)
    clock.advance(7200)
    assert tokens.get(USER_TOKEN).token.access_token == "target-at-2"


@pytest.mark.parametrize("outage", [requests.Timeout("slow"), requests.ConnectionError("down")])
def test_T32_a_still_valid_cached_token_is_served_when_renewal_hits_an_outage(tokens, network, clock, outage):
    tokens.get(USER_TOKEN)
    clock.advance(3600 - 30)
    network.route("POST", TOKEN_URL, outage)
    assert tokens.get(USER_TOKEN).token.access_token == "target-at-1"


def test_forget_makes_the_next_call_exchange_again(tokens, network):
    tokens.get(USER_TOKEN)
    tokens.forget(USER_TOKEN)
    assert tokens.get(USER_TOKEN).source == "exchange"
    assert grants(network) == ["exchange", "exchange"]


def test_forget_all_drops_every_cached_token_and_lock(tokens, session):
    tokens.get("user-1")
    tokens.get("user-2")
    assert tokens.forget_all() == 2
    assert tokens.cache._locks == {}
    assert tokens.get("user-1").source == "exchange"
    assert tokens.forget_all() == 1
    assert tokens.forget_all() == 0


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(settings, idp, session, clock):
    tokens = TargetTokens(settings.model_copy(update={"cache_size": 2}), idp, session, clock=clock)
    tokens.get("user-1")
    tokens.get("user-2")
    tokens.get("user-1")  # user-2 is now the least recently used
    tokens.get("user-3")
    assert tokens.get("user-1").source == "cache"
    assert tokens.get("user-2").source == "exchange"
    assert len(tokens.cache._entries) == 2


def test_a_failed_exchange_caches_nothing(tokens, network, token_endpoint):
    network.route("POST", TOKEN_URL, [requests.ConnectionError("down"), token_endpoint])
    with pytest.raises(UpstreamUnavailable):
        tokens.get(USER_TOKEN)
    assert tokens.get(USER_TOKEN).source == "exchange"


def fail_with(tokens: TargetTokens, network: FakeNetwork, answer) -> BaseException:
    network.route("POST", TOKEN_URL, answer)
    with pytest.raises((Problem, UserTokenRefused)) as caught:
        tokens.get(USER_TOKEN)
    return caught.value


def test_T28_429_is_503_with_the_upstream_retry_after(tokens, network):
    problem = fail_with(
        tokens,
        network,
        (429, {"error": "too_many_requests", "error_description": "Rate limit exceeded"}, {"Retry-After": "17"}),
    )
    assert isinstance(problem, UpstreamUnavailable)
    assert problem.status == 503
    assert problem.retry_after == 17
    assert problem.upstream == "identity-provider"
    assert problem.upstream_error == "too_many_requests"
    assert problem.step == 3


@pytest.mark.parametrize("retry_after", [None, "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "-3"])
def test_429_without_a_usable_retry_after_still_says_when_to_retry(tokens, network, retry_after):
    headers = {"Retry-After": retry_after} if retry_after else {}
    problem = fail_with(tokens, network, (429, {"error": "too_many_requests"}, headers))
    assert isinstance(problem, UpstreamUnavailable)
    assert problem.retry_after == 5


def test_T32_a_timeout_is_UpstreamTimeout_504(tokens, network):
    problem = fail_with(tokens, network, requests.Timeout("read timed out"))
    assert isinstance(problem, UpstreamTimeout)
    assert problem.status == 504
    assert (problem.step, problem.upstream) == (3, "identity-provider")


def test_T32_a_refused_connection_is_UpstreamUnavailable_503(tokens, network):
    problem = fail_with(tokens, network, requests.ConnectionError("connection refused"))
    assert isinstance(problem, UpstreamUnavailable)
    assert problem.status == 503
    assert problem.retry_after == 5


def test_T32_discovery_unavailable_is_UpstreamUnavailable_503(tokens, network):
    network.route("GET", INTERNAL + ".well-known/openid-configuration", requests.ConnectionError("down"))
    with pytest.raises(UpstreamUnavailable):
        tokens.get(USER_TOKEN)


def test_T23_an_expired_subject_token_is_the_users_problem(tokens, network):
    refused = fail_with(
        tokens, network, (400, {"error": "invalid_request", "error_description": "subject_token expired"})
    )
    assert isinstance(refused, UserTokenRefused)
    assert "subject_token expired" in refused.description


@pytest.mark.parametrize(
    ("status", "error", "description"),
    [
        (403, "unauthorized_client", "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed"),
        (403, "access_denied", "Client source-api is not paired with https://target-api.example.com"),
        (403, "consent_required", "The target API does not allow skipping user consent"),
        (400, "invalid_scope", "Scope write:contacts is not allowed"),
        (401, "access_denied", "Unauthorized"),
        (400, "invalid_request", "Missing required parameter: audience"),
        (400, "invalid_request", "Unsupported subject_token_type"),
    ],
    ids=["T16", "T18", "T22", "T21", "T17", "T19", "T26"],
)
def test_a_tenant_misconfiguration_is_UpstreamRefused_502_naming_the_upstream_error(
    tokens, network, status, error, description
):
    problem = fail_with(tokens, network, (status, {"error": error, "error_description": description}))
    assert isinstance(problem, UpstreamRefused)
    assert problem.status == 502
    assert problem.upstream_error == error
    assert problem.upstream_error_description == description
    assert (problem.step, problem.upstream) == (3, "identity-provider")


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"error": "server_error"}),
        response(500, text="Internal Server Error"),
        response(200, text="<html>captive portal</html>"),
        (200, {"token_type": "Bearer"}),
        (200, ["access_token"]),
        (400, ["error"]),
    ],
    ids=["500-json", "500-text", "200-html", "200-no-access-token", "200-list", "400-list"],
)
def test_a_broken_answer_is_UpstreamRefused_502(tokens, network, answer):
    problem = fail_with(tokens, network, answer)
    assert type(problem) is UpstreamRefused
    assert problem.status == 502


@pytest.mark.parametrize(
    "answer",
    [
        requests.ConnectionError("down"),
        requests.Timeout("slow"),
        requests.ConnectTimeout("slow connect"),
        (429, {"error": "too_many_requests"}),
        (500, {"error": "server_error"}),
        (502, {}),
        (503, {"error": "temporarily_unavailable"}),
        response(504, text="Gateway Timeout"),
    ],
    ids=["refused", "timeout", "connect-timeout", "429", "500", "502", "503", "504-text"],
)
def test_T32_an_outage_is_never_a_401(tokens, network, answer):
    problem = fail_with(tokens, network, answer)
    assert not isinstance(problem, UserTokenRefused)
    assert problem.status in (502, 503, 504)


def test_a_login_that_ended_stores_nothing_until_its_token_expires(tokens, network, clock):
    claims = {"sub": "alice", "grant_id": "grant-1", "exp": int(clock()) + 600}
    tokens.get(USER_TOKEN, claims=claims)
    assert tokens.forget_login(USER_TOKEN, claims=claims) == 1
    assert tokens.get(USER_TOKEN, claims=claims).source == "exchange"
    assert tokens.get(USER_TOKEN, claims=claims).source == "exchange"  # not stored again
    clock.advance(601)
    tokens.get(USER_TOKEN, claims=claims)
    assert tokens.get(USER_TOKEN, claims=claims).source == "cache"
    assert grants(network) == ["exchange"] * 4
