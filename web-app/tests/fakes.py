"""Small stand-ins for the identity provider and the Source API: Flask apps that the
conftest serves on obo_testing's FakeNetwork, so every call the web app makes (its own
session and Authlib's) reaches them by host, or fails as a down or slow service would.
"""

from __future__ import annotations

import secrets
import time
from types import SimpleNamespace
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://idp.test/"
OPERATOR_SECRET = "test-operator-secret"
SOURCE_API_URL = "http://source-api.test"
ALICE = {"sub": "auth0|alice", "name": "Alice Adams", "email": "alice@example.com", "email_verified": True}
CONTACTS = [{"name": "Carol Chen", "email": "carol@example.com"}, {"name": "Dan Diaz", "email": "dan@example.com"}]


class FakeIdentityProvider:
    """Discovery, JWKS, /authorize (logs Alice in at once), the token endpoint, revocation."""

    def __init__(self, client_id="web-app", client_secret="web-app-secret"):
        self.client = {"client_id": client_id, "client_secret": client_secret}
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1", "use": "sig", "alg": "RS256"})
        self.logins: dict[str, dict] = {}  # code -> the /authorize request
        self.access_tokens: dict[str, float] = {}  # token -> expires_at
        self.refresh_tokens: set[str] = set()
        self.issued: list[str] = []  # every token value handed out, for leak checks
        self.id_tokens: list[str] = []
        self.failures: dict[str, tuple[int, dict]] = {}  # grant_type -> the next answer
        self.rotate = True
        self.offline_access = True
        self.id_token_changes: dict = {}
        self.sign_with: RSAKey | None = None
        self.management: FakeManagementApi | None = None  # set up by FakeManagementApi
        self.end_session_endpoint: str | None = ISSUER + "oidc/logout"  # RP-Initiated Logout
        self.app = self._build()

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = 0

    def fail(self, grant_type: str, status: int, error: str, description: str) -> None:
        self.failures[grant_type] = (status, {"error": error, "error_description": description})

    def _build(self) -> Flask:
        app = Flask("fake_idp")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            session_end = {"end_session_endpoint": self.end_session_endpoint} if self.end_session_endpoint else {}
            return jsonify(
                **session_end,
                issuer=ISSUER,
                authorization_endpoint=ISSUER + "authorize",
                token_endpoint=ISSUER + "oauth/token",
                jwks_uri=ISSUER + ".well-known/jwks.json",
                userinfo_endpoint=ISSUER + "userinfo",
                revocation_endpoint=ISSUER + "oauth/revoke",
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/.well-known/jwks.json")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            code = secrets.token_urlsafe(16)
            self.logins[code] = request.args.to_dict()
            query = urlencode({"code": code, "state": request.args["state"]})
            return redirect(f"{request.args['redirect_uri']}?{query}")

        @app.post("/oauth/token")
        def token():
            return self._token(request.form)

        @app.post("/oauth/revoke")
        def revoke():
            self.refresh_tokens.discard(request.form.get("token"))
            return "", 200

        return app

    def _token(self, form):
        if form.get("grant_type") in self.failures:
            status, body = self.failures.pop(form["grant_type"])
            return jsonify(body), status
        if form.get("grant_type") == "client_credentials" and self.management is not None:
            return self.management.token(form)
        if {k: form.get(k) for k in self.client} != self.client:
            return jsonify(error="access_denied", error_description="Unauthorized"), 401
        if form.get("grant_type") == "authorization_code":
            return self._redeem(form)
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form)
        return jsonify(error="unsupported_grant_type"), 400

    def _redeem(self, form):
        login = self.logins.pop(form.get("code", ""), None)
        if login is None:
            return _invalid_grant("Invalid authorization code")
        if form.get("redirect_uri") != login["redirect_uri"]:
            return _invalid_grant('Invalid "redirect_uri" in request.')
        if create_s256_code_challenge(form.get("code_verifier", "")) != login.get("code_challenge"):
            return _invalid_grant("Failed to verify code verifier")
        return self._tokens(login["scope"], nonce=login.get("nonce"), at_login=True)

    def _refresh(self, form):
        if form.get("refresh_token") not in self.refresh_tokens:
            return _invalid_grant("Unknown or invalid refresh token.")
        if self.rotate:
            self.refresh_tokens.discard(form["refresh_token"])
        return self._tokens(form.get("scope") or "openid profile email offline_access read:contacts")

    def _tokens(self, scope: str, nonce: str | None = None, at_login: bool = False):
        now = int(time.time())
        access_token = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access_token] = now + 3600
        claims = {"iss": ISSUER, "aud": self.client["client_id"], "iat": now, "exp": now + 36000, **ALICE}
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_changes)
        id_token = jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, self.sign_with or self.key)
        body = {"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": 3600}
        body["scope"] = scope
        # A new refresh token at login, and at each refresh when rotation is on.
        if self.offline_access and "offline_access" in scope.split() and (at_login or self.rotate):
            body["refresh_token"] = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(body["refresh_token"])
        self.issued += [v for k, v in body.items() if k in ("access_token", "id_token", "refresh_token")]
        self.id_tokens += [body["id_token"]] if "id_token" in body else []
        return jsonify(body)


