"""A person in a browser, over HTTP (a ``requests.Session`` keeps the cookies): the
identity provider's login and consent pages, the web app's pages and forms, and what
those pages show. For a real browser, see browser_support."""

from __future__ import annotations

import html
import re

import requests
from demo_tenant import ALICE, PASSWORD, TIMEOUT
from stack_urls import StackUrls

from workshop import demo_login
from workshop.demo_login import Authorization, page_form, query_of  # noqa: F401  (the tests import them from here)


def authorize(browser: requests.Session, url: str, email: str, password: str = PASSWORD) -> Authorization:
    """Open an authorization URL and log in and consent as a person would (workshop/demo_login.py)."""
    return demo_login.authorize(browser, url, email, password)


def submit_password(browser: requests.Session, url: str, email: str, password: str) -> requests.Response:
    """Open the login page of an authorization URL and submit it once: the answer, unfollowed."""
    form = page_form(browser.get(url, timeout=TIMEOUT))
    data = {**form.inputs, "email": email, "password": password}
    return browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)


def web_app_authorize_url(stack: StackUrls, browser: requests.Session) -> str:
    """Press the web app's Log in: the identity provider's /authorize URL it sends the browser to."""
    response = browser.get(stack["web-app"].url + "/login", allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(stack.issuer + "authorize?"), location
    return location


def web_app_sign_in(stack: StackUrls, browser: requests.Session, email: str = ALICE[0], url: str | None = None):
    """Log in through the web app: its /login, the real login (and consent) pages, then its
    /callback. ``url`` replaces the web app's /authorize URL (e.g. with a parameter changed).
    Returns the callback's answer, unfollowed: a 302 to / once logged in, else an error page."""
    authorization = authorize(browser, url or web_app_authorize_url(stack, browser), email)
    assert authorization.location.startswith(stack.callback + "?"), authorization
    return browser.get(authorization.location, allow_redirects=False, timeout=TIMEOUT)


def web_app_post(
    stack: StackUrls, browser: requests.Session, path: str, page: str = "/", follow: bool = True, **data
) -> requests.Response:
    """Submit a form of the web app as the browser does: with the CSRF token of ``page``
    (``follow=False``: the answer itself, its redirect not followed)."""
    shown = browser.get(stack["web-app"].url + page, timeout=TIMEOUT)
    assert shown.status_code == 200, shown.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token, shown.text
    return browser.post(
        stack["web-app"].url + path,
        data={"csrf_token": token.group(1), **data},
        allow_redirects=follow,
        timeout=TIMEOUT * 3,
    )


def web_app_call(stack: StackUrls, browser: requests.Session, endpoint: str = "contacts") -> requests.Response:
    """Press a button of the web app's Call the Source API page (``contacts`` or ``me``)."""
    return web_app_post(stack, browser, "/call", page="/call", endpoint=endpoint)


def page_text(response: requests.Response) -> str:
    """The visible text of an HTML page, its spaces collapsed, entities decoded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def guide_links(response: requests.Response) -> list[str]:
    """The troubleshooting entries a web app page links to, e.g. ["t12"]."""
    return re.findall(r'href="/troubleshooting#(t\d\d)"', response.text)


def provider_logout(stack: StackUrls, browser: requests.Session, confirm: bool = True, **query) -> requests.Response:
    """Open the identity provider's logout as a link would (GET /v2/logout with ``query``).
    It asks the person when a live session has no valid id_token_hint: ``confirm`` presses
    Log out then. The last answer, unfollowed."""
    response = browser.get(stack.issuer + "v2/logout", params=query, allow_redirects=False, timeout=TIMEOUT)
    if confirm and logout_confirmation_asked(response):
        form = page_form(response)
        data = {**form.inputs, "decision": "logout"}
        response = browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)
    return response


def logout_confirmation_asked(response: requests.Response) -> bool:
    """Whether the identity provider answered a logout with its "Log out of ...?" form."""
    return response.status_code == 200 and re.search(r"<h1>Log out of [^<]*\?</h1>", response.text) is not None
