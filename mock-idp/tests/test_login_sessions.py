"""The login session has a server-side record: logout ends it, a copied cookie included."""

from .flows import query_of


def _silent(flows, client):
    params, _ = flows.authorize_params(prompt="none")
    return query_of(client.get("/authorize", query_string=params).location)


def test_a_cookie_copied_before_logout_is_not_logged_in_after(flows):
    flows.authorization_code()
    cookie = flows.browser.get_cookie("idp_session")
    copy = flows.app.test_client()
    copy.set_cookie("idp_session", cookie.value, domain=cookie.domain)
    assert "code" in _silent(flows, copy)
    assert flows.log_out().status_code == 200
    assert _silent(flows, copy).get("error") == "login_required"


def test_logging_in_again_after_logout_works(flows):
    flows.authorization_code()
    assert flows.log_out().status_code == 200
    assert _silent(flows, flows.browser).get("error") == "login_required"
    flows.authorization_code()
    assert "code" in _silent(flows, flows.browser)


def test_the_session_expires(flows, clock_at):
    flows.authorization_code()
    clock_at(3 * 24 * 3600 + 1)
    assert _silent(flows, flows.browser).get("error") == "login_required"


def test_logging_in_again_ends_the_session_it_replaces(flows):
    flows.authorization_code()
    cookie = flows.browser.get_cookie("idp_session")
    copy = flows.app.test_client()
    copy.set_cookie("idp_session", cookie.value, domain=cookie.domain)
    flows.authorization_code(prompt="login")
    assert _silent(flows, copy).get("error") == "login_required"
    assert "code" in _silent(flows, flows.browser)


def test_a_new_session_secret_is_used_at_once(flows):
    # The cookie's signer is kept per secret key: a changed key signs and checks from the
    # next request on, and a key moved to the fallbacks still opens the cookies it signed.
    flows.authorization_code()
    assert "code" in _silent(flows, flows.browser)
    old_key = flows.app.secret_key
    flows.app.secret_key = "another-session-secret"
    assert _silent(flows, flows.browser).get("error") == "login_required"
    flows.app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert "code" in _silent(flows, flows.browser)
