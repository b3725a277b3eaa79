"""Tokens stay on the server: never in a page, a URL, a cookie, a header or a log line."""

import logging

from .fakes import SOURCE_API_URL


def test_no_token_appears_in_any_page_cookie_header_or_log_line(browser, idp, source_api, network, caplog):
    caplog.set_level(logging.DEBUG)
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
    answers.append(browser.post("/logout"))

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


def test_the_session_cookie_is_the_only_cookie_and_holds_no_data(logged_in):
    names = [cookie.key for cookie in logged_in.client._cookies.values()]
    assert names == ["web_app_session"]
    assert "." not in logged_in.client.get_cookie("web_app_session").value  # an id, not a signed payload
