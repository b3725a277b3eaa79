import re

from .browser import query_of


def test_refresh_now_shows_what_changed_and_rotates_the_refresh_token(logged_in, network):
    page = logged_in.post("/refresh")

    assert page.status_code == 200
    assert "Tokens refreshed" in page.text
    assert re.search(r"Refresh token rotated</th><td>yes", page.text)
    assert "New ID token</th><td>yes (validated)" in page.text
    form = query_of("?" + network.calls_to_path("/oauth/token")[-1].body.decode())
    assert form["grant_type"] == "refresh_token"
    assert form["client_secret"] == "web-app-secret"
    assert "scope" not in form  # the granted scope, never more (T36)


def test_without_rotation_the_page_says_the_refresh_token_stays(logged_in, idp):
    idp.rotate = False
    page = logged_in.post("/refresh")
    assert re.search(r"Refresh token rotated</th><td>no", page.text)
    assert logged_in.post("/refresh").status_code == 200  # the same refresh token still works


def test_the_refreshed_access_token_is_the_one_used_next(logged_in, idp, source_api):
    (from_login,) = idp.access_tokens
    logged_in.post("/refresh")
    idp.access_tokens[from_login] = 0
    page = logged_in.post("/call", endpoint="contacts")
    assert page.status_code == 200
    assert "refreshed it once" not in page.text


def test_a_refresh_token_no_longer_valid_ends_the_session(logged_in, idp):
    idp.refresh_tokens.clear()
    page = logged_in.post("/refresh")
    assert page.status_code == 400
    assert 'href="/troubleshooting#t33"' in page.text
    assert "Unknown or invalid refresh token." in page.text
    assert "Step 5: Refresh tokens" in page.text
    assert 'href="/login"' in page.text
    assert logged_in.client.get("/profile").status_code == 401


def test_too_many_refreshes_is_explained(logged_in, idp):
    idp.fail("refresh_token", 429, "too_many_requests", "Too many refreshes of this token")
    page = logged_in.post("/refresh")
    assert page.status_code == 429
    assert 'href="/troubleshooting#t37"' in page.text
    assert logged_in.client.get("/profile").status_code == 200


def test_a_refresh_grant_not_enabled_is_explained(logged_in, idp):
    idp.fail("refresh_token", 403, "unauthorized_client", "Grant type 'refresh_token' not allowed for the client.")
    page = logged_in.post("/refresh")
    assert page.status_code == 502
    assert 'href="/troubleshooting#t06"' in page.text


def test_without_a_refresh_token_the_page_points_to_offline_access(browser, idp):
    idp.offline_access = False
    browser.log_in()
    assert "none: the app cannot renew" in browser.client.get("/").text
    page = browser.post("/refresh")
    assert page.status_code == 400
    assert 'href="/troubleshooting#t07"' in page.text


def test_a_refreshed_id_token_for_another_user_is_refused(logged_in, idp):
    idp.id_token_changes = {"sub": "auth0|mallory"}
    page = logged_in.post("/refresh")
    assert page.status_code == 502
    assert "another user" in page.text


def test_refresh_needs_the_csrf_token_and_a_post(logged_in, network):
    before = len(network.calls_to_path("/oauth/token"))
    assert logged_in.client.post("/refresh").status_code == 400
    assert logged_in.client.get("/refresh").status_code == 405
    assert len(network.calls_to_path("/oauth/token")) == before
