"""Exporting the recorded run: HAR 1.2 and one JSON document, tokens shortened unless asked."""

import json

import pytest

from obo_common.http_trace import MASK
from web_app import create_app

from .browser import Browser
from .test_inspector import IAT, TARGET_TOKEN, USER_TOKEN, call_hops, store


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"demo_tools": "on"})


def download(browser, name: str, **query):
    answer = browser.client.get(f"/inspector/{name}", query_string=query)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="obo-run-')
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_data(as_text=True)


def test_the_har_has_an_entry_per_request_with_the_hops_facts(logged_in):
    store(logged_in, call=call_hops())
    har = json.loads(download(logged_in, "export.har"))["log"]

    assert har["version"] == "1.2"
    assert [page["id"] for page in har["pages"]] == ["call"]
    entries = har["entries"]
    assert [(e["_step"], e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("2", "GET", 200),
        ("3", "POST", 200),
        ("4", "GET", 200),
    ]
    exchange = entries[1]
    assert exchange["pageref"] == "call"
    assert exchange["startedDateTime"].startswith("2023-11-14T22:13:20.0")  # the action's time, IAT
    assert exchange["time"] == 12.5
    assert exchange["request"]["postData"]["mimeType"] == "application/x-www-form-urlencoded"
    params = {p["name"]: p["value"] for p in exchange["request"]["postData"]["params"]}
    assert params["client_secret"] == MASK
    assert params["audience"] == "https://target-api.example.com"
    for entry in entries:  # what HAR 1.2 requires of an entry
        for field in ("startedDateTime", "time", "request", "response", "cache", "timings"):
            assert field in entry
        for field in ("method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"):
            assert field in entry["request"]
        for field in ("status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL"):
            assert field in entry["response"]


def test_tokens_are_shortened_as_the_page_shows_them(logged_in):
    store(logged_in, call=call_hops())
    for name in ("export.har", "export.json"):
        text = download(logged_in, name)
        assert USER_TOKEN not in text
        assert TARGET_TOKEN not in text
        assert USER_TOKEN[:14] + "…" + USER_TOKEN[-6:] in text
        assert "web-app-secret" not in text


def test_the_switch_keeps_the_demo_tokens_whole(logged_in):
    store(logged_in, call=call_hops())
    for name in ("export.har", "export.json"):
        text = download(logged_in, name, tokens="whole")
        assert USER_TOKEN in text
        assert TARGET_TOKEN in text
        assert MASK in text  # the secrets stay masked: they were never recorded


def test_a_real_login_exports_with_nothing_usable_in_it(logged_in, idp):
    text = download(logged_in, "export.har")
    har = json.loads(text)["log"]
    assert [e["_title"] for e in har["entries"]] == ["Authorization request", "Code redemption"]
    for token in idp.issued:
        assert token not in text
    assert "web-app-secret" not in text


def test_the_json_document_holds_every_hop_and_the_sequence(logged_in):
    hops = call_hops()
    hops.insert(1, {"step": "3", "title": "Token exchange", "caller": "source-api", "cache": "hit", "note": "held"})
    store(logged_in, call=hops)
    document = json.loads(download(logged_in, "export.json"))
    assert document["format"] == "obo-flow-inspector-run"
    assert document["tokens"] == "shortened"
    assert document["actions"] == [{"action": "call", "at": IAT, "status": 200}]
    assert [h["anchor"] for h in document["hops"]] == ["hop-1", "hop-2", "hop-3", "hop-4"]
    assert [a["label"] for a in document["sequence"]] == [
        "GET /api/contacts 200",
        "cache hit",
        "POST /oauth/token 200",
        "GET /api/contacts 200",
    ]
    assert [(a["from"], a["to"], a["kind"]) for a in document["sequence"][:2]] == [
        ("web app", "Source API", "call"),
        ("Source API", "Source API", "cache"),
    ]
    har = json.loads(download(logged_in, "export.har"))
    assert len(har["log"]["entries"]) == 3  # no request was made for the cache hit


@pytest.mark.parametrize(("path", "status"), [("export.har?tokens=all", 400), ("export.xml", 404)])
def test_bad_input_gets_a_clear_error(logged_in, path, status):
    answer = logged_in.client.get(f"/inspector/{path}")
    assert answer.status_code == status
    assert "Traceback" not in answer.text
    if status == 400:
        assert "tokens=whole" in answer.text


def test_only_for_the_logged_in_user_with_the_demo_tools_on(client, settings, idp, source_api):
    assert client.get("/inspector/export.har").status_code == 401
    app = create_app(settings.model_copy(update={"demo_tools": "off"}))
    browser = Browser(app.test_client(), idp)
    browser.log_in()
    assert browser.client.get("/inspector/export.har").status_code == 404
    assert browser.client.get("/inspector/export.json?tokens=whole").status_code == 404


def test_nothing_recorded_exports_an_empty_run(logged_in):
    store(logged_in)
    assert json.loads(download(logged_in, "export.har"))["log"]["entries"] == []
