"""A person at the identity provider's login and consent pages, without a browser.

Used by the terminal walkthrough, by ``workshop/demo_tokens.py`` (tokens for the
troubleshooting reproductions) and by the end-to-end tests, so all three log in the same
way: open the authorization URL, fill in the login form, accept the consent page, and
stop at the redirect that leaves the provider (the application's callback, which need
not be running).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge

TIMEOUT = 10


class LoginError(Exception):
    """The provider did not lead where a login leads: the message says where it stopped."""


@dataclass
class Form:
    action: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append(Form(action=attrs.get("action") or ""))
        elif self.forms and attrs.get("name") and tag == "input":
            self.forms[-1].inputs[attrs["name"]] = attrs.get("value") or ""
        elif self.forms and attrs.get("name") and tag == "button":
            self.forms[-1].buttons.setdefault(attrs["name"], []).append(attrs.get("value") or "")


def page_form(page: requests.Response) -> Form:
    """The one POST form of an identity provider page, its action made absolute."""
    parser = _FormParser()
    parser.feed(page.text)
    if len(parser.forms) != 1:
        raise LoginError(f"expected one form on {page.url} (HTTP {page.status_code}):\n{page.text}")
    form = parser.forms[0]
    form.action = urljoin(page.url, form.action)
    return form


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "title") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def _said(page: requests.Response, limit: int = 400) -> str:
    """What a page says to a person, as one line of text."""
    parser = _TextParser()
    parser.feed(page.text)
    text = " ".join(parser.parts)
    return text if len(text) <= limit else text[:limit] + "..."


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorization:
    location: str  # where the identity provider finally sent the browser
    pages: list[str]  # the pages the person was shown: "login", "consent"
    responses: list[requests.Response] = field(default_factory=list)  # every answer, in order

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.location)


def authorize(browser: requests.Session, url: str, email: str, password: str) -> Authorization:
    """Open an authorization URL and do what a person would: log in, type the demo one-time
    code when a stronger login is asked (acr_values), accept consent.

    Redirects inside the identity provider are followed; the one leaving it is returned
    unfollowed.
    """
    pages: list[str] = []
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    responses = [response]
    for _ in range(8):  # login, consent and the redirects between them; more is a loop
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if urlsplit(target)[:2] != urlsplit(response.url)[:2]:
                return Authorization(target, pages, responses)
            response = browser.get(target, allow_redirects=False, timeout=TIMEOUT)
            responses.append(response)
            continue
        if response.status_code != 200:
            raise LoginError(f"HTTP {response.status_code} at {response.url.split('?')[0]}: {_said(response)}")
        form = page_form(response)
        # The hidden "action" input tells the two pages apart, as it tells the server.
        page = form.inputs.get("action")
        if page == "login":
            data = {**form.inputs, "email": email, "password": password}
        elif page == "second_factor":
            # The demo tenant shows its one-time code on the page (mock-idp/mock_idp/second_factor.py).
            code = re.search(r'id="demo-code">(\d{6})<', response.text)
            if code is None:
                raise LoginError(f"the second factor page shows no demo code at {response.url}")
            data = {**form.inputs, "code": code.group(1)}
        elif page == "consent":
            if "accept" not in form.buttons.get("decision", []):
                raise LoginError(f"the consent page offers no way to accept: {form}")
            data = {**form.inputs, "decision": "accept"}
        else:
            raise LoginError(f"unexpected page at {response.url}:\n{response.text}")
        pages.append(page)
        response = browser.post(form.action, data=data, allow_redirects=False, timeout=TIMEOUT)
        responses.append(response)
    raise LoginError(f"the authorization did not end; pages shown: {pages}")


@dataclass
class LoginRequest:
    """Step 1's authorization request, with the PKCE verifier and state the app keeps."""

    url: str
    verifier: str
    state: str


def authorization_request(issuer: str, params: dict[str, str | None]) -> LoginRequest:
    """``params`` are the request's own (client_id, redirect_uri, scope, audience...); a
    None value leaves one out. PKCE S256 and a state are added unless given."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
        **params,
    }
    encoded = urlencode({name: value for name, value in query.items() if value is not None})
    return LoginRequest(f"{issuer}authorize?{encoded}", verifier, query.get("state") or state)
