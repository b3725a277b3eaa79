"""max_age at the real identity provider: an older login is asked for again (OIDC Core 3.1.2.1)."""

import requests
from backend_client import authorize_url
from browser_user import authorize, page_text, query_of
from demo_tenant import ALICE, TIMEOUT


def test_max_age_zero_asks_a_logged_in_user_to_log_in_again(stack):
    browser = requests.Session()
    authorize(browser, authorize_url(stack)[0], ALICE[0])  # logged in at the provider

    again, _, _ = authorize_url(stack, max_age="0")
    page = browser.get(again, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "Log in" in page_text(page)

    silent, _, _ = authorize_url(stack, max_age="0", prompt="none")
    answer = browser.get(silent, allow_redirects=False, timeout=TIMEOUT)
    assert query_of(answer.headers["Location"])["error"] == "login_required"

    assert authorize(browser, again, ALICE[0]).location.startswith(stack.callback + "?code=")


def test_a_max_age_that_is_not_a_number_is_refused(stack):
    url, _, _ = authorize_url(stack, max_age="soon")
    answer = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"
