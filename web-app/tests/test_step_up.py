"""Step-up (RFC 9470): the Source API passes back the Target API's demand for a stronger or
more recent login; the app logs the browser in again as it asks, then sends the call again
once, and a second demand is a failure page (T47), never a loop."""

from __future__ import annotations

from urllib.parse import urlsplit

from .browser import query_of

DESCRIPTION = "A stronger login is required (acr: urn:mock:mfa)"
CHALLENGE = (
    'Bearer realm="https://source-api.example.com", error="insufficient_user_authentication", '
    f'error_description="{DESCRIPTION}", acr_values="urn:mock:mfa", max_age="300"'
)


def demand_step_up(source_api) -> None:
    body = {"error": "insufficient_user_authentication", "acr_values": "urn:mock:mfa", "max_age": 300}
    source_api.answer_next(401, body, {"WWW-Authenticate": CHALLENGE})


def test_a_step_up_logs_the_browser_in_again_as_asked_and_retries_once(logged_in, idp, source_api):
    demand_step_up(source_api)

    sent = logged_in.post("/call", endpoint="contacts")
    assert sent.status_code == 302
    authorize = query_of(sent.headers["Location"])
    assert authorize["acr_values"] == "urn:mock:mfa"
    assert authorize["max_age"] == "300"
    assert authorize["audience"] == "https://source-api.example.com"

    back = logged_in.callback(logged_in.authorize(sent.headers["Location"]))
    assert back.status_code == 302
    assert urlsplit(back.headers["Location"]).path == "/call/after-step-up"

    page = logged_in.client.get("/call/after-step-up")
    assert page.status_code == 200
    assert "Carol Chen" in page.text
    assert 'id="stepped-up"' in page.text
    assert "acr_values=urn:mock:mfa" in page.text
    assert [c.path for c in source_api.calls] == ["/api/contacts", "/api/contacts"]

    # The waiting call was sent once: the page cannot be replayed.
    again = logged_in.client.get("/call/after-step-up")
    assert again.status_code == 400
    assert len(source_api.calls) == 2


def test_a_second_demand_after_the_login_is_T47_not_another_login(logged_in, source_api):
    demand_step_up(source_api)
    sent = logged_in.post("/call", endpoint="contacts")
    logged_in.callback(logged_in.authorize(sent.headers["Location"]))
    demand_step_up(source_api)

    page = logged_in.client.get("/call/after-step-up")
    assert page.status_code == 403
    assert "T47" in page.text
    assert "still refuses your login" in page.text
    assert len(source_api.calls) == 2


def test_the_retry_page_without_a_waiting_call_is_a_clear_error(logged_in, source_api):
    page = logged_in.client.get("/call/after-step-up")
    assert page.status_code == 400
    assert "no call waiting" in page.text
    assert source_api.calls == []


def test_an_ordinary_login_goes_home(browser):
    browser.log_in()  # asserts the callback sends the browser to /


def test_a_login_of_the_users_own_drops_a_waiting_call(logged_in, source_api):
    demand_step_up(source_api)
    logged_in.post("/call", endpoint="contacts")  # the step-up login is abandoned
    logged_in.log_in()  # asserts the callback goes home, not to the waiting call
    assert len(source_api.calls) == 1
