"""The flow inspector's parts: the curl commands and the display-only JWT decoding."""

import shlex

from obo_common.http_trace import MASK
from obo_testing import TokenFactory
from web_app.curl_commands import curl
from web_app.inspector_page import build
from web_app.token_display import claim_diff, decode, tokens_on_the_way


def redemption(**form):
    return {
        "step": "1",
        "caller": "web-app",
        "request": {
            "method": "POST",
            "url": "http://localhost:9000/oauth/token",
            "headers": {"Accept": "application/json", "User-Agent": "python-requests"},
            "form": {"grant_type": "authorization_code", "client_secret": MASK, **form},
            "json": None,
        },
        "secrets": {"client_secret": "WEB_APP_CLIENT_SECRET"},
    }


def test_a_secret_is_a_shell_variable_and_every_value_is_quoted():
    command = curl(redemption(code="it's $HOME; rm -rf /"))

    assert "$WEB_APP_CLIENT_SECRET" in command
    assert MASK not in command
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:3] == ["curl", "-sS", "http://localhost:9000/oauth/token"]
    assert "code=it's $HOME; rm -rf /" in words  # one word, nothing expanded
    assert 'client_secret="$WEB_APP_CLIENT_SECRET"' in command  # expanded by the shell that runs it
    assert "User-Agent" not in command


def test_a_masked_field_without_a_named_variable_gets_one_from_its_name():
    hop = redemption(password=MASK)
    hop["secrets"] = {}
    command = curl(hop)
    assert '"$PASSWORD"' in command
    assert '"$CLIENT_SECRET"' in command


def test_a_get_with_a_bearer_token_and_a_json_post():
    get = {"request": {"method": "GET", "url": "http://x/api?a=1&b=2", "headers": {"Authorization": "Bearer t"}}}
    assert shlex.split(curl(get).replace("\\\n", " ")) == [
        "curl",
        "-sS",
        "http://x/api?a=1&b=2",
        "-H",
        "Authorization: Bearer t",
    ]
    post = {"request": {"method": "POST", "url": "http://x/api", "headers": {}, "json": {"name": "Eve O'Neil"}}}
    words = shlex.split(curl(post).replace("\\\n", " "))
    assert words[-1] == '{"name": "Eve O\'Neil"}'
    assert "Content-Type: application/json" in words


def test_a_cache_hit_has_no_command():
    assert curl({"request": None, "cache": "hit"}) is None


def test_decoding_reads_a_jws_without_checking_it():
    token = TokenFactory().issue(sub="auth0|alice")
    decoded = decode(token)
    assert decoded.is_jwt
    assert decoded.header["alg"] == "RS256"
    assert decoded.claims["sub"] == "auth0|alice"
    forged = token.rsplit(".", 1)[0] + ".bm90LWEtc2lnbmF0dXJl"
    assert decode(forged).is_jwt  # display only: the APIs verify


def test_anything_else_is_not_a_jwt():
    for value in ("", "opaque-refresh-token", "a.b", "a.b.c", "e30.W10.x", "e30.gA.x", None, 42):
        assert not decode(value).is_jwt


def test_the_diff_marks_changed_and_rule_claims():
    rows = {row.name: row for row in claim_diff({"aud": "a", "sub": "s"}, {"aud": "b", "sub": "s", "https://x/y": 1})}
    assert rows["aud"].changed
    assert not rows["sub"].changed
    assert rows["https://x/y"].from_rule
    assert rows["https://x/y"].user == "(absent)"


def test_each_token_once_with_where_it_was_seen():
    hops = [
        {"step": "2", "title": "Call", "caller": "web-app", "request": {"headers": {"Authorization": "Bearer u"}}},
        {
            "step": "3",
            "title": "Exchange",
            "caller": "source-api",
            "request": {"form": {"subject_token": "u"}},
            "response": {"body": {"access_token": "t", "refresh_token": "r"}},
        },
    ]
    tokens = tokens_on_the_way(hops, {"access_token": "u"})
    assert [(t.kind, t.decoded.raw) for t in tokens] == [("access", "u"), ("target", "t"), ("target_refresh", "r")]
    assert tokens[0].seen_in == [
        "step 2, Call: Authorization header",
        "step 3, Exchange: subject_token sent",
        "held now by the web app",
    ]


def test_a_variable_name_from_a_hop_is_used_only_when_it_is_a_plain_name():
    hop = redemption(pin=MASK, other=MASK)
    hop["secrets"] = {"client_secret": 'X"; rm -rf ~; echo "', "pin": "PIN_1"}
    command = curl(hop)
    assert "rm -rf" not in command
    assert '"$CLIENT_SECRET"' in command
    assert '"$PIN_1"' in command
    assert '"$OTHER"' in command


def _hop(step: str, caller: str, status: int | None = 200, cache: str | None = None) -> dict:
    return {
        "step": step,
        "caller": caller,
        "cache": cache,
        "request": {"method": "POST", "url": "http://idp.test/oauth/token"},
        "response": {"status": status} if status else None,
    }


def test_step_3_says_the_source_api_renewed_by_refresh_instead_of_not_yet():
    renewed = {"call": {"at": 1, "hops": [_hop("2", "web-app"), _hop("5", "source-api"), _hop("4", "source-api")]}}
    outcomes = [step.outcome for step in build(renewed, {}).steps]
    assert outcomes == ["not yet", "200", "renewed by refresh (step 5: 200)", "200", "200"]

    # The web app's own refresh is no renewal of the Target API token.
    own = {"refresh": {"at": 1, "hops": [_hop("5", "web-app")]}}
    assert build(own, {}).steps[2].outcome == "not yet"
    exchanged = {"call": {"at": 1, "hops": [_hop("3", "source-api", cache="hit")]}}
    assert build(exchanged, {}).steps[2].outcome == "cache hit"
