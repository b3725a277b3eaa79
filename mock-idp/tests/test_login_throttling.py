"""Wrong passwords are throttled per account and per address; the Management API unblocks."""

from .flows import ALICE, ALICE_ID, PASSWORD, Management


def _fail(flows, times, email=ALICE):
    for _ in range(times):
        params, _ = flows.authorize_params()
        assert flows.log_in(params, email=email, password="wrong").status_code == 401


def test_after_five_failures_the_right_password_is_refused(flows):
    _fail(flows, 5)
    params, _ = flows.authorize_params()
    response = flows.log_in(params)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    assert "Retry-After" in response.headers
    log = flows.last_log()
    assert (log["type"], log["details"]["reason"]) == ("f", "too_many_attempts")
    assert [e["user_id"] for e in flows.logs("limit_wc")] == [ALICE_ID]


def test_an_unknown_account_gets_the_same_page(flows):
    _fail(flows, 5, email="mallory@example.com")
    params, _ = flows.authorize_params()
    response = flows.log_in(params, email="mallory@example.com")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text


def test_the_block_ends_with_its_window(flows, clock_at):
    _fail(flows, 5)
    clock_at(15 * 60 + 1)
    params, _ = flows.authorize_params()
    assert flows.log_in(params).status_code == 302


def test_a_success_does_not_count_and_other_accounts_are_not_blocked(flows):
    _fail(flows, 5)
    params, _ = flows.authorize_params()
    assert flows.log_in(params, email="bob@example.com").status_code == 302


def test_the_address_bound(make_app):
    from .flows import Flows

    flows = Flows(make_app(login_failures_per_address=3))
    _fail(flows, 1, email="a@example.com")
    _fail(flows, 1, email="b@example.com")
    _fail(flows, 1, email="c@example.com")
    params, _ = flows.authorize_params()
    assert flows.log_in(params, email="bob@example.com").status_code == 429


def test_the_management_api_unblocks(flows):
    _fail(flows, 5)
    api = Management(flows)
    assert api.delete("/user-blocks?identifier=" + ALICE).status_code == 204
    params, _ = flows.authorize_params()
    assert flows.log_in(params).status_code == 302


def test_unblock_by_user_id(flows):
    _fail(flows, 5)
    assert Management(flows).delete("/user-blocks/" + ALICE_ID).status_code == 204
    params, _ = flows.authorize_params()
    assert flows.log_in(params, password=PASSWORD).status_code == 302


def test_unblock_needs_an_identifier_and_a_known_user(flows):
    api = Management(flows)
    assert api.delete("/user-blocks").status_code == 400
    assert api.delete("/user-blocks/auth0|nobody").status_code == 404


def test_unblock_needs_its_scope(flows):
    api = Management(flows, scope="read:logs")
    assert api.delete("/user-blocks?identifier=" + ALICE).status_code == 403


def test_unblock_everyone_clears_address_blocks_too(make_app):
    from .flows import Flows

    flows = Flows(make_app(login_failures_per_address=2))
    _fail(flows, 2, email="a@example.com")
    api = Management(flows)
    assert api.delete("/user-blocks?all=true").status_code == 204
    params, _ = flows.authorize_params()
    assert flows.log_in(params).status_code == 302
