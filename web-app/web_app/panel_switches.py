"""The switches of the "break it" panel: what each reads in the tenant, what it changes
through the Management API, and which troubleshooting case the next call then shows.

Each switch has a state read from one ``Tenant`` snapshot and a few actions
(``break``/``mend``, or the values of a setting). "Normal" is the tenant file's value
(mock-idp/tenant.yaml), so "Restore everything" and mending a switch agree.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from .management_client import ManagementClient
from .settings import Settings

SOURCE_API, TARGET_API = "source-api", "target-api"  # the APIs' ids in the Management API
PAIRING = f"{SOURCE_API}:{TARGET_API}"
PAIRING_SCOPE = "read:contacts"
SAMPLE_RULE = "add-on-behalf-of-claims"
RULE_NAMESPACE = "https://obo.example.com/"
DEFAULT_LIFETIME = 86400  # the tenant file's token_lifetime of both APIs
SHORT_TARGET_LIFETIME = 75  # the Source API renews 60 s before expiry: 15 s of cache hits
SHORT_SOURCE_LIFETIME = 60
STEP_UP_ACR = "urn:mock:mfa"  # the demo tenant's second factor (mock-idp's authn_context.py)


@dataclass(frozen=True)
class Tenant:
    """What the panel reads of the tenant, once per page."""

    clients: dict[str, dict]
    apis: dict[str, dict]
    pairings: dict[str, dict]
    settings: dict
    rules: list[dict]
    keys: list[dict]

    @classmethod
    def read(cls, management: ManagementClient) -> Tenant:
        return cls(
            clients={c["client_id"]: c for c in management.get("/clients")},
            apis={a["id"]: a for a in management.get("/resource-servers")},
            pairings={p["id"]: p for p in management.get("/api-pairings")},
            settings=management.get("/tenants/settings"),
            rules=management.get("/rules"),
            keys=management.get("/keys/signing"),
        )

    def api(self, api_id: str) -> dict:
        return self.apis.get(api_id, {})

    @property
    def source_client_id(self) -> str:
        """The Source API's own client: the one its Token Exchange Settings name."""
        return self.api(SOURCE_API).get("token_exchange", {}).get("client_id") or SOURCE_API

    @property
    def sample_rule(self) -> dict | None:
        return next((r for r in self.rules if r["name"] == SAMPLE_RULE), self.rules[0] if self.rules else None)


@dataclass(frozen=True)
class Action:
    label: str
    run: Callable[[ManagementClient, Tenant, Settings], None]
    mends: bool = False  # puts the tenant file's value back


@dataclass(frozen=True)
class Switch:
    """One switch, declared once: the panel shows it, docs/web-app.md's table is made from
    it (``docs_table``), and the panel's tests are checked against ``SWITCHES``."""

    name: str  # the id of the switch in forms and on the page (``switch-<name>``)
    title: str
    case: str | None  # the troubleshooting case the change produces, e.g. "T16"
    effect: str  # what the next call shows
    state: Callable[[Tenant, Settings], str]
    broken: Callable[[Tenant, Settings], bool]
    actions: dict[str, Action]
    change: str  # how it is flipped and put back through the Management API (Markdown)

    @property
    def link(self) -> str | None:
        return f"/troubleshooting#{self.case.lower()}" if self.case else None


# -- the changes -------------------------------------------------------------------------


def _api_patch(api_id: str, **change):
    return lambda management, tenant, settings: management.patch(f"/resource-servers/{api_id}", change)


def _exchange(enabled: bool):
    def run(management, tenant, settings):
        body = {"token_exchange": {"enabled": enabled, "client_id": tenant.source_client_id}}
        management.patch(f"/resource-servers/{SOURCE_API}", body)

    return run


def _delete_pairing(management, tenant, settings):
    management.delete(f"/api-pairings/{PAIRING}")


def _create_pairing(management, tenant, settings):
    management.post("/api-pairings", {"source": SOURCE_API, "target": TARGET_API, "scopes": [PAIRING_SCOPE]})


