"""The bounded exchange policy (T38) and revocation that reaches exchanges (T39), through
the real services."""

from __future__ import annotations

import requests
from backend_client import call_source, exchange, login, refresh
from browser_user import page_text, web_app_authorize_url, web_app_call, web_app_sign_in
from demo_tenant import SOURCE_CLIENT, TIMEOUT, WEB_APP
from expectations import assert_invalid_grant
from tenant_admin import Management, newest_log

REVOKED = "subject_token revoked: the login it belongs to was revoked (logout or refresh token reuse)"


def without_offline_access(url: str) -> str:
    return url.replace("offline_access+", "").replace("+offline_access", "").replace("offline_access%20", "")


def test_T38_bounded_login_without_offline_access_shows_the_case(stack, tenant_as_found):
    Management(stack).patch("/tenants/settings", {"token_exchange_policy": "bounded"})
    browser = requests.Session()
    url = without_offline_access(web_app_authorize_url(stack, browser))
    assert "offline_access" not in url, url
    assert web_app_sign_in(stack, browser, url=url).status_code == 302

    page = web_app_call(stack, browser)

    text = page_text(page)
    assert "Scope not granted at login: offline_access" in text, text
    assert "/troubleshooting#t38" in page.text
    log = newest_log(stack, type="failed_on_behalf_of_token_exchange")
    assert log["details"]["reason"] == "bounded_policy", log


def test_T38_legacy_still_issues_a_target_refresh_token_without_offline_access_at_login(stack):
    tokens = login(stack, scope="openid read:profile read:contacts")
    assert "refresh_token" in exchange(stack, tokens["access_token"], "read:contacts offline_access").json()


def test_T39_after_logout_the_login_is_not_exchanged_and_its_target_refresh_token_is_dead(stack):
    tokens = login(stack)
    exchanged = exchange(stack, tokens["access_token"], "read:contacts offline_access").json()
    assert call_source(stack, "/api/contacts", tokens["access_token"]).status_code == 200

    # What the web app's logout does: revoke its refresh token.
    revoked = requests.post(
        stack.revocation_endpoint, data={"token": tokens["refresh_token"], **WEB_APP}, timeout=TIMEOUT
    )
    assert revoked.status_code == 200, revoked.text
    # The Source API's cached Target API token would answer without an exchange.
    forgot = requests.delete(
        stack["source-api"].url + "/operator/target-token-cache",
        headers={"Authorization": f"Bearer {stack.operator_secret}"},
        timeout=TIMEOUT,
    )
    assert forgot.status_code == 200, forgot.text

    refused = call_source(stack, "/api/contacts", tokens["access_token"])
    assert refused.status_code == 401, refused.text
    assert "subject_token revoked" in refused.headers["WWW-Authenticate"], refused.headers

    again = exchange(stack, tokens["access_token"])
    assert again.status_code == 400, again.text
    assert again.json() == {"error": "invalid_request", "error_description": REVOKED}
    assert_invalid_grant(refresh(stack, exchanged["refresh_token"], client=SOURCE_CLIENT))
    assert newest_log(stack, type="srrt")["details"]["derived_grants_revoked"] >= 1