def _invalid_grant(description: str):
    return jsonify(error="invalid_grant", error_description=description), 403


class FakeManagementApi:
    """The Management API subset the panel uses, on the fake provider's host, with a tenant
    as the tenant file has it. ``stale()`` makes the tokens handed out so far refused (as
    two key rotations do); ``fail_next(status, body, method)`` answers the next call of that method with an error."""

    AUDIENCE = ISSUER + "api/v2/"

    def __init__(self, idp: FakeIdentityProvider):
        idp.management = self
        self.tokens: set[str] = set()
        self.calls: list[tuple[str, str, dict | None]] = []
        self.failures: list[tuple[str, int, dict]] = []
        self.logs: list[dict] = []
        self.reset()
        idp.app.add_url_rule(
            "/api/v2/<path:path>", "management", self._answer, methods=["GET", "POST", "PATCH", "DELETE"]
        )

    def reset(self) -> None:
        self.tenant = {
            "clients": {
                "web-app": {"client_id": "web-app", "grant_types": ["authorization_code", "refresh_token"],
                            "callbacks": ["http://localhost:3000/callback"]},
                "source-api": {"client_id": "source-api", "grant_types": ["refresh_token"], "callbacks": []},
            },
            "resource-servers": {
                "source-api": {"id": "source-api", "token_lifetime": 86400, "allow_offline_access": True,
                               "skip_consent_for_verifiable_first_party_clients": False,
                               "token_exchange": {"enabled": True, "client_id": "source-api"}},
                "target-api": {"id": "target-api", "token_lifetime": 86400, "allow_offline_access": True,
                               "skip_consent_for_verifiable_first_party_clients": True,
                               "token_exchange": {"enabled": False, "client_id": None}},
            },
            "api-pairings": {"source-api:target-api": {"id": "source-api:target-api", "scopes": ["read:contacts"]}},
            "settings": {"clock_skew": 0, "friendly_name": "On-Behalf-Of Demo"},
            "rules": [{"name": "add-on-behalf-of-claims", "enabled": True, "order": 1}],
            "keys": [{"kid": "key-0", "current": True, "previous": False, "revoked": False, "current_since": "0"}],
        }  # fmt: skip

    def stale(self) -> None:
        self.tokens.clear()

    def fail_next(self, status: int, body: dict, method: str = "PATCH") -> None:
        self.failures.append((method, status, body))

    def token(self, form):
        expected = ("management", "management-secret", self.AUDIENCE)
        if (form.get("client_id"), form.get("client_secret"), form.get("audience")) != expected:
            return jsonify(error="access_denied", error_description="Unauthorized"), 401
        token = "mgmt-" + secrets.token_urlsafe(12)
        self.tokens.add(token)
        return jsonify(access_token=token, token_type="Bearer", expires_in=86400)

    def _answer(self, path: str):
        body = request.get_json(silent=True)
        self.calls.append((request.method, "/" + path, body))
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return jsonify(
                statusCode=401, error="Unauthorized", message="Invalid token", errorCode="invalid_token"
            ), 401
        if self.failures and self.failures[0][0] == request.method:
            _, status, failure = self.failures.pop(0)
            return jsonify(failure), status
        tenant, (kind, _, name) = self.tenant, path.partition("/")
        if request.method == "GET":
            if kind == "logs":
                return jsonify(self.logs)
            if kind == "tenants":
                return jsonify(tenant["settings"])
            found = tenant[kind] if kind in ("rules", "keys") else list(tenant[kind].values())
            return jsonify(found)
        if (request.method, path) == ("POST", "tenants/settings/reset"):
            self.reset()
            return jsonify(message="The tenant is back to the settings of its file.")
        if path.startswith("keys/signing/"):
            return self._signing_keys(path.removeprefix("keys/signing/"))
        if request.method == "DELETE" and kind == "api-pairings":
            tenant["api-pairings"].pop(name)
            return "", 204
        if request.method == "POST" and kind == "api-pairings":
            pairing_id = f"{body['source']}:{body['target']}"
            tenant["api-pairings"][pairing_id] = {"id": pairing_id, "scopes": body["scopes"]}
            return jsonify(tenant["api-pairings"][pairing_id]), 201
        if kind == "tenants":
            tenant["settings"].update(body)
            return jsonify(tenant["settings"])
        if kind == "rules":
            rule = next(r for r in tenant["rules"] if r["name"] == name)
            rule.update(body)
            return jsonify(rule)
        tenant[kind][name].update(body)
        return jsonify(tenant[kind][name])

    def _signing_keys(self, action: str):
        tenant = self.tenant
        if action == "rotate":
            for key in tenant["keys"]:
                key.update(current=False, previous=key["current"], revoked=key["revoked"] or key["previous"])
            made = str(len(tenant["keys"]))
            tenant["keys"].insert(0, {"kid": f"key-{made}", "current": True, "previous": False, "revoked": False,
                                      "current_since": made})  # fmt: skip
            return jsonify(kid=tenant["keys"][0]["kid"]), 201
        if action == "reset":  # the oldest key still published signs again; retired ones stay retired
            published = [key for key in tenant["keys"] if not key["revoked"]]
            for key in published:
                key.update(current=False, previous=True)
            published[-1].update(current=True, previous=False)
            return jsonify(kid=published[-1]["kid"])
        return jsonify(error="not_found"), 404


