"""max_age (OIDC Core 3.1.2.1): a login older than it is asked for again; auth_time says when."""

import pytest

from .flows import query_of


def _id_token_auth_time(flows, **params) -> int:
    tokens = flows.login_tokens(**params)
    return flows.claims(tokens["id_token"], typ="JWT")["auth_time"]


def test_a_login_older_than_max_age_is_asked_for_again(flows, clock_at):
    first = _id_token_auth_time(flows)
    clock_at(120)
    params, _ = flows.authorize_params(max_age="60")
    page = flows.browser.get("/authorize", query_string=params)
    assert page.status_code == 200
    assert "Log in" in page.text
    assert _id_token_auth_time(flows, max_age="60") > first + 60  # the new login's time


def test_a_login_younger_than_max_age_is_kept(flows, clock_at):
    first = _id_token_auth_time(flows)
    clock_at(120)
    params, _ = flows.authorize_params(max_age="3600")
    assert "code" in query_of(flows.browser.get("/authorize", query_string=params).location)
    assert _id_token_auth_time(flows, max_age="3600") == first


def test_max_age_zero_asks_every_time_and_still_ends_with_a_code(flows, clock_at):
    flows.login_tokens()
    clock_at(1)
    params, _ = flows.authorize_params(max_age="0")
    assert "Log in" in flows.browser.get("/authorize", query_string=params).text
    assert flows.login_tokens(max_age="0")["id_token"]


def test_max_age_zero_asks_again_within_the_same_second(flows, clock_at):
    flows.login_tokens()
    clock_at(0)  # the clock stands still: the login is 0 seconds old
    params, _ = flows.authorize_params(max_age="0")
    assert "Log in" in flows.browser.get("/authorize", query_string=params).text


def test_prompt_none_with_a_login_older_than_max_age_is_login_required(flows, clock_at):
    flows.login_tokens()
    clock_at(120)
    params, _ = flows.authorize_params(max_age="60", prompt="none")
    returned = query_of(flows.browser.get("/authorize", query_string=params).location)
    assert returned["error"] == "login_required"
    assert returned["error_description"] == "The login is older than max_age"
    assert flows.last_log()["type"] == "f"


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "", " 5", "\u0663", "9" * 11])
def test_max_age_must_be_a_non_negative_integer(flows, value):
    params, _ = flows.authorize_params(max_age=value)
    response = flows.browser.get("/authorize", query_string=params)
    assert response.status_code == 302
    returned = query_of(response.location)
    assert returned["error"] == "invalid_request"
    assert returned["error_description"] == "max_age must be a non-negative integer (seconds)"
    entry = flows.last_log()
    assert (entry["type"], entry["details"]["error"]) == ("f", "invalid_request")
