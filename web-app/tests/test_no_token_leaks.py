"""Tokens stay on the server: never in a page, a URL, a cookie, a header or a log line. Two
exceptions: the flow inspector, which shows the user their own, only with the demo tools on;
and logout, which sends the login's ID token to the provider as ``id_token_hint``
(docs/security.md, Logout)."""

import html
import logging

import pytest

from web_app import create_app

from .browser import Browser, query_of
from .fakes import SOURCE_API_URL


def journey(browser, idp, source_api, network) -> list:
    """Every page and action of the app, failures included; the answers, in order."""
    answers = [browser.client.get("/login")]
    answers.append(browser.callback(browser.authorize(answers[0].headers["Location"])))
    answers += [browser.client.get(path) for path in ("/", "/profile", "/call", "/troubleshooting")]
    answers.append(browser.post("/call", endpoint="contacts"))
    answers.append(browser.post("/call", endpoint="me"))
    idp.expire_access_tokens()
    answers.append(browser.post("/call", endpoint="contacts"))  # refreshed behind the scenes
    answers.append(browser.post("/refresh"))
    source_api.answer_next(502, {"upstream": "identity-provider", "step": 3, "upstream_error": "access_denied"})
    answers.append(browser.post("/call", endpoint="contacts"))
    network.down.add(SOURCE_API_URL)
    answers.append(browser.post("/call", endpoint="contacts"))
    network.down.discard(SOURCE_API_URL)
    answers.append(browser.client.get("/"))
    return answers


def log_out(browser, idp):
    """Logout's answer, checked: its redirect to the provider carries the ID token as the
    hint and no other token (in Location, and in the link of the redirect's body); the rest
    of the answer is left for ``assert_no_token_in``."""
    answer = browser.post("/logout")
    location = answer.headers["Location"]
    assert location.startswith(idp.end_session_endpoint + "?")
    hint = query_of(location)["id_token_hint"]
    assert hint in idp.issued
    assert not [token for token in idp.issued if token != hint and token[-20:] in location]
    assert hint not in answer.get_data(as_text=True).replace(html.escape(location), "")  # a link there only
    del answer.headers["Location"]
    answer.set_data(b"")
    return answer


def assert_no_token_in(answers, browser, idp, caplog) -> None:
    assert len(idp.issued) >= 9  # three logins' and refreshes' worth of tokens
    cookies = [cookie.value for cookie in browser.client._cookies.values()]
    seen = "\n".join(
        [a.get_data(as_text=True) for a in answers]
        + [str(a.headers) for a in answers]
        + cookies
        + [record.getMessage() for record in caplog.records]
        + [caplog.text]
    )
    for token in idp.issued:
        assert token not in seen
        assert token[-20:] not in seen


def test_no_token_appears_in_any_page_cookie_header_or_log_line(browser, idp, source_api, network, caplog):
    caplog.set_level(logging.DEBUG)
    answers = journey(browser, idp, source_api, network)
    assert browser.client.get("/inspector").status_code == 404  # the demo tools are off here
    answers.append(log_out(browser, idp))
    assert_no_token_in(answers, browser, idp, caplog)


@pytest.mark.parametrize("demo_tools", ["on", "off"])
def test_the_inspector_is_the_one_page_with_tokens(settings, idp, source_api, network, caplog, demo_tools):
    caplog.set_level(logging.DEBUG)
    browser = Browser(create_app(settings.model_copy(update={"demo_tools": demo_tools})).test_client(), idp)
    answers = journey(browser, idp, source_api, network)

    inspector = browser.client.get("/inspector")
    if demo_tools == "on":
        assert inspector.status_code == 200
        access_token, id_token = (browser_tokens(browser)[name] for name in ("access_token", "id_token"))
        assert access_token in inspector.text
        assert id_token in inspector.text
    else:
        assert inspector.status_code == 404
        answers.append(inspector)
    answers.append(log_out(browser, idp))
    assert_no_token_in(answers, browser, idp, caplog)


def browser_tokens(browser) -> dict:
    with browser.client.session_transaction() as session:
        return session["tokens"]


def test_the_session_cookie_is_the_only_cookie_and_holds_no_data(logged_in):
    names = [cookie.key for cookie in logged_in.client._cookies.values()]
    assert names == ["web_app_session"]
    assert "." not in logged_in.client.get_cookie("web_app_session").value  # an id, not a signed payload
