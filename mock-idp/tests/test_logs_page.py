"""The tenant log page for people and its live feed: filters, raw JSON, the Management
API's own entries hidden, bad input refused, identifiers only."""

import html
import json
import re

import pytest

from .flows import ALICE_ID, ISSUER, PASSWORD, TARGET_API, WEB_APP, Management, query_of

MANAGEMENT_AUDIENCE = ISSUER + "api/v2/"


def feed(flows, **params):
    return flows.browser.get("/logs/feed", query_string=params)


def types(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [e["type"] for e in response.json["entries"]]


def marker(flows) -> str:
    """The id of a fresh entry: what the test adds comes after it."""
    flows.refresh("written before the test")
    return flows.last_log()["log_id"]


def raw_entries(page: str) -> list[dict]:
    return [json.loads(html.unescape(raw)) for raw in re.findall(r'<pre class="raw">(.*?)</pre>', page, re.S)]


def attribute(page: str, pattern: str) -> str | None:
    match = re.search(pattern, page)
    return html.unescape(match.group(1)) if match else None


def client_credentials(flows, **client):
    data = {"grant_type": "client_credentials", "audience": MANAGEMENT_AUDIENCE, **client}
    return flows.backend.post("/oauth/token", data=data)


# -- the feed --------------------------------------------------------------------------


def test_the_feed_answers_the_entries_after_a_marker_newest_first(flows):
    after = marker(flows)
    flows.refresh("one")
    flows.refresh("two", headers={"X-Request-Id": "click-7"})

    body = feed(flows, after=after).json

    assert [e["type"] for e in body["entries"]] == ["fertft", "fertft"]
    assert body["entries"][0]["details"]["request_id"] == "click-7"
    assert (body["more"], body["cleared"]) == (False, False)
    assert feed(flows, after=body["entries"][0]["log_id"]).json["entries"] == []
    assert flows.backend.get("/logs/feed").status_code == 200  # open like the page: no token


def test_the_feed_is_bounded_and_catches_up_without_a_gap(flows):
    after = marker(flows)
    for n in range(5):
        flows.refresh("unknown", headers={"X-Request-Id": f"r{n}"})
    seen = []
    for expected, more in ((["r1", "r0"], True), (["r3", "r2"], True), (["r4"], False)):
        body = feed(flows, after=after, per_page=2).json
        assert [e["details"]["request_id"] for e in body["entries"]] == expected
        assert body["more"] is more
        seen += expected
        after = body["entries"][0]["log_id"]
    assert sorted(seen) == [f"r{n}" for n in range(5)]


def test_the_feed_takes_the_pages_filters(flows):
    after = marker(flows)
    tokens = flows.login_tokens()  # s, seacft
    flows.exchange(tokens["access_token"])  # success_on_behalf_of_token_exchange
    flows.refresh("unknown")  # fertft

    def search(**filters):
        return types(feed(flows, after=after, **filters))

    assert search(type="fertft,s") == ["fertft", "s"]
    assert search(client_id="source-api") == ["success_on_behalf_of_token_exchange"]
    assert search(user_id=ALICE_ID) == ["success_on_behalf_of_token_exchange", "seacft", "s"]
    assert search(audience=TARGET_API) == ["success_on_behalf_of_token_exchange"]
    assert search(**{"from": "2999-01-01T00:00:00Z"}) == []
    assert len(search(to="2999-01-01T00:00:00Z")) == 4


@pytest.mark.parametrize(
    "query",
    [
        {"after": "nope"},
        {"after": "../" * 8},
        {"per_page": "0"},
        {"per_page": "1000"},
        {"per_page": "x"},
        {"per_page": "\u00b2"},
        {"from": "yesterday"},
        {"to": "9999-12-31T23:59:59-01:00"},
        {"management": "maybe"},
    ],
)
def test_bad_feed_input_is_a_400_naming_it(flows, query):
    response = feed(flows, **query)
    assert response.status_code == 400
    assert response.json["errorCode"] == "invalid_query_string"
    assert next(iter(query)) in response.json["message"]


def test_the_feed_says_when_its_marker_was_cleared(flows):
    after = marker(flows)
    assert Management(flows, scope="delete:logs").delete("/logs").status_code == 204
    flows.refresh("after the clear")

    body = feed(flows, after=after).json

    assert body["cleared"] is True
    assert [e["details"].get("grant_type") for e in body["entries"]] == ["refresh_token", None]  # None: the clear
    assert feed(flows, after="0" * 24).json["cleared"] is True  # well formed, never written


# -- the Management API's own entries ----------------------------------------------------


def test_the_management_apis_own_entries_are_hidden_unless_asked(flows):
    after = marker(flows)
    Management(flows)  # seccft by management
    client_credentials(flows, client_id="management", client_secret="not-its-secret")  # feccft
    client_credentials(flows, **WEB_APP)  # feccft by another client: worth seeing
    flows.refresh("unknown")  # fertft
    own = {e["log_id"] for e in flows.logs(limit=10) if e["client_id"] == "management"}
    assert len(own) == 2

    hidden = feed(flows, after=after).json["entries"]
    shown = feed(flows, after=after, management="show").json["entries"]

    assert [(e["type"], e["client_id"]) for e in hidden] == [("fertft", "web-app"), ("feccft", "web-app")]
    assert [e["type"] for e in shown] == ["fertft", "feccft", "feccft", "seccft"]
    page_ids = set(re.findall(r'data-log-id="([0-9a-f]{24})"', flows.browser.get("/logs").text))
    assert page_ids
    assert not page_ids & own
    assert own <= set(re.findall(r'data-log-id="([0-9a-f]{24})"', flows.browser.get("/logs?management=show").text))
    assert own <= {e["log_id"] for e in Management(flows).get("/logs").json}  # the API hides nothing


def test_the_toggle_is_a_link_that_keeps_the_filters(flows):
    page = flows.browser.get("/logs?type=seccft").text
    assert "show Management API entries" in page
    href = attribute(page, r'<a class="toggle" href="([^"]+)"')
    assert query_of(href) == {"type": "seccft", "management": "show"}

    shown = flows.browser.get(href).text

    assert '<input type="hidden" name="management" value="show">' in shown  # the filter form keeps it
    assert query_of(attribute(shown, r'data-feed="([^"]+)"')) == {"type": "seccft", "management": "show"}
    assert query_of(attribute(shown, r'<a class="toggle" href="([^"]+)"')) == {"type": "seccft"}


# -- the page --------------------------------------------------------------------------


def test_each_entry_of_the_page_opens_its_raw_json(flows):
    flows.login_tokens()
    flows.refresh("unknown", headers={"X-Request-Id": "click-42"})

    page = flows.browser.get("/logs?type=seacft,fertft")

    assert page.status_code == 200
    assert page.text.count('<details class="entry">') == 2
    raw = raw_entries(page.text)
    assert raw == [flows.logs("fertft")[0], flows.logs("seacft")[0]]  # the whole entry, details too
    assert raw[0]["details"]["request_id"] == "click-42"
    assert "read:contacts" in raw[1]["details"]["issued"]["scope"]
    assert "Unknown or invalid refresh token." in page.text


def test_the_page_is_live_on_its_newest_page_of_a_valid_search(flows):
    flows.refresh("one")
    flows.refresh("two")
    page = flows.browser.get("/logs?client_id=web-app")
    assert '<script src="/static/logs.js" defer></script>' in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert attribute(page.text, r'data-feed="([^"]+)"') == "/logs/feed?client_id=web-app"
    assert attribute(page.text, r'data-after="([^"]*)"') == flows.last_log()["log_id"]
    assert "Reload the page for new entries." in page.text  # what a browser without JS reads
    assert flows.browser.get("/static/logs.js").status_code == 200

    older = flows.browser.get("/logs?page=1&per_page=1")
    assert "data-feed" not in older.text
    assert "newest page" in older.text

    refused = flows.browser.get("/logs?from=yesterday")
    assert refused.status_code == 200
    assert "from must be an ISO 8601 time" in refused.text
    assert "data-feed" not in refused.text
    assert flows.browser.get("/logs?per_page=abc").status_code == 200


def test_neither_the_page_nor_the_feed_shows_a_token_or_a_secret(flows):
    tokens = flows.login_tokens()
    exchanged = flows.exchange(tokens["access_token"]).json
    refreshed = flows.refresh(tokens["refresh_token"]).json
    management = Management(flows).headers["Authorization"].removeprefix("Bearer ")
    client_credentials(flows, client_id="management", client_secret="a-mistyped-secret")
    secrets = {
        tokens["access_token"], tokens["refresh_token"], tokens["id_token"], exchanged["access_token"],
        refreshed["access_token"], refreshed["refresh_token"], management,
        "web-app-secret", "source-api-secret", "management-secret", "a-mistyped-secret", PASSWORD,
    }  # fmt: skip

    page = flows.browser.get("/logs?management=show").text
    answer = feed(flows, management="show").text

    assert len(raw_entries(page)) >= 6
    for text in (page, answer):
        assert not [s for s in secrets if s in text]