def _pairing_scopes(with_scope: bool):
    def run(management, tenant, settings):
        scopes = [s for s in tenant.pairings.get(PAIRING, {}).get("scopes", []) if s != PAIRING_SCOPE]
        management.patch(f"/api-pairings/{PAIRING}", {"scopes": ([PAIRING_SCOPE] if with_scope else []) + scopes})

    return run


def _grant(client: Callable[[Tenant, Settings], str], grant: str, present: bool):
    def run(management, tenant, settings):
        client_id = client(tenant, settings)
        kept = [g for g in tenant.clients.get(client_id, {}).get("grant_types", []) if g != grant]
        management.patch(f"/clients/{client_id}", {"grant_types": kept + ([grant] if present else [])})

    return run


def _web_app(tenant, settings) -> str:
    return settings.client_id


def _source_client(tenant, settings) -> str:
    return tenant.source_client_id


def _has_grant(client, grant: str):
    return lambda tenant, settings: grant in tenant.clients.get(client(tenant, settings), {}).get("grant_types", [])


def _wrong_callback(settings) -> str:
    return settings.callback_url + "/"  # a trailing slash is another URL


def _callbacks(listed: bool):
    def run(management, tenant, settings):
        ours, wrong = settings.callback_url, _wrong_callback(settings)
        others = [c for c in tenant.clients.get(settings.client_id, {}).get("callbacks", []) if c not in (ours, wrong)]
        management.patch(f"/clients/{settings.client_id}", {"callbacks": [ours if listed else wrong, *others]})

    return run


def _rule(enabled: bool):
    def run(management, tenant, settings):
        if tenant.sample_rule is None:
            return
        management.patch(f"/rules/{tenant.sample_rule['name']}", {"enabled": enabled})

    return run


def _rotate(management, tenant, settings):
    management.post("/keys/signing/rotate")


def _clock(skew: int):
    return lambda management, tenant, settings: management.patch("/tenants/settings", {"clock_skew": skew})


def _change_source_secret(management, tenant, settings):
    # A value nobody has: the Source API keeps sending the one in its environment.
    management.patch(f"/clients/{tenant.source_client_id}", {"client_secret": "changed-" + secrets.token_urlsafe(18)})


# -- the states --------------------------------------------------------------------------


def _exchange_policy(policy: str):
    return lambda management, tenant, settings: management.patch("/tenants/settings", {"token_exchange_policy": policy})


def _on_off(value: bool, on: str = "on", off: str = "off") -> str:
    return on if value else off


def _key_state(tenant, settings) -> str:
    current = next((k["kid"] for k in tenant.keys if k["current"]), "none")
    published = sum(1 for k in tenant.keys if k["current"] or k["previous"])
    retired = sum(1 for k in tenant.keys if k["revoked"])
    return f"current kid {current[:12]}…; {published} published, {retired} retired"


def _rotated(tenant, settings) -> bool:
    """A rotation the keys reset can undo: an older key than the current one is still
    published. (Retired keys stay retired: a reset never brings one back.)"""
    current = next((k for k in tenant.keys if k["current"]), None)
    return current is not None and any(
        k["previous"] and k["current_since"] < current["current_since"] for k in tenant.keys
    )


BREAK, MEND = "break", "mend"


def _step_up_state(policy: dict) -> str:
    if not policy.get("scopes"):
        return "none"
    needs = [f"acr {' or '.join(policy['acr_values'])}"] if policy.get("acr_values") else []
    needs += [f"a login at most {policy['max_age']} s old"] if policy.get("max_age") is not None else []
    return f"{' '.join(policy['scopes'])} needs {' and '.join(needs) or 'nothing more'}"


def _toggle(broken_label: str, run_break, run_mend, mend_label: str = "Put it back") -> dict[str, Action]:
    return {BREAK: Action(broken_label, run_break), MEND: Action(mend_label, run_mend, mends=True)}


