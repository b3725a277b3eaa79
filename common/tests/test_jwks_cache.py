"""JWKSCache: one fetch for many look-ups, throttled refetch on unknown kid (T14), cached
keys served during an outage (T32)."""

from __future__ import annotations

import pytest
import requests
from conftest import JWKS_URL

from obo_common import JWKSCache, JWKSUnavailable
from obo_common.idp_endpoints import IdentityProviderUnavailable
from obo_testing import FakeNetwork, TokenFactory


def fetches(network: FakeNetwork) -> int:
    return len(network.calls_to("GET", JWKS_URL))


def test_many_look_ups_make_one_fetch(jwks, network, factory):
    for _ in range(20):
        assert jwks.key(factory.key.kid).kid == factory.key.kid
    assert fetches(network) == 1
    assert jwks.fetches == 1


def test_every_fetch_has_a_timeout(jwks, network, factory):
    jwks.key(factory.key.kid)
    assert network.calls[0].timeout is not None


def test_T14_an_unknown_kid_refetches_once_and_finds_the_rotated_key(jwks, network, factory):
    old_kid = factory.key.kid
    assert jwks.key(old_kid) is not None
    factory.rotate("test-key-2")
    assert jwks.key("test-key-2").kid == "test-key-2"
    assert fetches(network) == 2
    assert jwks.key("test-key-2") is not None
    assert fetches(network) == 2
    # the old key was rotated away: the refetch dropped it, and it is not served any more
    assert jwks.key(old_kid) is None


def test_T14_the_same_unknown_kid_within_the_interval_does_not_refetch(jwks, network, factory, clock):
    jwks.key(factory.key.kid)
    assert jwks.key("made-up-1") is None
    assert fetches(network) == 2
    clock.advance(29)
    assert jwks.key("made-up-1") is None
    assert fetches(network) == 2
    # a known key is still served meanwhile
    assert jwks.key(factory.key.kid) is not None
    assert fetches(network) == 2


def test_T14_made_up_kids_make_at_most_five_fetches_per_interval(jwks, network, factory, clock):
    jwks.key(factory.key.kid)
    for n in range(8):
        assert jwks.key(f"made-up-{n}") is None
    assert fetches(network) == 1 + 5
    clock.advance(31)
    assert jwks.key("made-up-9") is None
    assert fetches(network) == 1 + 6


def test_T14_a_rotation_right_after_a_made_up_kid_is_seen_at_once(jwks, session, factory, clock):
    jwks.key(factory.key.kid)
    assert jwks.key("made-up") is None
    factory.rotate("rotated-in", keep_old=True)
    assert jwks.key("rotated-in").kid == "rotated-in"


def test_T14_after_the_interval_an_unknown_kid_refetches_again(jwks, network, factory, clock):
    jwks.key(factory.key.kid)
    assert jwks.key("made-up") is None
    clock.advance(31)
    factory.rotate("made-up", keep_old=True)
    assert jwks.key("made-up").kid == "made-up"
    assert fetches(network) == 3


def test_T14_a_key_rotated_in_during_the_throttle_interval_is_found_after_it(jwks, session, factory, clock):
    jwks.key(factory.key.kid)
    assert jwks.key("test-key-2") is None  # asked for before the provider published it
    factory.rotate("test-key-2", keep_old=True)
    clock.advance(10)
    assert jwks.key("test-key-2") is None  # throttled: no fetch
    clock.advance(21)
    assert jwks.key("test-key-2") is not None


def test_forget_misses_looks_for_a_missed_kid_again_at_once(jwks, session, factory, clock):
    jwks.key(factory.key.kid)
    assert jwks.key("test-key-2") is None  # missed: published only later (a keys reset)
    factory.rotate("test-key-2", keep_old=True)
    for kid in ("made-up-1", "made-up-2", "made-up-3", "made-up-4"):
        jwks.key(kid)  # the budget of fetches for unknown kids is used up too
    jwks.forget_misses()
    assert jwks.key("test-key-2") is not None


def test_T32_a_cached_key_is_served_when_a_refetch_fails(jwks, network, factory, clock):
    assert jwks.key(factory.key.kid) is not None
    clock.advance(3601)  # stale: the next look-up refetches
    network.route("GET", JWKS_URL, requests.ConnectionError("refused"))
    assert jwks.key(factory.key.kid).kid == factory.key.kid
    assert fetches(network) == 2


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("slow"),
        (503, {"error": "temporarily_unavailable"}),
        (200, {"keys": "nope"}),
        (200, {"keys": [{"kty": "RSA"}]}),
    ],
    ids=["refused", "timeout", "503", "keys-not-a-list", "incomplete-key"],
)
def test_T14_a_failed_fetch_without_the_key_cached_is_JWKSUnavailable(session, network, clock, failure):
    network.route("GET", JWKS_URL, failure)
    cache = JWKSCache(lambda: JWKS_URL, session, clock=clock)
    with pytest.raises(JWKSUnavailable):
        cache.key("test-key-1")


