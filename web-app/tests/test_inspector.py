"""The flow inspector: what the actions record (demo tools only) and what /inspector shows."""

import html
import re

import pytest

from obo_common.http_trace import MASK
from obo_common.token_display import decode_unverified
from obo_testing import TokenFactory
from web_app import create_app
from web_app.inspector import key_for

from .browser import Browser
from .fakes import ISSUER, OPERATOR_SECRET, SOURCE_API_URL

SOURCE_AUDIENCE = "https://source-api.example.com"
TARGET_AUDIENCE = "https://target-api.example.com"
IAT = 1_700_000_000
USER_TOKEN = TokenFactory.raw(
    {"alg": "RS256", "typ": "at+jwt", "kid": "k1"},
    {
        "iss": ISSUER,
        "sub": "auth0|alice",
        "aud": [SOURCE_AUDIENCE, ISSUER + "userinfo"],
        "client_id": "web-app",
        "azp": "web-app",
        "scope": "openid read:contacts offline_access",
        "iat": IAT,
        "exp": IAT + 86400,
    },
)
TARGET_TOKEN = TokenFactory.raw(
    {"alg": "RS256", "typ": "at+jwt", "kid": "k1"},
    {
        "iss": ISSUER,
        "sub": "auth0|alice",
        "aud": TARGET_AUDIENCE,
        "client_id": "source-api",
        "azp": "source-api",
        "scope": "read:contacts",
        "iat": IAT + 5,
        "exp": IAT + 3605,
        "https://obo.example.com/exchanged_by": "source-api",
    },
)


def hop(step, title, caller, callee, method, url, *, headers=None, form=None, body=None, status=200, **extra):
    return {
        "step": step,
        "title": title,
        "caller": caller,
        "callee": callee,
        "request": {"method": method, "url": url, "headers": headers or {}, "form": form, "json": None},
        "response": {"status": status, "headers": {"Content-Type": "application/json"}, "body": body},
        "duration_ms": 12.5,
        "cache": None,
        "request_id": "req-42",
        "secrets": {},
        "error": None,
        "note": None,
        **extra,
    }


def call_hops(user_token=USER_TOKEN, target_token=TARGET_TOKEN):
    contacts = {"owner": "auth0|alice", "contacts": [{"name": "Carol Chen", "email": "carol@example.com"}]}
    return [
        hop(
            "2",
            "Source API call",
            "web-app",
            "source-api",
            "GET",
            SOURCE_API_URL + "/api/contacts",
            headers={"Authorization": f"Bearer {user_token}", "X-Obo-Trace": "1"},
            body=contacts,
        ),
        hop(
            "3",
            "Token exchange",
            "source-api",
            "identity provider",
            "POST",
            "http://idp-internal.test/oauth/token",
            form={
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": user_token,
                "audience": TARGET_AUDIENCE,
                "client_id": "source-api",
                "client_secret": MASK,
            },
            body={"access_token": target_token, "token_type": "Bearer", "expires_in": 3600},
            cache="miss",
            secrets={"client_secret": "SOURCE_API_CLIENT_SECRET"},
        ),
        hop(
            "4",
            "Target API call",
            "source-api",
            "target-api",
            "GET",
            "http://target-api.test/api/contacts",
            headers={"Authorization": f"Bearer {target_token}"},
            body=contacts,
        ),
    ]


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"demo_tools": "on"})


def kept(browser):
    """The inspector's store and this browser's key in it."""
    client = browser.client
    return client.application.extensions["inspector"], key_for(client.get_cookie("web_app_session").value)


def store(browser, **actions):
    records, key = kept(browser)
    records.set(key, {name: {"at": IAT, "status": 200, "hops": hops} for name, hops in actions.items()})


def recorded(browser) -> dict | None:
    records, key = kept(browser)
    return records.get(key)


def inspector(browser) -> str:
    page = browser.client.get("/inspector")
    assert page.status_code == 200, page.text
    return html.unescape(page.text)


