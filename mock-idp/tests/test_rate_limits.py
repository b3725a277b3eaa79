"""T28 and T37: rate limits on the exchange and on refreshes, with the provider's headers."""

import pytest

from .flows import SOURCE_CLIENT, Management

LIMITED = {"limit": 3, "window": 60}


@pytest.fixture(autouse=True)
def frozen_clock(clock_at):
    """Windows are fixed (they start at multiples of their length): a test must not straddle two."""
    clock_at(0)


@pytest.fixture
def limited(flows):
    Management(flows).patch("/tenants/settings", {"rate_limits": {"token_exchange": LIMITED, "refresh_token": LIMITED}})
    return flows


def assert_limited(flows, response):
    assert response.status_code == 429
    assert response.json["error"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert flows.last_log()["type"] == "api_limit"


def test_T28_exchanging_on_every_call_hits_the_limit(limited):
    token = limited.login_tokens()["access_token"]
    for _ in range(3):
        assert limited.exchange(token).status_code == 200
    response = limited.exchange(token)
    assert_limited(limited, response)
    assert limited.last_log()["client_id"] == "source-api"


def test_T28_the_window_ends(limited, clock_at):
    token = limited.login_tokens()["access_token"]
    for _ in range(4):
        limited.exchange(token)
    clock_at(61)
    assert limited.exchange(token).status_code == 200


def test_T28_an_unauthenticated_caller_does_not_use_the_clients_budget(limited):
    token = limited.login_tokens()["access_token"]
    for _ in range(5):
        limited.exchange(token, client={"client_id": "source-api", "client_secret": "wrong-secret"})
    assert limited.exchange(token).status_code == 200


def test_T37_refreshing_the_same_token_too_often(make_app):
    from .flows import Flows

    flows = Flows(
        make_app(
            lambda doc: next(c for c in doc["clients"] if c["client_id"] == "web-app")["refresh_token"].update(
                rotation_type="non-rotating"
            )
        )
    )
    Management(flows).patch("/tenants/settings", {"rate_limits": {"refresh_token": LIMITED}})
    token = flows.login_tokens()["refresh_token"]
    for _ in range(3):
        assert flows.refresh(token).status_code == 200
    assert_limited(flows, flows.refresh(token))
    other = flows.login_tokens()["refresh_token"]
    assert flows.refresh(other).status_code == 200


def test_T37_rotated_tokens_count_as_the_same_token(limited):
    token = limited.login_tokens()["refresh_token"]
    for _ in range(3):
        token = limited.refresh(token).json["refresh_token"]
    assert_limited(limited, limited.refresh(token))


def test_the_source_apis_target_refreshes_are_limited_too(limited):
    body = limited.exchange(limited.login_tokens()["access_token"], scope="offline_access read:contacts").json
    token = body["refresh_token"]
    for _ in range(3):
        token = limited.refresh(token, client=SOURCE_CLIENT).json["refresh_token"]
    assert limited.refresh(token, client=SOURCE_CLIENT).status_code == 429
