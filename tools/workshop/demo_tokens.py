"""Log a demo user in through the real login form and print their tokens as shell variables.

    eval "$(make -s tokens)"                      # alice
    eval "$(make -s tokens EMAIL=bob@example.com)"
    eval "$(make -s code)"                        # --code: stop before the token request
    eval "$(make -s tokens ACR_VALUES=urn:mock:mfa)"  # a stronger login: the second factor too

sets ACCESS_TOKEN (for the Source API), REFRESH_TOKEN and ID_TOKEN, which the
troubleshooting reproductions (docs/troubleshooting.md) use; with --code, CODE and
CODE_VERIFIER instead, for the cases of the token request itself (T02, T03, T05). The
login is the web app's (its client, its callback, PKCE S256), made without the web app:
the code is redeemed here. Demo tenant only: the tokens are printed.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import requests

from local_stack import demo_settings, local_tls
from workshop.demo_login import LoginError, LoginRequest, authorization_request, authorize

DEMO_PASSWORD = "Passw0rd!"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def login_request(settings: demo_settings.DemoSettings, acr_values: str | None = None) -> LoginRequest:
    """Step 1's authorization request as the web app sends it: its client, its callback;
    with ``acr_values``, as it sends it again for a step-up (RFC 9470)."""
    params = {
        "client_id": settings.web_app_client_id,
        "redirect_uri": settings.callback,
        "scope": settings.login_scope,
        "audience": settings.source_api_audience,
    }
    if acr_values:
        params["acr_values"] = acr_values
    return authorization_request(settings.issuer, params)


def redemption_form(settings: demo_settings.DemoSettings, code: str, verifier: str) -> dict[str, str]:
    """The web app's back end redeeming the code at the token endpoint."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.callback,
        "code_verifier": verifier,
        "client_id": settings.web_app_client_id,
        "client_secret": settings.web_app_client_secret,
    }


def exchange_form(settings: demo_settings.DemoSettings, subject_token: str, scope: str) -> dict[str, str]:
    """The Source API's token exchange at the token endpoint, for a Target API token."""
    return {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "audience": settings.target_api_audience,
        "scope": scope,
        "client_id": settings.source_api_client_id,
        "client_secret": settings.source_api_client_secret,
    }


def authorization_code(
    settings: demo_settings.DemoSettings, email: str, password: str, acr_values: str | None = None
) -> dict[str, str]:
    """Step 1 up to the callback: the authorization code and the PKCE verifier it needs."""
    request = login_request(settings, acr_values)
    authorization = authorize(requests.Session(), request.url, email, password)
    params = authorization.params
    if params.get("state") != request.state or "code" not in params:
        raise LoginError(f"the provider sent the browser to {authorization.location}")
    return {"code": params["code"], "code_verifier": request.verifier}


def login(settings: demo_settings.DemoSettings, email: str, password: str, acr_values: str | None = None) -> dict:
    """Step 1 as the web app does it; returns the token endpoint's answer."""
    code = authorization_code(settings, email, password, acr_values)
    response = requests.post(
        settings.token_endpoint, data=redemption_form(settings, code["code"], code["code_verifier"]), timeout=10
    )
    if response.status_code != 200:
        raise LoginError(f"the code was not redeemed: HTTP {response.status_code} {response.text}")
    return response.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", default="alice@example.com")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--code", action="store_true", help="print the authorization code, unredeemed")
    parser.add_argument("--acr-values", help="ask for a stronger login (e.g. urn:mock:mfa: the second factor too)")
    args = parser.parse_args(argv)
    step = authorization_code if args.code else login
    settings = demo_settings.load()
    try:
        values = step(settings, args.email, args.password, args.acr_values)
    except requests.exceptions.SSLError as error:  # a ConnectionError too: told apart first
        print(f"tokens: the login failed: {error}", file=sys.stderr)
        print(f"tokens: {local_tls.TRUST_HINT}", file=sys.stderr)
        return 1
    except (requests.ConnectionError, requests.Timeout):
        print(
            f"tokens: the identity provider does not answer at {settings.issuer}: is the demo up? "
            "Start it with `make up` (its URLs come from .env, as here).",
            file=sys.stderr,
        )
        return 1
    except (LoginError, requests.RequestException) as error:
        print(f"tokens: the login failed: {error}", file=sys.stderr)
        return 1
    names = ("code", "code_verifier") if args.code else ("access_token", "refresh_token", "id_token")
    for name in names:
        if values.get(name):
            print(f"export {name.upper()}={shlex.quote(values[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
