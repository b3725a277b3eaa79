"""Wrong passwords slow down guessing per account and address, without a lockout: the wait
grows with each failure, a browser that logged in before is not slowed by guessing
elsewhere, and the Management API unblocks."""

from mock_idp.login_throttle import FIRST_DELAY, MAX_DELAY

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


# -- growing waits per account and address, and the device cookie --------------------------


def _at(flows, address: str):
    """The same app, from another browser at ``address``."""
    from .flows import Flows

    other = Flows(flows.app)
    other.browser.environ_base["REMOTE_ADDR"] = address
    return other


def _log_in(flows, email=ALICE, password=PASSWORD):
    params, _ = flows.authorize_params(prompt="login")
    return flows.log_in(params, email=email, password=password)


def test_the_right_password_is_taken_once_the_wait_is_over(flows, clock_at):
    clock_at(0)
    _fail(flows, 5)
    assert _log_in(flows).status_code == 429
    clock_at(FIRST_DELAY)  # seconds, not the quarter of an hour of the window
    assert _log_in(flows).status_code == 302


def test_the_wait_doubles_with_each_further_failure(flows, clock_at):
    clock_at(0)
    _fail(flows, 5)
    clock_at(FIRST_DELAY)
    _fail(flows, 1)
    answer = _log_in(flows)
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) == 2 * FIRST_DELAY
    clock_at(3 * FIRST_DELAY)
    assert _log_in(flows).status_code == 302


def test_the_wait_never_exceeds_its_maximum(make_app, clock_at):
    from .flows import Flows

    flows = Flows(make_app(login_failures_per_account=1))
    clock_at(0)
    for step in range(8):  # waits of 10, 20, 40, 80, 160 (120) ... seconds
        clock_at(step * MAX_DELAY)
        _fail(flows, 1)
    assert int(_log_in(flows).headers["Retry-After"]) == MAX_DELAY


def test_failures_from_another_address_do_not_slow_this_one(flows, clock_at):
    clock_at(0)
    _fail(_at(flows, "198.51.100.7"), 5)
    assert _log_in(_at(flows, "203.0.113.9")).status_code == 302


def test_a_browser_that_logged_in_before_is_not_slowed_by_guessing_elsewhere(flows, clock_at):
    clock_at(0)
    owner = _at(flows, "203.0.113.9")
    assert _log_in(owner).status_code == 302  # the device cookie: this browser knows alice
    for n in range(20):  # from 20 addresses: the account's bound over every address
        _fail(_at(flows, f"198.51.100.{n}"), 1)

    stranger = _log_in(_at(flows, "192.0.2.1"))
    assert stranger.status_code == 429
    assert int(stranger.headers["Retry-After"]) <= MAX_DELAY
    assert _log_in(owner).status_code == 302


def test_a_class_behind_one_address_keeps_logging_in(make_app, clock_at):
    from .flows import Flows

    clock_at(0)
    nat = "192.0.2.50"
    flows = Flows(make_app(login_failures_per_address=3))
    bob = _at(flows, nat)
    assert _log_in(bob, email="bob@example.com").status_code == 302
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        _fail(_at(flows, nat), 1, email=email)

    assert _log_in(bob, email="bob@example.com").status_code == 302  # logged in here before
    newcomer = _log_in(_at(flows, nat))
    assert newcomer.status_code == 429  # a browser new to the account waits, briefly
    assert int(newcomer.headers["Retry-After"]) <= FIRST_DELAY
    clock_at(FIRST_DELAY)
    assert _log_in(_at(flows, nat)).status_code == 302


def test_a_forged_device_cookie_is_not_trusted(flows, clock_at):
    clock_at(0)
    for n in range(20):
        _fail(_at(flows, f"198.51.100.{n}"), 1)
    forger = _at(flows, "192.0.2.1")
    forger.browser.set_cookie("idp_device", "not-signed-by-this-provider")
    assert _log_in(forger).status_code == 429


def test_guessing_from_the_owners_own_address_does_not_slow_the_owner(flows, clock_at):
    clock_at(0)
    nat = "192.0.2.50"
    owner = _at(flows, nat)
    assert _log_in(owner).status_code == 302
    _fail(_at(flows, nat), 5)  # another browser behind the same address

    assert _log_in(_at(flows, nat)).status_code == 429
    assert _log_in(owner).status_code == 302


def test_a_trusted_browser_is_slowed_by_its_own_failures(flows, clock_at):
    clock_at(0)
    owner = _at(flows, "203.0.113.9")
    assert _log_in(owner).status_code == 302
    for _ in range(5):
        assert _log_in(owner, password="wrong").status_code == 401
    assert _log_in(owner).status_code == 429
