"""token_display: a JWT's header and claims without verification, and two tokens compared."""

from __future__ import annotations

import base64
import json

import pytest

from obo_common.token_display import (
    CHANGED,
    LIFETIME,
    MAX_ACTORS,
    MISSING,
    ONLY_FIRST,
    ONLY_SECOND,
    SAME,
    act_chain,
    claim_diff,
    decode_unverified,
    describe_act_chain,
    describe_time,
    duration,
)
from obo_testing import TokenFactory


def _part(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_signed_token_decodes_to_its_header_and_claims():
    token = TokenFactory(scope="read:contacts").issue(sub="alice")

    header, claims = decode_unverified(token)

    assert header["alg"] == "RS256"
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == "alice"
    assert claims["scope"] == "read:contacts"


def test_the_signature_is_not_checked():
    header, claims = {"alg": "RS256"}, {"sub": "mallory"}

    assert decode_unverified(f"{_part(header)}.{_part(claims)}.not-a-signature") == (header, claims)


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        42,
        b"a.b.c",
        "",
        "opaque-refresh-token",
        "a.b",
        "a.b.c.d",
        "!!!.???.sig",
        f"{_part([1, 2])}.{_part({'sub': 'x'})}.sig",  # header not an object
        f"{_part({'alg': 'none'})}.{_part('text')}.sig",  # claims not an object
        f"{_part({'alg': 'none'})}..sig",
        "eyJhbGciOiJub25lIn0.\u00e9\u00e9\u00e9.sig",
        "eyJhbGciOiJub25lIn0.//8.sig",  # not UTF-8
        f"{_part({'alg': 'none'})}.{base64.urlsafe_b64encode(b'[' * 100000).decode()}.sig",
    ],
)
def test_anything_but_a_jwt_is_none_never_an_exception(garbage):
    assert decode_unverified(garbage) is None


def test_the_diff_marks_what_the_exchange_changes_and_keeps():
    user = {
        "iss": "i",
        "sub": "alice",
        "aud": ["source", "userinfo"],
        "scope": "openid read:contacts",
        "client_id": "web-app",
        "iat": 1000,
        "exp": 1000 + 86400,
    }
    target = {
        "iss": "i",
        "sub": "alice",
        "aud": "target",
        "scope": "read:contacts",
        "client_id": "source-api",
        "iat": 1005,
        "exp": 1005 + 3600,
        "https://obo.example.com/exchanged_by": "source-api",
    }

    rows = {row.claim: row for row in claim_diff(user, target)}

    assert rows["sub"].change == SAME
    assert rows["iss"].change == SAME
    assert (rows["aud"].first, rows["aud"].second, rows["aud"].change) == (["source", "userinfo"], "target", CHANGED)
    assert rows["scope"].change == CHANGED
    assert rows["client_id"].change == CHANGED
    assert rows["iat"].change == CHANGED
    assert rows["exp"].change == CHANGED
    assert (rows[LIFETIME].first, rows[LIFETIME].second, rows[LIFETIME].derived) == (86400, 3600, True)
    namespaced = rows["https://obo.example.com/exchanged_by"]
    assert (namespaced.first, namespaced.second, namespaced.change) == (MISSING, "source-api", ONLY_SECOND)


def test_the_key_claims_come_first_then_the_others_by_name():
    first = {"zeta": 1, "exp": 20, "sub": "s", "alpha": 2, "iat": 10}
    second = {"aud": "a", "beta": 3, "exp": 30, "iat": 10}

    names = [row.claim for row in claim_diff(first, second)]

    assert names == ["aud", "sub", "iat", "exp", LIFETIME, "alpha", "beta", "zeta"]
    assert {row.claim: row.change for row in claim_diff(first, second)}["sub"] == ONLY_FIRST


def test_no_lifetime_row_without_numeric_iat_and_exp():
    rows = claim_diff({"iat": "yesterday", "exp": 5}, {"exp": 5})

    assert [row.claim for row in rows] == ["iat", "exp"]


def test_identical_tokens_are_the_same_on_every_row():
    claims = {"sub": "s", "iat": 1, "exp": 2, "custom": {"a": [1]}}

    assert {row.change for row in claim_diff(claims, dict(claims))} == {SAME}


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0s"),
        (45, "45s"),
        (90, "1m 30s"),
        (3600, "1h"),
        (5400, "1h 30m"),
        (86400, "1d"),
        (90000, "1d 1h"),
        (-120, "2m"),
    ],
)
def test_durations_read_as_a_person_says_them(seconds, said):
    assert duration(seconds) == said


def test_a_time_claim_says_when_and_how_far_from_now():
    assert describe_time(1_000_086_400, now=1_000_000_000) == "1000086400 (2001-09-10 01:46:40 UTC, in 1d)"
    assert describe_time(999_999_700, now=1_000_000_000).endswith(", 5m ago)")
    assert describe_time(1_000_000_000, now=1_000_000_000).endswith(", now)")
    assert describe_time("soon") == "'soon'"
    assert describe_time(True) == "True"
    assert describe_time(10**20) == str(10**20)


def test_the_act_chain_names_the_current_actor_first_then_each_before_it():
    nested = {"sub": "auth0|alice", "act": {"sub": "source-api", "act": {"sub": "gateway"}}}

    assert act_chain(nested) == ["source-api", "gateway"]
    assert describe_act_chain(act_chain(nested)) == "source-api, after gateway"
    assert describe_act_chain(act_chain({"act": {"sub": "source-api"}})) == "source-api"


@pytest.mark.parametrize("act", [None, "source-api", ["source-api"]], ids=["absent", "text", "list"])
def test_a_token_without_an_act_object_names_no_actor(act):
    claims = {"sub": "auth0|alice"} if act is None else {"sub": "auth0|alice", "act": act}
    assert act_chain(claims) == []
    assert describe_act_chain(act_chain(claims)) is None


def test_an_actor_without_a_sub_is_still_shown_as_one():
    assert act_chain({"act": {"act": {"sub": "gateway"}}}) == ["(no sub)", "gateway"]


def test_a_deeply_nested_act_is_cut_short():
    act: dict = {"sub": "first"}
    for n in range(50):
        act = {"sub": f"actor-{n}", "act": act}
    assert len(act_chain({"act": act})) == MAX_ACTORS