def diff_rows(text: str) -> dict[str, tuple[str, list[str]]]:
    """claim -> (row class, [cells]) of the claim-by-claim table."""
    table = re.search(r'<table class="diff">(.*?)</table>', text, re.S).group(1)
    rows = {}
    for classes, cells in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', table, re.S):
        name = re.search(r"<code>(.*?)</code>", cells).group(1)
        rows[name] = (
            classes,
            [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", cells, re.S)],
        )
    return rows


def test_with_the_demo_tools_off_the_inspector_is_404_and_nothing_is_recorded(settings, idp, network, source_api):
    app = create_app(settings.model_copy(update={"demo_tools": "off"}))
    browser = Browser(app.test_client(), idp)
    browser.log_in()

    assert browser.client.get("/inspector").status_code == 404
    assert "/inspector" not in browser.client.get("/").text
    assert "/inspector" not in browser.post("/call", endpoint="contacts").text
    assert "X-Obo-Trace" not in network.calls_to_path("/api/contacts")[-1].headers
    assert "inspector" not in app.extensions
    assert not (settings.data_dir / "inspector").exists()


def test_the_inspector_needs_a_login(client):
    page = client.get("/inspector")
    assert page.status_code == 401
    assert "You are not logged in" in page.text


def test_it_is_linked_in_the_nav_and_after_a_call(logged_in):
    assert 'href="/inspector"' in logged_in.client.get("/").text
    call = logged_in.post("/call", endpoint="contacts")
    assert "See how it was obtained, hop by hop" in call.text


def test_before_any_call_it_says_what_to_do(logged_in):
    store(logged_in)
    text = inspector(logged_in)
    assert "Nothing recorded yet" in text
    assert 'href="/call"' in text


def test_the_login_records_the_code_redemption_with_the_secret_masked(logged_in):
    text = inspector(logged_in)

    assert "Code redemption" in text
    assert "web-app → identity provider" in text
    assert "code_verifier" in text
    assert "authorization_code" in text
    assert "web-app-secret" not in text
    assert 'client_secret="$WEB_APP_CLIENT_SECRET"' in text  # in the curl command
    assert "Your ID token" in text
    assert "alice@example.com" in text
    assert "Not recorded yet" in text  # steps 2 to 5


def test_a_call_asks_the_source_api_for_its_trace_and_puts_it_in_the_timeline(logged_in, network, source_api):
    source_api.answer_next(200, {"owner": "auth0|alice", "contacts": [], "via": {}, "trace": call_hops()[1:]})

    call = logged_in.post("/call", endpoint="contacts")

    sent = network.calls_to_path("/api/contacts")[-1].headers
    assert (sent["X-Obo-Trace"], sent["X-Obo-Operator"]) == ("1", OPERATOR_SECRET)
    assert "Token exchange" not in call.text
    assert TARGET_TOKEN not in call.text
    text = inspector(logged_in)
    assert [int(n) for n in re.findall(r'<span class="tag stepno">step (\d)</span>', text)] == [1, 2, 3, 4]
    assert "cache miss" in text
    assert 'client_secret="$SOURCE_API_CLIENT_SECRET"' in text
    step2 = recorded(logged_in)["call"]["hops"][0]
    assert step2["request"]["headers"]["X-Obo-Operator"] == MASK
    assert OPERATOR_SECRET not in text
    assert "trace" not in step2["response"]["body"]  # moved out of the answer, into the timeline


def test_the_timeline_shows_each_hops_facts(logged_in):
    store(logged_in, call=call_hops())
    text = inspector(logged_in)

    assert "GET</code> <code>http://source-api.test/api/contacts" in text
    assert "12.5 ms" in text
    assert "req-42" in text
    assert '"owner": "auth0|alice"' in text  # the body, pretty-printed
    assert text.count('data-copy="curl-hop-') == 3  # a curl for each hop
    assert f"-H 'Authorization: Bearer {TARGET_TOKEN}'" in text


def test_tokens_are_shortened_with_a_toggle_to_show_them(logged_in):
    store(logged_in, call=call_hops())
    text = inspector(logged_in)
    assert f'<code class="whole">Bearer {USER_TOKEN}</code>' in text
    assert f"<code>Bearer {USER_TOKEN[:7]}" in text
    assert "…" in text


def test_the_diff_compares_the_users_token_with_the_target_api_token(logged_in):
    store(logged_in, call=call_hops())
    rows = diff_rows(inspector(logged_in))

    classes, (user, target) = rows["aud"]
    assert "changed" in classes
    assert SOURCE_AUDIENCE in user
    assert target == TARGET_AUDIENCE
    assert rows["client_id"][1] == ["web-app", "source-api"]
    assert rows["scope"][1] == ["openid read:contacts offline_access", "read:contacts"]
    assert "changed" not in rows["sub"][0]
    assert rows["sub"][1] == ["auth0|alice", "auth0|alice"]
    assert rows["lifetime (exp - iat)"][1] == ["86400 s (1d)", "3600 s (1h)"]
    classes, (user, target) = rows["https://obo.example.com/exchanged_by"]
    assert "rule" in classes
    assert "changed" in classes
    assert (user, target) == ("(absent)", "source-api")
    assert list(rows)[:3] == ["aud", "scope", "client_id"]


def test_every_token_is_decoded_with_its_exp_as_a_countdown(logged_in):
    store(logged_in, call=call_hops())
    text = inspector(logged_in)
    assert "The Target API token (exchanged by the Source API)" in text
    assert "Decoded here, verified by the APIs" in text
    assert f'data-exp="{IAT + 3605}"' in text  # counted down by inspector.js
    assert "2023-11-14 23:13:25 UTC" in text  # the absolute time, without JavaScript


def delegated_call_hops():
    """A call under the current profile: the exchange sent an actor token and got a token
    naming the Source API in act, over an earlier actor's."""
    _, target_claims = decode_unverified(TARGET_TOKEN)
    claims = {**target_claims, "act": {"sub": "source-api", "act": {"sub": "gateway"}}}
    target = TokenFactory.raw({"alg": "RS256", "typ": "at+jwt", "kid": "k1"}, claims)
    actor = TokenFactory.raw(
        {"alg": "RS256", "typ": "at+jwt", "kid": "k1"},
        {"iss": ISSUER, "sub": "source-api@clients", "aud": TARGET_AUDIENCE, "gty": "client-credentials"},
    )
    hops = call_hops(target_token=target)
    hops[1]["request"]["form"].update(
        actor_token=actor, actor_token_type="urn:ietf:params:oauth:token-type:access_token"
    )
    return hops, target, actor


def test_a_delegated_target_api_token_shows_who_acted(logged_in):
    hops, target, actor = delegated_call_hops()
    store(logged_in, call=hops)
    text = inspector(logged_in)

    card = token_card(text, target)
    assert "Acted: <code>source-api, after gateway</code>" in card
    assert "The Source API's actor token (its own, sent with the exchange)" in text
    assert "step 3, Token exchange: actor_token sent" in token_card(text, actor)
    assert "Acted:" not in token_card(text, actor)
    assert "Acted:" not in token_card(text, USER_TOKEN)
    assert diff_rows(text)["act"][1][0] == "(absent)"


def token_card(text: str, token: str) -> str:
    [card] = [card for card in text.split('<section class="token-card"')[1:] if f">{token}</code>" in card]
    return card


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.!!!.x",
        "eyJhbGciOiJSUzI1NiJ9.WzFd.x",  # claims that are a JSON array
        "ZXlK.gA.x",  # not UTF-8
        "a.b.c.d.e",  # an encrypted token has five parts
    ],
)
def test_a_malformed_token_is_shown_as_not_a_jwt_never_an_error(logged_in, bad):
    store(logged_in, call=call_hops(user_token=bad))
    card = token_card(inspector(logged_in), bad)
    assert "not a JWT" in card
    assert "<h4>Claims</h4>" not in card


