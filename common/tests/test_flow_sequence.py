"""The recorded flow as a sequence: one arrow per hop, its lanes, its kind and its label."""

from obo_common.flow_sequence import CACHE, CALL, FAILED, LANES, REFRESH, arrows, as_text


def hop(step, caller, callee, method="GET", url="http://x.test/api/me", status=200, **extra):
    response = {"status": status, "headers": {}, "body": None} if status is not None else None
    return {
        "step": step,
        "title": extra.pop("title", "a hop"),
        "caller": caller,
        "callee": callee,
        "request": {"method": method, "url": url} if callee else None,
        "response": response,
        "cache": None,
        "error": None,
        **extra,
    }


RUN = [
    hop("1", "browser", "identity provider", url="http://idp.test/authorize?x=1", status=302),
    hop("1", "web-app", "identity provider", "POST", "http://idp.test/oauth/token"),
    hop("2", "web-app", "source-api", url="http://src.test/api/contacts"),
    {"step": "3", "title": "Token exchange", "caller": "source-api", "callee": None, "cache": "hit"},
    hop("4", "source-api", "target-api", url="http://tgt.test/api/contacts"),
    hop("5", "web-app", "identity provider", "POST", "http://idp.test/oauth/token"),
]


def test_one_arrow_per_hop_between_the_lanes_of_caller_and_callee():
    sequence = arrows(RUN)
    assert [(LANES[a.source], LANES[a.target]) for a in sequence] == [
        ("browser", "identity provider"),
        ("web app", "identity provider"),
        ("web app", "Source API"),
        ("Source API", "Source API"),
        ("Source API", "Target API"),
        ("web app", "identity provider"),
    ]
    assert [a.number for a in sequence] == [1, 2, 3, 4, 5, 6]
    assert [a.step for a in sequence] == ["1", "1", "2", "3", "4", "5"]


def test_the_kinds_say_call_cache_hit_refresh():
    assert [a.kind for a in arrows(RUN)] == [CALL, CALL, CALL, CACHE, CALL, REFRESH]


def test_a_label_is_the_endpoint_and_the_status():
    labels = [a.label for a in arrows(RUN)]
    assert labels[0] == "GET /authorize 302"  # the query stays out of the label
    assert labels[1] == "POST /oauth/token 200"
    assert labels[3] == "cache hit"


def test_a_failure_is_an_error_status_or_no_answer_and_carries_its_case():
    failed = [
        hop("3", "source-api", "identity provider", "POST", "http://idp.test/oauth/token", status=403),
        hop("4", "source-api", "target-api", status=None, error="timed out"),
        hop("2", "web-app", "source-api", status=200),
    ]
    sequence = arrows(failed, case_of=lambda h: {"3": "T16", "4": "T31"}.get(h["step"]))
    assert [a.kind for a in sequence] == [FAILED, FAILED, CALL]
    assert [a.case for a in sequence] == ["T16", "T31", None]  # only a failure asks for its case
    assert sequence[0].label == "POST /oauth/token 403 (T16)"
    assert sequence[1].label == "GET /api/me no answer: timed out (T31)"


def test_anchors_link_each_arrow_to_its_hop():
    assert [a.anchor for a in arrows(RUN[:2], anchors=["hop-1", "hop-2"])] == ["hop-1", "hop-2"]


def test_hops_of_any_shape_become_arrows_never_an_error():
    garbage = ["not a hop", {"step": 7, "caller": ["x"], "response": "ok"}, {"request": {"url": 5, "method": None}}]
    sequence = arrows(garbage)
    assert len(sequence) == 3
    assert all(a.kind == FAILED and a.step == "?" for a in sequence)
    assert {LANES[a.source] for a in sequence} == {"web app"}


def test_as_text_prints_a_line_per_arrow():
    lines = as_text(arrows(RUN))
    assert len(lines) == 6
    assert lines[0].startswith(" 1. step 1  browser")
    assert "-> identity provider" in lines[0]
    assert lines[0].endswith("GET /authorize 302")
    assert "(its cache)" in lines[3]
    assert lines[3].endswith("cache hit")
    assert lines[5].endswith("(refresh)")
    assert as_text([]) == ["(nothing recorded)"]


def test_an_error_sent_back_by_redirect_is_a_failure():
    refused = hop("1", "browser", "identity provider", url="http://idp.test/authorize", status=302)
    refused["response"]["body"] = {"error": "access_denied", "error_description": "Service not enabled"}
    [arrow] = arrows([refused], case_of=lambda h: "T20")
    assert arrow.kind == FAILED
    assert arrow.label == "GET /authorize 302 access_denied (T20)"
