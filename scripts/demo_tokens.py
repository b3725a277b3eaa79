"""Log a demo user in through the real login form and print their tokens as shell variables.

    eval "$(make -s tokens)"                      # alice
    eval "$(make -s tokens EMAIL=bob@example.com)"

sets ACCESS_TOKEN (for the Source API), REFRESH_TOKEN and ID_TOKEN, which the
troubleshooting reproductions (docs/troubleshooting.md) use. The login is the web app's
(its client, its callback, PKCE S256), made without the web app: the code is redeemed
here. Demo tenant only: the tokens are printed.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import demo_settings
import requests
from demo_login import LoginError, LoginRequest, authorization_request, authorize

DEMO_PASSWORD = "Passw0rd!"


def login_request(settings: demo_settings.DemoSettings) -> LoginRequest:
    """Step 1's authorization request as the web app sends it: its client, its callback."""
    return authorization_request(
        settings.issuer,
        {
            "client_id": settings.web_app_client_id,
            "redirect_uri": settings.callback,
            "scope": settings.login_scope,
            "audience": settings.source_api_audience,
        },
    )


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


def login(settings: demo_settings.DemoSettings, email: str, password: str) -> dict:
    """Step 1 as the web app does it; returns the token endpoint's answer."""
    request = login_request(settings)
    authorization = authorize(requests.Session(), request.url, email, password)
    params = authorization.params
    if params.get("state") != request.state or "code" not in params:
        raise LoginError(f"the provider sent the browser to {authorization.location}")
    response = requests.post(
        settings.token_endpoint, data=redemption_form(settings, params["code"], request.verifier), timeout=10
    )
    if response.status_code != 200:
        raise LoginError(f"the code was not redeemed: HTTP {response.status_code} {response.text}")
    return response.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", default="alice@example.com")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args(argv)
    try:
        tokens = login(demo_settings.load(), args.email, args.password)
    except (LoginError, requests.RequestException) as error:
        print(f"tokens: the login failed: {error}", file=sys.stderr)
        return 1
    for name in ("access_token", "refresh_token", "id_token"):
        if tokens.get(name):
            print(f"export {name.upper()}={shlex.quote(tokens[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