def test_claims_that_are_no_time_are_shown_as_they_are(logged_in):
    odd = TokenFactory.raw({"alg": "RS256"}, {"exp": 1e300, "iat": "yesterday", "aud": {"a": [1]}})
    store(logged_in, call=call_hops(user_token=odd))
    text = inspector(logged_in)
    card = token_card(text, odd)
    assert "1e+300" in card
    assert "yesterday" in card
    assert 'data-exp="' not in card
    assert diff_rows(text)["lifetime (exp - iat)"][1][0] == "(absent)"


def test_a_refresh_is_recorded_as_step_5(logged_in):
    logged_in.post("/refresh")
    text = inspector(logged_in)
    assert "Web app refreshes its tokens" in text
    assert "A rotated refresh token is single-use" in text
    assert "grant_type=refresh_token" in text
    assert 'client_secret="$WEB_APP_CLIENT_SECRET"' in text


def test_the_refresh_inside_a_call_is_part_of_the_call(logged_in, idp):
    idp.expire_access_tokens()
    logged_in.post("/call", endpoint="contacts")
    hops = recorded(logged_in)["call"]["hops"]
    assert [(h["step"], h["response"]["status"]) for h in hops] == [("2", 401), ("5", 200), ("2", 200)]
    outcomes = re.findall(r'<span class="outcome">(.*?)</span>', inspector(logged_in))
    assert outcomes == ["200", "401, 200", "not yet", "not yet", "200"]  # the fake Source API sends no trace