@pytest.mark.parametrize("body", [{}, ["not", "a", "key", "set"], None, {"keys": None}])
def test_T14_a_JWKS_answer_that_is_not_a_key_set_is_JWKSUnavailable(session, network, clock, body):
    network.route("GET", JWKS_URL, (200, body))
    cache = JWKSCache(lambda: JWKS_URL, session, clock=clock)
    with pytest.raises(JWKSUnavailable):
        cache.key("test-key-1")


def test_T14_an_unknown_kid_during_an_outage_is_JWKSUnavailable_even_with_other_keys_cached(
    jwks, network, factory, clock
):
    jwks.key(factory.key.kid)
    network.route("GET", JWKS_URL, requests.ConnectionError("refused"))
    with pytest.raises(JWKSUnavailable):
        jwks.key("test-key-2")


def test_the_cache_recovers_when_the_provider_comes_back(session, network, factory, clock):
    network.route("GET", JWKS_URL, [requests.ConnectionError("refused"), lambda call: factory.jwks()])
    cache = JWKSCache(lambda: JWKS_URL, session, clock=clock)
    with pytest.raises(JWKSUnavailable):
        cache.key(factory.key.kid)
    assert cache.key(factory.key.kid) is not None


def test_discovery_failing_while_looking_up_the_jwks_uri_is_JWKSUnavailable(session, clock):
    def jwks_uri():
        raise IdentityProviderUnavailable("discovery failed")

    with pytest.raises(JWKSUnavailable):
        JWKSCache(jwks_uri, session, clock=clock).key("test-key-1")


def test_max_age_staleness_refetches(jwks, network, factory, clock):
    jwks.key(factory.key.kid)
    clock.advance(3599)
    jwks.key(factory.key.kid)
    assert fetches(network) == 1
    clock.advance(2)
    jwks.key(factory.key.kid)
    assert fetches(network) == 2


def test_a_stale_refetch_drops_keys_the_provider_no_longer_publishes(jwks, session, factory, clock):
    old_kid = factory.key.kid
    jwks.key(old_kid)
    factory.rotate("test-key-2")
    clock.advance(3601)
    assert jwks.key(old_kid) is None


def test_keys_that_are_not_RSA_or_lack_a_kid_are_ignored(session, network, factory, clock):
    rsa_without_kid = {k: v for k, v in factory.jwks()["keys"][0].items() if k != "kid"}
    oct_key = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}
    network.route("GET", JWKS_URL, {"keys": [*factory.jwks()["keys"], rsa_without_kid, oct_key]})
    cache = JWKSCache(lambda: JWKS_URL, session, clock=clock)
    assert cache.key("hmac") is None
    assert cache.key(factory.key.kid) is not None


def test_a_key_from_another_provider_is_not_a_match(jwks, factory):
    other = TokenFactory(kid="other-key")
    found = jwks.key(factory.key.kid)
    assert found.as_dict(private=False)["n"] != other.key.as_dict(private=False)["n"]
    assert jwks.key(other.key.kid) is None


def test_T14_by_default_a_retired_key_is_trusted_for_at_most_five_minutes(session, network, factory, clock):
    network.route("GET", JWKS_URL, lambda call: factory.jwks())
    cache = JWKSCache(lambda: JWKS_URL, session, clock=clock)  # JWKS_MAX_AGE's default
    old_kid = factory.key.kid
    assert cache.key(old_kid) is not None
    factory.rotate("test-key-2")  # the old key leaves the JWKS
    clock.advance(299)
    assert cache.key(old_kid) is not None  # not fetched again yet: still trusted
    clock.advance(2)
    assert cache.key(old_kid) is None


def test_T14_still_published_fetches_at_once_and_drops_a_retired_key(jwks, network, factory, clock):
    old_kid = factory.key.kid
    jwks.key(old_kid)
    assert jwks.still_published(old_kid)
    factory.rotate("test-key-2")
    assert not jwks.still_published(old_kid)
    assert jwks.key(old_kid) is None
    before = fetches(network)
    assert not jwks.still_published(old_kid)  # known to be gone: no fetch
    assert fetches(network) == before


def test_T14_still_published_during_an_outage_keeps_the_key(jwks, network, factory):
    jwks.key(factory.key.kid)
    network.route("GET", JWKS_URL, (503, {}))
    assert jwks.still_published(factory.key.kid)
    assert jwks.key(factory.key.kid) is not None
