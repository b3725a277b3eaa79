"""The floor of a token endpoint in Flask: read the form, sign one RS256 access token,
answer it as JSON. Nothing else: no client authentication, no subject token verified, no
rule, no state, no log.

Run under mock-idp's gunicorn settings, it says what the least token endpoint costs there,
against which mock-idp's exchange and the peer's compare (`bench_profile peer`). The key is
an RSA key of mock-idp's size (2048 bits), the claims those of an exchanged token.
"""

import secrets
import time

from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import RSAKey

KEY = RSAKey.generate_key(2048, private=True, parameters={"kid": "floor-key"})
TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"

app = Flask(__name__)


@app.post("/oauth/token")
def token():
    form = request.form
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
        return jsonify(error="unsupported_grant_type"), 400
    now = int(time.time())
    claims = {
        "iss": "http://localhost:9000/",
        "sub": "auth0|65f1a2b3c4d5e6f708091a01",
        "aud": form.get("audience", ""),
        "iat": now,
        "exp": now + 3600,
        "jti": secrets.token_hex(16),
        "client_id": form.get("client_id", ""),
        "scope": form.get("scope", ""),
        "act": {"sub": form.get("client_id", "")},
    }
    token = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": KEY.kid}, claims, KEY)
    answer = jsonify(
        access_token=token, issued_token_type=TOKEN_TYPE, token_type="Bearer", expires_in=3600, scope=claims["scope"]
    )
    answer.headers["Cache-Control"] = "no-store"
    return answer


@app.get("/.well-known/openid-configuration")
def discovery():
    # What a client of the token endpoint reads first (the peer's exchange_bench.py does).
    return jsonify(issuer=request.host_url, token_endpoint=request.host_url + "oauth/token")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