def test_a_failed_call_is_recorded_too(logged_in, network):
    network.down.add(SOURCE_API_URL)
    assert logged_in.post("/call", endpoint="contacts").status_code == 503
    text = inspector(logged_in)
    assert "No answer: could not connect" in text


def test_a_new_login_forgets_the_last_ones_calls(logged_in):
    logged_in.post("/call", endpoint="contacts")
    records, first_key = kept(logged_in)
    logged_in.log_in()
    assert kept(logged_in)[1] != first_key  # a new session id at login
    assert records.get(first_key) is None
    assert list(recorded(logged_in)) == ["login"]


def test_recording_never_writes_the_session(logged_in, source_api):
    before = logged_in.client.get_cookie("web_app_session").value
    with logged_in.client.session_transaction() as session:
        tokens = dict(session["tokens"])
        session["tokens"] = {**tokens, "marker": "kept"}
    logged_in.post("/call", endpoint="contacts")
    assert recorded(logged_in)["call"]
    with logged_in.client.session_transaction() as session:
        assert session["tokens"]["marker"] == "kept"
        assert "inspector" not in session
    assert logged_in.client.get_cookie("web_app_session").value == before


def test_logging_out_forgets_the_record(logged_in):
    records, key = kept(logged_in)
    logged_in.post("/logout")
    assert records.get(key) is None


def test_hops_of_the_wrong_shape_are_shown_as_they_can_be(logged_in, source_api):
    garbage = [
        {"step": "3", "request": "GET /", "response": ["x"], "secrets": "all", "duration_ms": "fast"},
        {"step": "4", "request": {"headers": ["Authorization"], "form": "a=b", "url": 5}, "response": {"status": "ok"}},
        {"step": "4", "response": {"status": 500, "body": {"access_token": 7}}, "error": "broken"},
        "not a hop",
    ]
    source_api.answer_next(200, {"owner": "auth0|alice", "contacts": [], "via": {}, "trace": garbage})
    assert logged_in.post("/call", endpoint="contacts").status_code == 200
    text = inspector(logged_in)
    assert "No answer: broken" in text


def test_after_a_step_up_the_challenged_call_and_the_login_again_are_shown(logged_in, source_api):
    challenge = (
        'Bearer realm="https://source-api.example.com", error="insufficient_user_authentication", '
        'error_description="A stronger login is required", acr_values="urn:mock:mfa"'
    )
    source_api.answer_next(401, {"error": "insufficient_user_authentication"}, {"WWW-Authenticate": challenge})
    sent = logged_in.post("/call", endpoint="contacts")
    logged_in.callback(logged_in.authorize(sent.headers["Location"]))
    assert logged_in.client.get("/call/after-step-up").status_code == 200

    page = logged_in.client.get("/inspector")
    assert page.status_code == 200
    assert 'id="step-up"' in page.text
    assert "insufficient_user_authentication" in page.text
    assert "acr_values=&#34;urn:mock:mfa&#34;" in page.text or 'acr_values="urn:mock:mfa"' in page.text
    records, key = kept(logged_in)
    assert set(records.get(key)) == {"step_up", "login", "call"}
    assert records.get(key)["step_up"]["status"] == 302


def test_an_ordinary_login_drops_the_last_call(logged_in, source_api):
    logged_in.post("/call", endpoint="contacts")
    logged_in.log_in()
    records, key = kept(logged_in)
    assert set(records.get(key)) == {"login"}
