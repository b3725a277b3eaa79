"""The inspector's "try it" over HTTP: the web app's form needs its CSRF token, both the
web app's page and the Source API's endpoint exist only in the demo configuration, bad
input is a clear 400, and a tried refresh works on the token a tried exchange returned."""

from __future__ import annotations

import requests
from backend_client import call_source, login
from browser_user import page_text, web_app_post, web_app_sign_in
from demo_tenant import TARGET_API, TIMEOUT


def test_without_the_csrf_token_the_form_is_refused_and_nothing_is_sent(stack):
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302
    page = browser.post(
        stack["web-app"].url + "/inspector/try/exchange", data={"audience": TARGET_API + "/"}, timeout=TIMEOUT
    )
    assert page.status_code == 400
    assert "The form was refused" in page_text(page)
    assert "Service not enabled" not in page.text


def test_a_bad_value_is_a_400_that_names_it(stack):
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302
    page = web_app_post(stack, browser, "/inspector/try/exchange", page="/inspector/try", scope="x" * 600)
    assert page.status_code == 400
    assert "Not sent." in page_text(page)
    assert "scope" in page_text(page)


def test_a_tried_refresh_uses_the_tried_exchanges_refresh_token(stack):
    browser = requests.Session()
    assert web_app_sign_in(stack, browser).status_code == 302
    exchanged = web_app_post(
        stack,
        browser,
        "/inspector/try/exchange",
        page="/inspector/try",
        audience=TARGET_API,
        scope="read:contacts offline_access",
        actor_token="none",
    )
    assert exchanged.status_code == 200, exchanged.text
    assert "HTTP 200" in page_text(exchanged)

    narrower = web_app_post(stack, browser, "/inspector/try/refresh", page="/inspector/try", scope="read:contacts")
    assert narrower.status_code == 200, narrower.text
    assert "HTTP 200" in page_text(narrower)
    assert "sertft" in page_text(narrower)  # the tenant log's successful refresh
    wider = web_app_post(stack, browser, "/inspector/try/refresh", page="/inspector/try", scope="write:contacts")
    assert "HTTP 400" in page_text(wider)
    assert 'href="/troubleshooting#t36"' in wider.text


def test_the_source_api_endpoint_refuses_bad_input_and_other_tokens_fields(stack):
    token = login(stack)["access_token"]
    operator = {"X-Obo-Operator": stack.operator_secret}
    for body in ({"subject_token": "eyJ.someone.else"}, {"audience": 42}, {"actor_token": "eyJ.a.b"}):
        answer = call_source(stack, "/demo/token-exchange", token, "POST", json=body, headers=operator)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_request"
    assert call_source(stack, "/demo/token-exchange", None, "POST", json={}, headers=operator).status_code == 401


def test_the_source_api_endpoint_is_the_operators_not_a_token_holders(stack):
    token = login(stack)["access_token"]
    answer = call_source(stack, "/demo/token-exchange", token, "POST", json={"audience": TARGET_API})
    assert answer.status_code == 404, answer.text


def test_outside_the_demo_configuration_there_is_no_try_it(stack):
    token = login(stack)["access_token"]
    with stack.another("web-app", DEMO_TOOLS="off") as web_app:
        assert requests.get(web_app.url + "/inspector/try", timeout=TIMEOUT).status_code == 404
    with stack.another("source-api", DEMO_TOOLS="off") as source_api:
        answer = requests.post(
            source_api.url + "/demo/token-exchange",
            json={"audience": TARGET_API},
            headers={"Authorization": f"Bearer {token}", "X-Obo-Operator": stack.operator_secret},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 404
