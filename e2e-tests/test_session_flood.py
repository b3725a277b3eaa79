"""Anonymous traffic cannot log users out of the web app: a flood of ``GET /login`` (each
starts a login, with a session of its own) larger than the store of unfinished logins
leaves a logged-in user logged in (web-app/web_app/session_store.py)."""

from __future__ import annotations

import requests
from browser_user import web_app_sign_in
from demo_tenant import TIMEOUT

FLOOD = 1100  # the store of unfinished logins holds 1,000


def test_a_flood_of_anonymous_logins_leaves_a_logged_in_user_logged_in(stack):
    web_app = stack["web-app"].url
    user = requests.Session()
    assert web_app_sign_in(stack, user).status_code == 302
    assert user.get(web_app + "/profile", timeout=TIMEOUT).status_code == 200

    with requests.Session() as anonymous:  # one connection; no cookie kept between requests
        for _ in range(FLOOD):
            anonymous.cookies.clear()
            assert anonymous.get(web_app + "/login", allow_redirects=False, timeout=TIMEOUT).status_code == 302

    assert user.get(web_app + "/profile", timeout=TIMEOUT).status_code == 200
