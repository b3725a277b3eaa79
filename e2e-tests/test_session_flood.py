"""Anonymous traffic cannot log users out of the web app: a flood of ``GET /login`` (each
starts a login, with a session of its own) larger than the store of unfinished logins
leaves a logged-in user logged in, with the sessions in files and in a real Redis
(WEB_APP_SESSION_URL; web-app/web_app/session_store/)."""

from __future__ import annotations

import pytest
import redis
import requests
from browser_user import web_app_sign_in
from demo_tenant import TIMEOUT

FLOOD = 1100  # the store of unfinished logins holds 1,000
PENDING_CAP = 1000


@pytest.mark.parametrize("stack_name", ["stack", "redis_sessions_stack"])
def test_a_flood_of_anonymous_logins_leaves_a_logged_in_user_logged_in(request, stack_name):
    stack = request.getfixturevalue(stack_name)
    web_app = stack["web-app"].url
    user = requests.Session()
    assert web_app_sign_in(stack, user).status_code == 302
    assert user.get(web_app + "/profile", timeout=TIMEOUT).status_code == 200

    with requests.Session() as anonymous:  # one connection; no cookie kept between requests
        for _ in range(FLOOD):
            anonymous.cookies.clear()
            assert anonymous.get(web_app + "/login", allow_redirects=False, timeout=TIMEOUT).status_code == 302

    assert user.get(web_app + "/profile", timeout=TIMEOUT).status_code == 200
    if stack_name == "redis_sessions_stack":
        sessions = redis.Redis(port=stack["redis"].service.port, db=1, socket_timeout=TIMEOUT)
        assert len(sessions.keys("web-app:session:*")) == 1
        assert 0 < len(sessions.keys("web-app:pending:*")) <= PENDING_CAP


def test_web_app_processes_sharing_a_redis_share_the_login(redis_sessions_stack):
    user = requests.Session()
    assert web_app_sign_in(redis_sessions_stack, user).status_code == 302
    with redis_sessions_stack.another("web-app") as second:
        # The cookie the first process set opens the login on the second: no file shared.
        assert user.get(second.url + "/profile", timeout=TIMEOUT).status_code == 200