def _refresh_grant(name: str, title: str, client, client_id: str, effect: str) -> Switch:
    """``refresh_token`` taken from (and given back to) one client's grant types: T06."""
    listed = _has_grant(client, "refresh_token")
    return Switch(
        name,
        title,
        "T06",
        effect,
        lambda t, s: _on_off(listed(t, s), "listed", "not listed"),
        lambda t, s: not listed(t, s),
        _toggle(
            "Remove it",
            _grant(client, "refresh_token", False),
            _grant(client, "refresh_token", True),
            "Add it back",
        ),
        f"`PATCH /clients/{client_id}` `grant_types` without `refresh_token`; **Add it back** lists it again",
    )


SWITCHES: list[Switch] = [
    Switch(
        "exchange",
        "Token exchange on the Source API",
        "T16",
        "The next call's exchange is refused with 403 unauthorized_client (Grant type "
        "'urn:ietf:params:oauth:grant-type:token-exchange' not allowed for the client): the Source API "
        'answers 502 (step 3) and the web app shows "The request was refused upstream". '
        "Tenant log: failed_on_behalf_of_token_exchange.",
        lambda t, s: _on_off(t.api(SOURCE_API).get("token_exchange", {}).get("enabled", False)),
        lambda t, s: not t.api(SOURCE_API).get("token_exchange", {}).get("enabled", False),
        _toggle("Turn it off", _exchange(False), _exchange(True), "Turn it on"),
        f"`PATCH /resource-servers/{SOURCE_API}` `token_exchange.enabled: false`; **Turn it on** sets `true`",
    ),
    Switch(
        "pairing",
        "The Source API / Target API pairing",
        "T18",
        "The next exchange is refused with 403 access_denied (Client ... is not paired with the Target API: "
        'add a Source API/Target API pairing); the web app shows "The request was refused upstream" '
        "(HTTP 502, step 3). Tenant log: failed_on_behalf_of_token_exchange.",
        lambda t, s: _on_off(PAIRING in t.pairings, f"paired ({PAIRING})", "no pairing"),
        lambda t, s: PAIRING not in t.pairings,
        _toggle("Delete it", _delete_pairing, _create_pairing, f"Create it again (with {PAIRING_SCOPE})"),
        f"`DELETE /api-pairings/{PAIRING}`; **Create it again** posts it back with `{PAIRING_SCOPE}`",
    ),
    Switch(
        "pairing-scopes",
        "The pairing's scopes",
        "T21",
        f"The next exchange asks for {PAIRING_SCOPE}, which the pairing no longer selects: 400 invalid_scope "
        f"(Scope not selected in the API pairing: {PAIRING_SCOPE}), HTTP 502 in the web app. "
        "Tenant log: failed_on_behalf_of_token_exchange. Needs the pairing (switch above).",
        lambda t, s: (
            (" ".join(t.pairings[PAIRING]["scopes"]) or "none selected") if PAIRING in t.pairings else "no pairing"
        ),
        lambda t, s: PAIRING in t.pairings and PAIRING_SCOPE not in t.pairings[PAIRING]["scopes"],
        _toggle(f"Remove {PAIRING_SCOPE}", _pairing_scopes(False), _pairing_scopes(True), f"Select {PAIRING_SCOPE}"),
        f"`PATCH /api-pairings/{PAIRING}` without `{PAIRING_SCOPE}`; **Select {PAIRING_SCOPE}** adds it back",
    ),
    Switch(
        "skip-consent",
        "Skip consent on the Target API",
        "T22",
        "Nobody is there to consent during an exchange: 403 consent_required (The target API does not allow "
        "skipping user consent), HTTP 502 in the web app. Tenant log: failed_on_behalf_of_token_exchange.",
        lambda t, s: _on_off(t.api(TARGET_API).get("skip_consent_for_verifiable_first_party_clients", False)),
        lambda t, s: not t.api(TARGET_API).get("skip_consent_for_verifiable_first_party_clients", False),
        _toggle(
            "Turn it off",
            _api_patch(TARGET_API, skip_consent_for_verifiable_first_party_clients=False),
            _api_patch(TARGET_API, skip_consent_for_verifiable_first_party_clients=True),
            "Turn it on",
        ),
        f"`PATCH /resource-servers/{TARGET_API}` `skip_consent_for_verifiable_first_party_clients: false`; "
        "**Turn it on** sets `true`",
    ),
    Switch(
        "offline-access",
        "Offline access on the Target API",
        "T07",
        "No error: the exchange succeeds without a Target API refresh token. Look at the call's answer: "
        '"Target API refresh token: no" and a scope without offline_access; in the tenant log, the '
        "success_on_behalf_of_token_exchange entry has details.issued.refresh_token false.",
        lambda t, s: _on_off(t.api(TARGET_API).get("allow_offline_access", False)),
        lambda t, s: not t.api(TARGET_API).get("allow_offline_access", False),
        _toggle(
            "Turn it off",
            _api_patch(TARGET_API, allow_offline_access=False),
            _api_patch(TARGET_API, allow_offline_access=True),
            "Turn it on",
        ),
        f"`PATCH /resource-servers/{TARGET_API}` `allow_offline_access: false`; **Turn it on** sets `true`",
    ),
    _refresh_grant(
        "web-app-refresh",
        "The web app's grant types: refresh_token",
        _web_app,
        "web-app",
        "The next refresh (Refresh tokens now on the home page, or the one after an expired token) is refused: "
        "403 unauthorized_client (Grant type 'refresh_token' not allowed for the client.); the web app shows "
        '"The identity provider refused to refresh the tokens" (HTTP 502). Tenant log: fertft.',
    ),
    _refresh_grant(
        "source-api-refresh",
        "The Source API client's grant types: refresh_token",
        _source_client,
        "source-api",
        "Token exchange is not a grant type of a client in this tenant (the API's Token Exchange setting, the "
        "first switch, decides), so the exchange still succeeds, but without a Target API refresh token: "
        '"Target API refresh token: no". A renewal of a Target API token with a refresh token is refused '
        "(unauthorized_client, tenant log fertft) and the Source API exchanges again instead.",
    ),
    Switch(
        "callback",
        "The web app's Allowed Callback URL",
        "T01",
        "Replaced by the same URL with a trailing slash. The next login (try it in a private window, so this "
        'session stays logged in to put it back) stops at the identity provider: "Something is wrong with '
        'this login request", invalid_request (Redirect URI ... is not supported by client.), and the browser '
        "never comes back. Tenant log: f, with details.redirect_uri.",
        lambda t, s: _on_off(
            s.callback_url in t.clients.get(s.client_id, {}).get("callbacks", []), "listed", "not listed (wrong URL)"
        ),
        lambda t, s: s.callback_url not in t.clients.get(s.client_id, {}).get("callbacks", []),
        _toggle("Make it wrong", _callbacks(False), _callbacks(True), "Put it right"),
        "`PATCH /clients/web-app` `callbacks`: the callback URL replaced by the same URL with a trailing slash; "
        "**Put it right** puts it back",
    ),
    Switch(
        "rule",
        "The sample rule",
        None,
        f"The call still succeeds, but the exchanged Target API token no longer carries the {RULE_NAMESPACE} "
        "claims (exchanged_by, source_api): see the token in the flow inspector.",
        lambda t, s: (
            (_on_off(t.sample_rule["enabled"], "enabled", "disabled") + f" ({t.sample_rule['name']})")
            if t.sample_rule
            else "no rule in the tenant"
        ),
        lambda t, s: bool(t.sample_rule and not t.sample_rule["enabled"]),
        _toggle("Disable it", _rule(False), _rule(True), "Enable it"),
        f"`PATCH /rules/{SAMPLE_RULE}` `enabled: false`; **Enable it** sets `true`",
    ),
    Switch(
        "rotate",
        "Rotate the signing key",
        "T14",
        "Once: nothing visible, the APIs fetch the new key. Twice in a row: the key that signed your current "
        "access token is retired, the Source API (or the identity provider, for the exchange) refuses it with "
        "401 invalid_token, and the app refreshes once: the new token, signed with the current key, works. "
        "The panel's own Management API token goes stale too and it fetches a new one.",
        _key_state,
        _rotated,
        {"rotate": Action("Rotate now", _rotate)},
        "`POST /keys/signing/rotate`, an action: **Restore everything** makes the first key sign again",
    ),
    Switch(
        "target-lifetime",
        f"A short Target API token lifetime ({SHORT_TARGET_LIFETIME} s)",
        None,
        f"The Source API renews its Target API token 60 s before it expires: the next call exchanges, calls "
        f"within {SHORT_TARGET_LIFETIME - 60} s use the cache, and the call after that renews it with the "
        'Target API refresh token (step 5: "Target API token: refresh"; tenant log sertft for the Source '
        "API's client).",
        lambda t, s: f"{t.api(TARGET_API).get('token_lifetime')} s",
        lambda t, s: t.api(TARGET_API).get("token_lifetime") != DEFAULT_LIFETIME,
        _toggle(
            f"Make it {SHORT_TARGET_LIFETIME} s",
            _api_patch(TARGET_API, token_lifetime=SHORT_TARGET_LIFETIME),
            _api_patch(TARGET_API, token_lifetime=DEFAULT_LIFETIME),
            f"Back to {DEFAULT_LIFETIME} s",
        ),
        f"`PATCH /resource-servers/{TARGET_API}` `token_lifetime: {SHORT_TARGET_LIFETIME}`; "
        f"**Back to {DEFAULT_LIFETIME} s** puts the tenant file's value back",
    ),
    Switch(
        "source-lifetime",
        f"A short Source API token lifetime ({SHORT_SOURCE_LIFETIME} s)",
        "T12",
        f"Tokens of new logins and refreshes live {SHORT_SOURCE_LIFETIME} s. Log in again; "
        f"{SHORT_SOURCE_LIFETIME + 30} s later (plus the APIs' 30 s leeway) the next call is refused as "
        'expired, and the app refreshes once and calls again ("Your access token had expired. The app '
        'refreshed it once"). With the clock 10 minutes behind (below) the token of the next login arrives '
        "expired: no waiting.",
        lambda t, s: f"{t.api(SOURCE_API).get('token_lifetime')} s",
        lambda t, s: t.api(SOURCE_API).get("token_lifetime") != DEFAULT_LIFETIME,
        _toggle(
            f"Make it {SHORT_SOURCE_LIFETIME} s",
            _api_patch(SOURCE_API, token_lifetime=SHORT_SOURCE_LIFETIME),
            _api_patch(SOURCE_API, token_lifetime=DEFAULT_LIFETIME),
            f"Back to {DEFAULT_LIFETIME} s",
        ),
        f"`PATCH /resource-servers/{SOURCE_API}` `token_lifetime: {SHORT_SOURCE_LIFETIME}`; "
        f"**Back to {DEFAULT_LIFETIME} s** puts the tenant file's value back",
    ),
    Switch(
        "clock",
        "Clock skew of the identity provider",
        "T15",
        '45 s ahead: new tokens are "from the future" beyond the 30 s leeway. The next call\'s exchanged '
        "token is refused by the Target API (502, The access token was issued in the future); the next "
        'login is refused too ("The ID token was rejected", invalid_claim), and so is the next refresh. '
        "10 minutes behind: "
        "with the short Source API lifetime above, new access tokens are already expired (T12). Management "
        "API tokens are never skewed.",
        lambda t, s: f"{t.settings.get('clock_skew', 0)} s",
        lambda t, s: t.settings.get("clock_skew", 0) != 0,
        {
            "ahead": Action("45 s ahead", _clock(45)),
            "behind": Action("10 minutes behind", _clock(-600)),
            MEND: Action("Back to 0", _clock(0), mends=True),
        },
        "`PATCH /tenants/settings` `clock_skew: 45` or `-600`; **Back to 0**",
    ),
    Switch(
        "exchange-policy",
        "The tenant's token exchange policy",
        "T38",
        "bounded: an exchange issues no scope, offline access or lifetime beyond the user's token. With the "
        "web app's usual login nothing changes; log in with WEB_APP_SCOPE without offline_access and the next "
        "call's exchange is refused with 400 invalid_scope (Scope not granted at login: offline_access), "
        "HTTP 502 in the web app. Tenant log: failed_on_behalf_of_token_exchange with "
        "details.reason bounded_policy.",
        lambda t, s: t.settings.get("token_exchange_policy", "legacy"),
        lambda t, s: t.settings.get("token_exchange_policy", "legacy") != "legacy",
        {
            "bounded": Action("bounded", _exchange_policy("bounded")),
            MEND: Action("legacy", _exchange_policy("legacy"), mends=True),
        },
        "`PATCH /tenants/settings` `token_exchange_policy: bounded`; **legacy** puts it back",
    ),
    Switch(
        "step-up",
        "Step-up for the Target API's read:contacts",
        "T45",
        f"The Target API's step-up policy asks a login of {STEP_UP_ACR} for {PAIRING_SCOPE}: the next exchange "
        f"is refused with 400 insufficient_user_authentication (A stronger login is required (acr: {STEP_UP_ACR})), "
        "the Source API answers 401 with the RFC 9470 challenge, and the web app sends you to log in again with "
        f"acr_values={STEP_UP_ACR}: the identity provider asks a one-time code, then the call is sent again, "
        "once, and succeeds. Tenant log: failed_on_behalf_of_token_exchange with details.reason "
        "step_up_required, then gd_auth_succeed.",
        lambda t, s: _step_up_state(t.api(TARGET_API).get("step_up") or {}),
        lambda t, s: bool((t.api(TARGET_API).get("step_up") or {}).get("scopes")),
        _toggle(
            f"Require {STEP_UP_ACR}",
            _api_patch(TARGET_API, step_up={"scopes": [PAIRING_SCOPE], "acr_values": [STEP_UP_ACR]}),
            _api_patch(TARGET_API, step_up={}),
            "No step-up",
        ),
        f"`PATCH /resource-servers/{TARGET_API}` `step_up: {{scopes: [{PAIRING_SCOPE}], acr_values: "
        f"[{STEP_UP_ACR}]}}`; **No step-up** sets `step_up: {{}}`",
    ),
    Switch(
        "source-secret",
        "The Source API client's secret",
        "T17",
        "Changed to a value nobody has: the Source API still sends the one in its environment, so the next "
        "exchange is refused with 401 access_denied (Unauthorized), HTTP 502 in the web app. Tenant log: "
        "failed_on_behalf_of_token_exchange. The secret cannot be read back: Restore everything puts it back.",
        lambda t, s: "cannot be read back",
        lambda t, s: False,
        {"change": Action("Change it", _change_source_secret)},
        "`PATCH /clients/source-api` `client_secret`: a random value; only **Restore everything** puts it "
        "back (a secret cannot be read)",
    ),
]
BY_NAME = {switch.name: switch for switch in SWITCHES}


# -- the docs' table ---------------------------------------------------------------------

DOCS_TABLE_START = "<!-- switches: made from web-app/web_app/panel_switches.py (python -m web_app.panel_switches) -->"
DOCS_TABLE_END = "<!-- /switches -->"


def docs_table() -> str:
    """docs/web-app.md's table of switches, between its two markers: a test keeps the
    docs equal to it, so a switch cannot be added or changed without its docs."""
    rows = [
        DOCS_TABLE_START,
        "| switch | case | how it is flipped and put back | what the next call shows |",
        "|---|---|---|---|",
    ]
    for switch in SWITCHES:
        case = f"[{switch.case}](troubleshooting.md#{switch.case.lower()})" if switch.case else "none"
        rows.append(f"| {switch.title} | {case} | {switch.change} | {switch.effect} |")
    rows.append(DOCS_TABLE_END)
    return "\n".join(rows)


if __name__ == "__main__":
    print(docs_table())
