"""The flow inspector's sequence diagram, and the login's /authorize request as a hop."""

import re

import pytest

from obo_common.http_trace import MASK

from .test_inspector import TARGET_TOKEN, USER_TOKEN, call_hops, hop, inspector, recorded, store

HOSTILE = '"><script>alert(1)</script><text>'


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"demo_tools": "on"})


def svg(text: str) -> str:
    return re.search(r'<svg class="sequence".*?</svg>', text, re.S).group(0)


def arrows(text: str) -> list[dict]:
    """Each arrow of the diagram: its classes, link, step, case and label."""
    found = []
    for attributes, inside in re.findall(r"<a (class=\"arrow[^>]*)>(.*?)</a>", svg(text), re.S):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
        label = re.search(r'<text class="label"[^>]*>(.*?)</text>', inside, re.S).group(1)
        found.append({**attrs, "label": label})
    return found


def test_the_login_and_a_call_are_drawn_one_arrow_per_hop_linked_to_its_details(logged_in, source_api):
    source_api.answer_next(200, {"owner": "auth0|alice", "contacts": [], "via": {}, "trace": call_hops()[1:]})
    logged_in.post("/call", endpoint="contacts")
    text = inspector(logged_in)

    drawn = arrows(text)
    assert [(a["data-step"], a["label"]) for a in drawn] == [
        ("1", "GET /authorize 302"),
        ("1", "POST /oauth/token 200"),
        ("2", "GET /api/contacts 200"),
        ("3", "POST /oauth/token 200"),
        ("4", "GET /api/contacts 200"),
    ]
    assert [a["href"] for a in drawn] == [f"#hop-{n}" for n in range(1, 6)]
    assert all(f'id="hop-{n}"' in text for n in range(1, 6))  # each link lands on its hop
    assert {a["class"] for a in drawn} == {"arrow call"}
    for lane in ("browser", "web app", "Source API", "identity provider", "Target API"):
        assert f">{lane}</text>" in svg(text)


def test_cache_hits_refreshes_and_failures_are_drawn_differently(logged_in):
    hit = {"step": "3", "title": "Token exchange", "caller": "source-api", "callee": None, "cache": "hit"}
    hit.update(request=None, response=None, note="held", error=None)
    failed = call_hops()
    failed[1]["response"] = {
        "status": 403,
        "headers": {},
        "body": {"error": "unauthorized_client", "error_description": "Token exchange not allowed"},
    }
    refresh = hop("5", "Web app refreshes its tokens", "web-app", "identity provider", "POST", "http://i.test/t")
    store(logged_in, call=[failed[0], hit, failed[1]], refresh=[refresh])
    drawn = arrows(inspector(logged_in))

    assert [a["class"] for a in drawn] == ["arrow call", "arrow cache", "arrow failed", "arrow refresh"]
    assert drawn[1]["label"] == "cache hit"
    assert drawn[2]["data-case"] == "T16"  # the case rules: the exchange refused, unauthorized_client
    assert drawn[2]["label"] == "POST /oauth/token 403 (T16)"
    assert 'stroke="#c62828"' in svg(inspector(logged_in))  # red


@pytest.mark.parametrize(
    ("answer", "case"),
    [
        ({"status": 502, "body": {"upstream": "identity-provider", "upstream_error": "consent_required"}}, "T22"),
        ({"status": 504, "body": {"upstream": "target-api"}}, "T31"),
        ({"status": 403, "body": {"error": "insufficient_scope"}}, "T30"),
        ({"status": 401, "body": {}}, "T10"),
    ],
)
def test_a_failed_source_api_call_names_the_case_the_error_page_would(logged_in, answer, case):
    call = hop("2", "Source API call", "web-app", "source-api", "GET", "http://s.test/api/contacts")
    call["response"] = {"headers": {}, **answer}
    store(logged_in, call=[call])
    assert arrows(inspector(logged_in))[0]["data-case"] == case


def test_recorded_values_are_escaped_in_the_picture(logged_in):
    evil = hop("3", HOSTILE, "source-api", HOSTILE, HOSTILE, f"http://x.test/{HOSTILE}", status=500)
    evil["step"] = HOSTILE
    evil["error"] = HOSTILE
    store(logged_in, call=[evil])
    page = logged_in.client.get("/inspector").text
    picture = svg(page)
    assert "<script>" not in picture
    assert "<script" not in page.split('<svg class="sequence"')[1].split("</svg>")[0]
    assert picture.count("<text") == picture.count("</text>")  # no element slipped in
    assert "&lt;script&gt;" in picture


def test_the_login_records_its_authorize_request_without_the_verifier(logged_in):
    step1 = recorded(logged_in)["login"]["hops"]
    authorize, redemption = step1
    assert (authorize["caller"], authorize["callee"], authorize["title"]) == (
        "browser",
        "identity provider",
        "Authorization request",
    )
    assert authorize["response"]["status"] == 302
    text = inspector(logged_in)
    assert "Query parameters" in text
    for name in ("code_challenge", "code_challenge_method", "audience", "scope", "redirect_uri", "nonce"):
        assert f"<th>{name}</th>" in text
    assert "<code>S256</code>" in text
    assert "read:contacts" in text
    verifier = redemption["request"]["form"]["code_verifier"]
    assert verifier not in str(authorize)
    authorize_article = text.split('id="hop-1"')[1].split("</article>")[0]
    assert verifier not in authorize_article
    assert "curl" not in authorize_article  # a page for a browser, not an API call
    assert "<strong>Authorization request</strong>" in text


def test_a_login_the_provider_refused_is_drawn_red_with_its_case(logged_in):
    location = logged_in.start_login()
    state = re.search(r"state=([^&]+)", location).group(1)
    answer = logged_in.client.get(
        "/callback", query_string={"state": state, "error": "access_denied", "error_description": "Service not enabled"}
    )
    assert answer.status_code == 403
    drawn = arrows(inspector(logged_in))  # still logged in from before: the failed login is kept
    assert drawn[0]["class"] == "arrow failed"
    assert drawn[0]["data-case"] == "T20"


def test_no_tokens_or_secrets_in_the_picture(logged_in):
    store(logged_in, call=call_hops())
    picture = svg(inspector(logged_in))
    assert USER_TOKEN not in picture
    assert TARGET_TOKEN not in picture
    assert MASK not in picture
