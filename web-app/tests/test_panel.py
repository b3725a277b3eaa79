"""The "break it" panel against the fake provider, its Management API and the fake Source API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape

from web_app import create_app
from web_app.panel_switches import DOCS_TABLE_END, DOCS_TABLE_START, SWITCHES, docs_table

from .browser import Browser
from .fakes import FakeManagementApi

DOCS = Path(__file__).resolve().parents[2] / "docs" / "web-app.md"


@pytest.fixture
def management(idp):
    return FakeManagementApi(idp)


@pytest.fixture
def demo_app(settings, idp, source_api, management):
    app = create_app(settings.model_copy(update={"demo_tools": "on"}))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def operator(demo_app, idp):
    """A logged-in user of the panel."""
    browser = Browser(demo_app.test_client(), idp)
    browser.log_in()
    return browser


def press(browser: Browser, path: str, headers=None, **data):
    token = browser.csrf_token("/panel")
    return browser.client.post(path, data={"csrf_token": token, **data}, headers=headers or {})


def changes(management) -> list[tuple[str, str, dict | None]]:
    return [call for call in management.calls if call[0] != "GET"]


def test_with_the_demo_tools_off_the_panel_is_404_and_not_linked(logged_in):
    assert logged_in.client.get("/panel").status_code == 404
    assert logged_in.client.post("/panel/switch", data={"csrf_token": logged_in.csrf_token()}).status_code == 404
    assert "/panel" not in logged_in.client.get("/").text


def test_the_panel_needs_a_login_and_is_linked_once_logged_in(demo_app, operator):
    assert demo_app.test_client().get("/panel").status_code == 401
    assert 'href="/panel"' in operator.client.get("/").text
    page = operator.client.get("/panel")
    assert page.status_code == 200
    assert "Demo only" in page.text
    assert "for everybody" in page.text
    assert "DELETE /operator/target-token-cache" in page.text


def test_the_panel_shows_each_switch_state_from_the_management_api(operator, management):
    management.tenant["resource-servers"]["target-api"]["allow_offline_access"] = False
    page = operator.client.get("/panel").text
    section = re.search(r'id="switch-offline-access".*?</li>', page, re.S).group(0)
    assert "off" in section
    assert "Turn it on" in section
    assert "/troubleshooting#t07" in section
    section = re.search(r'id="switch-exchange".*?</li>', page, re.S).group(0)
    assert ">on<" in section
    assert "Turn it off" in section
    assert "/troubleshooting#t16" in section


def test_a_switch_changes_the_tenant_and_empties_the_source_apis_cache(operator, management, source_api):
    page = press(operator, "/panel/switch", switch="exchange", action="break")
    assert page.status_code == 200, page.text
    assert changes(management) == [
        ("PATCH", "/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}})
    ]
    assert source_api.forgotten == 1
    assert "The Source API forgot its 1 cached Target API token(s)" in page.text
    assert "Turn it on" in re.search(r'id="switch-exchange".*?</li>', page.text, re.S).group(0)

    press(operator, "/panel/switch", switch="exchange", action="mend")
    assert management.tenant["resource-servers"]["source-api"]["token_exchange"]["enabled"] is True
    assert source_api.forgotten == 2


# What each action of each switch sends to the Management API, from the tenant file's state.
# Every action of every switch of the catalogue is here (checked below), so a new switch
# needs its line.
CHANGES = {
    ("exchange", "break"): (
        "PATCH", "/resource-servers/source-api", {"token_exchange": {"enabled": False, "client_id": "source-api"}}
    ),
    ("exchange", "mend"): (
        "PATCH", "/resource-servers/source-api", {"token_exchange": {"enabled": True, "client_id": "source-api"}}
    ),
    ("pairing", "break"): ("DELETE", "/api-pairings/source-api:target-api", None),
    ("pairing", "mend"): (
        "POST", "/api-pairings", {"source": "source-api", "target": "target-api", "scopes": ["read:contacts"]}
    ),
    ("pairing-scopes", "break"): ("PATCH", "/api-pairings/source-api:target-api", {"scopes": []}),
    ("pairing-scopes", "mend"): ("PATCH", "/api-pairings/source-api:target-api", {"scopes": ["read:contacts"]}),
    ("skip-consent", "break"): (
        "PATCH", "/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": False}
    ),
    ("skip-consent", "mend"): (
        "PATCH", "/resource-servers/target-api", {"skip_consent_for_verifiable_first_party_clients": True}
    ),
    ("offline-access", "break"): ("PATCH", "/resource-servers/target-api", {"allow_offline_access": False}),
    ("offline-access", "mend"): ("PATCH", "/resource-servers/target-api", {"allow_offline_access": True}),
    ("web-app-refresh", "break"): ("PATCH", "/clients/web-app", {"grant_types": ["authorization_code"]}),
    ("web-app-refresh", "mend"): (
        "PATCH", "/clients/web-app", {"grant_types": ["authorization_code", "refresh_token"]}
    ),
    ("source-api-refresh", "break"): ("PATCH", "/clients/source-api", {"grant_types": []}),
    ("source-api-refresh", "mend"): ("PATCH", "/clients/source-api", {"grant_types": ["refresh_token"]}),
    ("callback", "break"): ("PATCH", "/clients/web-app", {"callbacks": ["http://localhost:3000/callback/"]}),
    ("callback", "mend"): ("PATCH", "/clients/web-app", {"callbacks": ["http://localhost:3000/callback"]}),
    ("rule", "break"): ("PATCH", "/rules/add-on-behalf-of-claims", {"enabled": False}),
    ("rule", "mend"): ("PATCH", "/rules/add-on-behalf-of-claims", {"enabled": True}),
    ("rotate", "rotate"): ("POST", "/keys/signing/rotate", {}),
    ("target-lifetime", "break"): ("PATCH", "/resource-servers/target-api", {"token_lifetime": 75}),
    ("target-lifetime", "mend"): ("PATCH", "/resource-servers/target-api", {"token_lifetime": 86400}),
    ("source-lifetime", "break"): ("PATCH", "/resource-servers/source-api", {"token_lifetime": 60}),
    ("source-lifetime", "mend"): ("PATCH", "/resource-servers/source-api", {"token_lifetime": 86400}),
    ("clock", "ahead"): ("PATCH", "/tenants/settings", {"clock_skew": 45}),
    ("clock", "behind"): ("PATCH", "/tenants/settings", {"clock_skew": -600}),
    ("clock", "mend"): ("PATCH", "/tenants/settings", {"clock_skew": 0}),
    ("exchange-policy", "bounded"): ("PATCH", "/tenants/settings", {"token_exchange_policy": "bounded"}),
    ("exchange-policy", "mend"): ("PATCH", "/tenants/settings", {"token_exchange_policy": "legacy"}),
    ("step-up", "break"): (
        "PATCH", "/resource-servers/target-api",
        {"step_up": {"scopes": ["read:contacts"], "acr_values": ["urn:mock:mfa"]}},
    ),
    ("step-up", "mend"): ("PATCH", "/resource-servers/target-api", {"step_up": {}}),
    ("source-secret", "change"): ("PATCH", "/clients/source-api", "a new secret"),
}  # fmt: skip


def test_every_action_of_every_switch_has_its_test():
    declared = {(switch.name, action) for switch in SWITCHES for action in switch.actions}
    assert declared == set(CHANGES)


@pytest.mark.parametrize(("switch", "action"), [key for key in CHANGES if key != ("source-secret", "change")])
def test_each_switch_makes_its_change(operator, management, switch, action):
    assert press(operator, "/panel/switch", switch=switch, action=action).status_code == 200
    assert changes(management) == [CHANGES[switch, action]]


def test_the_docs_table_of_switches_is_the_catalogues():
    docs = DOCS.read_text(encoding="utf-8")
    assert DOCS_TABLE_START in docs, f"{DOCS} has lost its table of switches"
    table = docs[docs.index(DOCS_TABLE_START) : docs.index(DOCS_TABLE_END) + len(DOCS_TABLE_END)]
    assert table == docs_table(), (
        f"{DOCS}: the table of switches differs from the panel's; "
        "replace it with the output of `cd web-app && ../.venv/bin/python -m web_app.panel_switches`"
    )


def test_the_panel_shows_every_switch_of_the_catalogue(operator):
    page = operator.client.get("/panel").text
    shown = re.findall(r'<li id="switch-([a-z-]+)"', page)
    assert shown == [switch.name for switch in SWITCHES]
    for switch in SWITCHES:
        section = re.search(rf'id="switch-{switch.name}".*?</li>', page, re.S).group(0)
        assert str(escape(switch.title)) in section
        assert str(escape(switch.effect)) in section
        if switch.case:
            assert f'href="/troubleshooting#{switch.case.lower()}"' in section


def test_a_changed_secret_is_one_nobody_has(operator, management):
    press(operator, "/panel/switch", switch="source-secret", action="change")
    [(method, path, body)] = changes(management)
    assert (method, path) == ("PATCH", "/clients/source-api")
    assert body["client_secret"].startswith("changed-")
    assert len(body["client_secret"]) > 20


def test_every_switch_needs_a_csrf_token(operator, management, source_api):
    for path in ("/panel/switch", "/panel/call", "/panel/restore"):
        refused = operator.client.post(path, data={"switch": "exchange", "action": "break"})
        assert refused.status_code == 400
        assert "The form was refused" in refused.text
    assert changes(management) == []
    assert source_api.forgotten == 0


@pytest.mark.parametrize("data", [{"switch": "nope", "action": "break"}, {"switch": "exchange", "action": "x"}, {}])
def test_an_unknown_switch_is_a_400_page(operator, management, data):
    page = press(operator, "/panel/switch", **data)
    assert page.status_code == 400
    assert "did not understand" in page.text
    assert changes(management) == []


def test_a_refused_change_is_a_message_not_a_500(operator, management, source_api):
    operator.client.get("/panel")  # the token is held already
    management.fail_next(400, {"statusCode": 400, "errorCode": "invalid_body", "message": "Payload validation error"})
    page = press(operator, "/panel/switch", switch="clock", action="ahead")
    assert page.status_code == 502
    assert "not changed" in page.text
    assert "HTTP 400 invalid_body: Payload validation error" in page.text
    assert source_api.forgotten == 0


def test_a_refused_management_token_is_a_message_not_a_500(settings, idp, source_api, management):
    wrong = settings.model_copy(update={"demo_tools": "on", "management_client_id": "someone-else"})
    browser = Browser(create_app(wrong).test_client(), idp)
    browser.log_in()
    page = browser.client.get("/panel")
    assert page.status_code == 502
    assert "refused a Management API token: access_denied (Unauthorized)" in page.text
    assert "WEB_APP_MANAGEMENT_CLIENT_ID" in page.text


def test_an_unreachable_management_api_is_a_message_not_a_500(operator, network):
    network.down.add("http://idp-internal.test")
    page = operator.client.get("/panel")
    assert page.status_code == 502
    assert "cannot be reached" in page.text
    network.slow.add("http://idp-internal.test")
    assert operator.client.get("/panel").status_code == 502


def test_a_stale_management_token_is_replaced_once(operator, management, network):
    operator.client.get("/panel")
    management.stale()  # two key rotations later
    assert operator.client.get("/panel").status_code == 200
    token_requests = [r for r in network.calls_to_path("/oauth/token") if b"client_credentials" in (r.body or b"")]
    assert len(token_requests) == 2
    assert all(r.timeout == (3.05, 10) for r in network.calls if "/api/v2/" in r.url)


def test_restore_resets_the_tenant_and_the_keys_with_a_fresh_token(operator, management, source_api):
    press(operator, "/panel/switch", switch="pairing", action="break")
    rotated = press(operator, "/panel/switch", switch="rotate", action="rotate")
    assert 'id="switch-rotate" class="switch broken' in rotated.text
    management.calls.clear()

    page = press(operator, "/panel/restore")

    assert page.status_code == 200, page.text
    assert "Everything is restored" in page.text
    assert [c[:2] for c in changes(management)] == [
        ("POST", "/tenants/settings/reset"),
        ("POST", "/keys/signing/reset"),
    ]
    assert "source-api:target-api" in management.tenant["api-pairings"]
    assert management.tenant["keys"][-1]["current"]
    assert 'class="switch broken' not in page.text  # every switch reads as the tenant file has it
    assert source_api.forgotten == 3


def test_the_call_shows_the_failure_its_case_and_only_this_requests_log_entries(operator, management, source_api):
    description = "Grant type 'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client."
    source_api.answer_next(
        502,
        {"title": "The request was refused upstream", "status": 502, "step": 3, "upstream": "identity-provider",
         "upstream_error": "unauthorized_client", "upstream_error_description": description, "detail": "x"},
    )  # fmt: skip
    management.logs = [
        {"type": "failed_on_behalf_of_token_exchange", "description": description, "client_id": "source-api",
         "details": {"request_id": "panel-call-1", "grant_type": "token-exchange"}},
        {"type": "seacft", "description": "someone else's login", "client_id": "web-app",
         "details": {"request_id": "another-request"}},
    ]  # fmt: skip

    page = press(operator, "/panel/call", headers={"X-Request-Id": "panel-call-1"})

    assert page.status_code == 200, page.text
    assert source_api.calls[-1].request_id == "panel-call-1"  # sent downstream
    text = page.text
    assert "HTTP 502" in text
    assert "The request was refused upstream" in text
    assert "unauthorized_client" in text
    assert 'href="/troubleshooting#t16"' in text
    assert "failed_on_behalf_of_token_exchange" in text
    assert "someone else&#39;s login" not in text


def test_a_call_refused_for_a_retired_key_is_refreshed_once_and_links_to_T14(operator, source_api):
    challenge = 'Bearer error="invalid_token", error_description="The access token is signed with an unknown key"'
    source_api.answer_next(401, {"error": "invalid_token"}, {"WWW-Authenticate": challenge})
    page = press(operator, "/panel/call")
    assert page.status_code == 200, page.text
    assert "The access token is signed with an unknown key" in page.text
    assert "refreshed it once" in page.text
    assert 'href="/troubleshooting#t14"' in page.text
    assert "2 contact(s):" in page.text
    assert "Carol Chen, Dan Diaz." in page.text
    assert "None: the identity provider was not involved" in page.text


def test_a_call_shows_no_token(operator, idp):
    page = press(operator, "/panel/call")
    assert not any(token in page.text for token in idp.issued)


def test_the_panels_call_is_the_inspectors_last_call(operator, source_api):
    source_api.answer_next(
        502,
        {"title": "The request was refused upstream", "status": 502, "step": 3, "upstream": "identity-provider",
         "upstream_error": "access_denied", "upstream_error_description": "not paired"},
    )  # fmt: skip
    page = press(operator, "/panel/call")
    assert 'href="/inspector"' in page.text
    assert "See this call hop by hop" in page.text

    inspector = operator.client.get("/inspector")

    assert inspector.status_code == 200
    step_2 = inspector.text.split('id="step-2"', 1)[1].split('id="step-3"', 1)[0]
    assert "Source API call" in step_2
    assert "502" in step_2