class FakeSourceApi:
    """GET /api/contacts and /api/me: accepts the fake provider's unexpired access tokens."""

    def __init__(self, idp: FakeIdentityProvider):
        self.idp = idp
        self.answers: list[tuple[int, dict, dict]] = []  # canned answers, used first
        self.calls: list[SimpleNamespace] = []
        self.via_kind = "exchange"
        self.forgotten = 0  # times the operator endpoint emptied the Target API token cache
        self.logins_ended: list[str] = []  # the access tokens the logout named
        self.app = self._build()

    def answer_next(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.answers.append((status, body, headers or {}))

    def _build(self) -> Flask:
        app = Flask("fake_source_api")

        def authorized():
            self.calls.append(SimpleNamespace(path=request.path, request_id=request.headers.get("X-Request-Id")))
            if self.answers:
                status, body, headers = self.answers.pop(0)
                return jsonify(body), status, headers
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if self.idp.access_tokens.get(token, 0) <= time.time():
                challenge = 'Bearer error="invalid_token", error_description="The access token expired"'
                return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": challenge}
            return None

        @app.get("/api/contacts")
        def contacts():
            if refused := authorized():
                return refused
            now = int(time.time())
            via = {
                "target_token": self.via_kind,
                "audience": "https://target-api.example.com",
                "scope": "read:contacts",
                "client_id": "source-api",
                "expires_at": now + 86400,
                "obtained_at": now,
            }
            return jsonify(owner=ALICE["sub"], contacts=CONTACTS, via=via)

        @app.delete("/api/login-tokens")
        def forget_login_tokens():
            if refused := authorized():
                return refused
            self.logins_ended.append(request.headers["Authorization"].removeprefix("Bearer "))
            return jsonify(forgotten=1)

        @app.delete("/operator/target-token-cache")
        def forget_target_tokens():
            if request.headers.get("Authorization") != f"Bearer {OPERATOR_SECRET}":
                return jsonify(error="unauthorized"), 401
            self.forgotten += 1
            return jsonify(forgotten=1)

        @app.get("/api/me")
        def me():
            if refused := authorized():
                return refused
            return jsonify(sub=ALICE["sub"], claims={"sub": ALICE["sub"], "scope": "read:profile read:contacts"})

        return app
