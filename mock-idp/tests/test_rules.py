"""Rules: the tutorial's sample use case, and what a rule may and may not do."""

import pytest

from mock_idp.tenant import TenantError

from .flows import SOURCE_API, Flows, Management

NAMESPACE = "https://obo.example.com/"


def with_rule(make_app, tmp_path, source: str, **rule):
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "custom.py").write_text(source)

    def change(doc):
        doc["rules_folder"] = str(tmp_path / "rules")
        doc["rules"] = [{"name": "custom", "script": "custom.py", **rule}]

    return Flows(make_app(change))


def test_the_shipped_rule_adds_namespaced_claims_to_exchanged_tokens(flows):
    login = flows.login_tokens()
    assert not any(k.startswith(NAMESPACE) for k in flows.claims(login["access_token"]))

    body = flows.exchange(login["access_token"], scope="openid read:contacts").json
    access = flows.claims(body["access_token"])
    assert access[NAMESPACE + "exchanged_by"] == "source-api"
    assert access[NAMESPACE + "source_api"] == SOURCE_API
    assert flows.claims(body["id_token"], typ="JWT")[NAMESPACE + "email"] == "alice@example.com"


def test_a_disabled_rule_does_not_run(flows):
    Management(flows).patch("/rules/add-on-behalf-of-claims", {"enabled": False})
    body = flows.exchange(flows.login_tokens()["access_token"]).json
    assert NAMESPACE + "exchanged_by" not in flows.claims(body["access_token"])


def test_a_claim_without_namespace_is_dropped_and_logged(make_app, tmp_path):
    flows = with_rule(
        make_app,
        tmp_path,
        "def rule(user, context):\n"
        "    context.access_token['department'] = 'sales'\n"
        "    context.access_token['https://example.com/department'] = 'sales'\n",
    )
    body = flows.exchange(flows.login_tokens()["access_token"]).json
    claims = flows.claims(body["access_token"])
    assert "department" not in claims
    assert claims["https://example.com/department"] == "sales"
    warning = flows.logs(type="w")[0]
    assert "department" in warning["description"]
    assert "namespaced" in warning["description"]


def test_a_rule_may_replace_the_access_token_scope(make_app, tmp_path):
    flows = with_rule(
        make_app,
        tmp_path,
        "def rule(user, context):\n"
        "    if context.protocol == 'token_exchange':\n"
        "        context.access_token_scope = ['read:contacts', 'audited']\n",
    )
    body = flows.exchange(flows.login_tokens()["access_token"]).json
    assert body["scope"] == "read:contacts audited"
    assert flows.claims(body["access_token"])["scope"] == "read:contacts audited"


def test_the_protocol_is_passed_to_the_rule(make_app, tmp_path):
    flows = with_rule(
        make_app,
        tmp_path,
        "def rule(user, context):\n    context.access_token['https://example.com/protocol'] = context.protocol\n",
    )
    login = flows.login_tokens()
    assert flows.claims(login["access_token"])["https://example.com/protocol"] == "oidc-basic-profile"
    refreshed = flows.refresh(login["refresh_token"]).json
    assert flows.claims(refreshed["access_token"])["https://example.com/protocol"] == "oauth2-refresh-token"
    exchanged = flows.exchange(login["access_token"]).json
    assert flows.claims(exchanged["access_token"])["https://example.com/protocol"] == "token_exchange"


def test_a_raising_rule_fails_the_request_clearly(make_app, tmp_path):
    flows = with_rule(
        make_app,
        tmp_path,
        "def rule(user, context):\n"
        "    if context.protocol == 'token_exchange':\n"
        "        raise ValueError('contacts are closed on Sundays')\n",
    )
    response = flows.exchange(flows.login_tokens()["access_token"])
    assert response.status_code == 403
    assert response.json == {
        "error": "access_denied",
        "error_description": "Rule custom failed: contacts are closed on Sundays",
    }
    log = flows.last_log()
    assert log["type"] == "failed_on_behalf_of_token_exchange"
    assert log["description"] == "Rule custom failed: contacts are closed on Sundays"


def test_a_rule_file_without_rule_function_fails_the_request_not_the_server(make_app, tmp_path):
    flows = with_rule(make_app, tmp_path, "x = 1\n")
    response = flows.exchange(_login(flows))
    assert response.status_code == 403
    assert "defines no rule" in response.json["error_description"]


def _login(flows):
    # The login itself runs the rule too, so disable it for the login, then enable it.
    api = Management(flows)
    api.patch("/rules/custom", {"enabled": False})
    token = flows.login_tokens()["access_token"]
    api.patch("/rules/custom", {"enabled": True})
    return token


def test_a_missing_rule_script_stops_start_up(make_app):
    def change(doc):
        doc["rules"] = [{"name": "ghost", "script": "ghost.py"}]

    with pytest.raises(TenantError, match=r"rules\.0\.script: ghost\.py not found"):
        make_app(change)


def test_a_rule_failing_a_refresh_leaves_the_refresh_token_usable(make_app, tmp_path):
    flag = tmp_path / "closed"
    flows = with_rule(
        make_app,
        tmp_path,
        "from pathlib import Path\n"
        "def rule(user, context):\n"
        f"    if context.protocol == 'oauth2-refresh-token' and Path({str(flag)!r}).exists():\n"
        "        raise RuntimeError('closed')\n",
    )
    token = flows.login_tokens()["refresh_token"]
    flag.write_text("")
    assert flows.refresh(token).status_code == 403
    flag.unlink()
    assert flows.refresh(token).status_code == 200
