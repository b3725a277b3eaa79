"""`make reset` next to a running `make up`: everything a class changed goes back, without
restarting or reinstalling anything; a part that cannot be reset is named."""

from __future__ import annotations

import requests
from backend_client import authorize_url
from browser_user import page_text, submit_password, web_app_call, web_app_sign_in
from demo_tenant import BOB, TIMEOUT
from tenant_admin import Management, tenant_state


def _submit_login(up, password: str) -> requests.Response:
    return submit_password(requests.Session(), authorize_url(up)[0], BOB[0], password)


def test_a_broken_demo_is_back_to_its_start(local_up):
    management = Management(local_up)
    as_found = tenant_state(management)
    first_kid = management.get("/keys/signing")[-1]["kid"]  # newest first: the last is the first key
    browser = requests.Session()
    assert web_app_sign_in(local_up, browser, BOB[0]).status_code == 302
    assert web_app_call(local_up, browser).status_code == 200  # the Source API now holds a token for bob
    # A class that broke things: a rotation, the exchange switched off.
    assert management.call("POST", "/keys/signing/rotate").status_code == 201
    management.patch("/resource-servers/source-api", {"token_exchange": {"enabled": False}})
    for _ in range(5):  # bob's account blocked by wrong passwords (his next login below must work)
        wrong = _submit_login(local_up, "not-the-password")
        assert wrong.status_code == 401, wrong.text

    done = local_up.make("reset")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout, done.stdout
    assert done.stdout.count("  ok  ") == 7, done.stdout
    after = Management(local_up)
    assert tenant_state(after) == as_found
    keys = after.get("/keys/signing")
    assert [key["kid"] for key in keys if key["current"]] == [first_kid]
    assert after.get("/grants") == []
    entries = after.logs()
    assert all(entry["client_id"] == "management" for entry in entries), entries  # only this check's own token
    home = browser.get(local_up["web-app"].url + "/", timeout=TIMEOUT)
    assert "Log in" in page_text(home), "the web app session should have ended"
    # The exchange works again, and bob's next call needs a new login and a new exchange.
    browser = requests.Session()
    assert web_app_sign_in(local_up, browser, BOB[0]).status_code == 302
    page = web_app_call(local_up, browser)
    assert page.status_code == 200, page_text(page)
    assert "a fresh exchange" in page_text(page), page_text(page)


def test_a_part_that_cannot_be_reset_is_named_and_the_rest_still_is(local_up):
    assert local_up.control("stop", "source-api").returncode == 0
    try:
        done = local_up.make("reset")
    finally:
        assert local_up.control("start", "source-api").returncode == 0

    assert done.returncode != 0
    assert "FAILED  Source API's cached Target API tokens: not reachable (is `make up` running?)" in done.stdout
    assert done.stdout.count("  ok  ") == 6, done.stdout
    assert "did not reset" in done.stderr
