"""json_errors: an API never answers with an HTML page or a stack trace."""

from __future__ import annotations

import datetime

import pytest
from flask import Flask, abort, jsonify, request
from flask.json.provider import DefaultJSONProvider

from obo_common import json_errors


@pytest.fixture
def client():
    app = Flask(__name__)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /etc/passwd")

    @app.get("/teapot")
    def teapot():
        abort(418)

    @app.post("/echo")
    def echo():
        body = request.get_json(silent=True)
        return (jsonify(body), 200) if body is not None else (jsonify(error="invalid_request"), 400)

    json_errors.init_app(app)
    return app.test_client()


def test_json_nested_thousands_deep_is_a_bad_body_not_a_crash(client):
    deep = "[" * 50_000 + "]" * 50_000
    answer = client.post("/echo", data=deep, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json == {"error": "invalid_request"}
    assert client.post("/echo", json=[[["fine"]]]).json == [[["fine"]]]


def test_an_unknown_path_is_a_json_404(client):
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert answer.is_json
    assert answer.get_json()["error"] == "not_found"


def test_a_wrong_method_is_a_json_405(client):
    answer = client.post("/boom")
    assert answer.status_code == 405
    assert answer.get_json()["error"] == "method_not_allowed"


def test_an_http_error_keeps_its_status_and_names_it(client):
    answer = client.get("/teapot")
    assert answer.status_code == 418
    assert answer.get_json()["error"] == "i'm_a_teapot"


def test_an_unexpected_exception_is_a_json_500_without_details(client):
    answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.get_json() == {
        "error": "server_error",
        "error_description": "The server could not handle this request.",
    }
    assert "secret internals" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("debug", [False, True])
def test_answers_are_the_bytes_flask_itself_would_send(debug):
    """The compact encoder kept by the provider writes what Flask's own provider writes:
    keys sorted, non-ASCII escaped, dates by Flask's default, and indented in debug mode."""
    app = Flask(__name__)
    app.debug = debug
    json_errors.init_app(app)
    body = {"zeta": [{"b": 1, "a": "é"}], "alpha": datetime.date(2026, 12, 6), "mid": None}
    with app.app_context():
        ours = jsonify(body)
        flasks = DefaultJSONProvider(app).response(body)
    assert ours.data == flasks.data
    assert ours.mimetype == flasks.mimetype == "application/json"
