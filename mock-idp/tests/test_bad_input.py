"""Garbage gets a clear 4xx and changes nothing; never a 500."""

import pytest
from werkzeug.datastructures import MultiDict

from .flows import WEB_APP


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": "password", "username": "x", "password": "y"},
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": "\x00\xff", **WEB_APP},
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            **WEB_APP,
            "subject_token": "\u2603",
        },
    ],
)
def test_token_endpoint_garbage_is_a_4xx_json_error(flows, data):
    response = flows.backend.post("/oauth/token", data=data)
    assert 400 <= response.status_code < 500
    assert response.json["error"]
    assert response.headers["Cache-Control"] == "no-store"


def test_repeated_parameters_are_refused(flows):
    response = flows.backend.post(
        "/oauth/token",
        data=MultiDict(
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", "a"),
                ("refresh_token", "b"),
                *WEB_APP.items(),
            ]
        ),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("header", ["Basic", "Basic !!!notbase64", "Basic Og==", "Basic " + "A" * 5000, "Bearer x"])
def test_malformed_basic_authentication(flows, header):
    response = flows.backend.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "audience": "x"},
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response.json == {"error": "access_denied", "error_description": "Unauthorized"}


def test_json_body_is_not_a_token_request(flows):
    response = flows.backend.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_oversized_body(flows):
    response = flows.backend.post("/oauth/token", data={"grant_type": "x" * 100_000})
    assert response.status_code == 413


def test_get_on_the_token_endpoint(flows):
    response = flows.backend.get("/oauth/token")
    assert response.status_code == 405
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"client_id": "web-app"},
        {"response_type": "token", "client_id": "web-app", "redirect_uri": "http://localhost:3000/callback"},
        {
            "response_type": "code",
            "client_id": "web-app",
            "redirect_uri": "http://localhost:3000/callback",
            "prompt": "bogus",
        },
    ],
)
def test_authorize_garbage_never_500s(flows, query):
    response = flows.browser.get("/authorize", query_string=query)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.location.startswith("http://localhost:3000/callback?error=")


def test_unknown_path_is_a_json_404(flows):
    response = flows.browser.get("/nope")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
