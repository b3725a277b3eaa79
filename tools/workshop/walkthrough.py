"""make walkthrough: the tutorial's five steps from the terminal, against the running demo.

    make walkthrough                      # alice
    make walkthrough EMAIL=bob@example.com

Logs the demo user in through the real login form as the web app does (its client, its
callback, PKCE S256), then makes each request of the flow itself and prints it as a curl
command (client secrets as $WEB_APP_CLIENT_SECRET and $SOURCE_API_CLIENT_SECRET, tokens
as shell variables), the answer, and the tokens decoded. Pauses before each step when run
in a terminal; runs straight through otherwise. Talks HTTP only, to the URLs of .env (or
their defaults), so it works with `make up` in either mode. A failed step prints what was
sent and what came back, names the likely troubleshooting entry, and exits 1.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import requests

from local_stack import demo_settings, local_tls
from obo_common.token_display import claim_diff
from workshop import demo_tokens
from workshop.demo_login import LoginError, authorize, query_of
from workshop.demo_tokens import ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE
from workshop.troubleshooting_guide import Entry, likely_entry, outage_entry
from workshop.walkthrough_display import MASK, Output, Request

TIMEOUT = 10
IDP, SOURCE_API, TARGET_API = "identity provider", "Source API", "Target API"


class StepFailed(Exception):
    """A step went wrong: what was sent, what came back (None: nothing did), and to whom."""

    def __init__(
        self, what: str, request: Request | None = None, response=None, callee: str | None = None, shown=False
    ):
        super().__init__(what)
        self.request, self.response, self.callee = request, response, callee
        self.shown = shown  # the request and its answer are printed already


@dataclass
class Flow:
    """What the steps hand on to each other."""

    settings: demo_settings.DemoSettings
    out: Output
    email: str
    password: str
    show_tokens: bool = False
    tokens: dict = field(default_factory=dict)  # step 1's token response
    user_claims: dict = field(default_factory=dict)
    target: dict = field(default_factory=dict)  # step 3's exchange response
    target_claims: dict = field(default_factory=dict)

    def send(self, request: Request, callee: str, what: str, needs: str | None = None) -> dict:
        """Make the request, print it and its answer; the JSON body of a 200 (with a ``needs``
        field, when given), else StepFailed."""
        self.out.command(request)
        try:
            response = requests.request(
                request.method, request.url, data=request.form, headers=request.headers, timeout=TIMEOUT
            )
        except requests.RequestException as error:
            failure = f"the {callee} did not answer ({type(error).__name__})"
            if isinstance(error, requests.exceptions.SSLError):
                failure += f": {local_tls.TRUST_HINT}"
            raise StepFailed(failure, request, None, callee, shown=True) from None
        body = _json(response)
        self.out.answer(response.status_code, response.reason, response.headers.get("Content-Type", ""), body)
        if response.status_code != 200 or not isinstance(body, dict):
            failure = f"{what} failed: the {callee} answered HTTP {response.status_code}"
            raise StepFailed(failure, request, response, shown=True)
        if needs and not body.get(needs):
            raise StepFailed(f"{what} failed: the {callee}'s answer has no {needs}", request, response, shown=True)
        return body

    def name_tokens(self, **variables: str | None) -> None:
        """Say which shell variables the next commands use for the tokens just shown."""
        named = {name: value for name, value in variables.items() if value}
        self.out.note(
            "The commands below name these tokens as shell variables: "
            + ", ".join(f"${name}" for name in named)
            + (": they hold the values above." if self.show_tokens else " (--show-tokens prints them whole).")
        )
        if self.show_tokens:
            for name, value in named.items():
                self.out.line(f"export {name}={shlex.quote(value)}")


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return response.text


# -- the five steps ------------------------------------------------------------------------


def request_tokens(flow: Flow) -> None:
    out, settings = flow.out, flow.settings
    login = demo_tokens.login_request(settings)
    out.say("The web app's Log in sends the browser to the identity provider's authorization endpoint:")
    out.say(f"GET {login.url.split('?')[0]}", indent="  ")
    out.fields(list(query_of(login.url).items()), indent="    ")
    out.note(
        "PKCE: code_challenge is BASE64URL(SHA-256(code_verifier)). The web app keeps the code_verifier "
        "and sends it only with the code, so a stolen code is useless."
    )
    out.subheading("The pages passed (as a person in a browser: log in, accept consent)")
    try:
        authorization = authorize(requests.Session(), login.url, flow.email, flow.password)
    except requests.RequestException as error:
        request = Request("GET", login.url)
        failure = f"the {IDP} did not answer ({type(error).__name__})"
        if isinstance(error, requests.exceptions.SSLError):
            failure += f": {local_tls.TRUST_HINT}"
        raise StepFailed(failure, request, None, IDP) from None
    except LoginError as error:
        raise StepFailed(f"the login did not get through: {error}") from None
    pages = iter(authorization.pages)
    for number, response in enumerate(authorization.responses, 1):
        out.say(_page_line(number, response, pages), indent="  ", hanging="     ")
        if response.request.method == "POST":
            form = parse_qsl(response.request.body or "")
            out.fields([(name, MASK if name == "password" else value) for name, value in form], indent="       ")
    if "consent" not in authorization.pages:
        out.note(f"No consent page: {flow.email} has already granted these scopes to the web app.")
    params = authorization.params
    out.subheading("Back at the web app's callback")
    out.say(authorization.location.split("?")[0], indent="  ")
    out.fields([(name, value) for name, value in params.items()], indent="    ")
    if params.get("state") != login.state or "code" not in params:
        raise StepFailed(f"the {IDP} sent the browser to {authorization.location}, without a code for this state")
    out.note("The state is the one sent: the answer belongs to this login.")

    out.subheading("The web app's back end redeems the code, with its own secret and the code_verifier")
    request = Request(
        "POST",
        settings.token_endpoint,
        form=demo_tokens.redemption_form(settings, params["code"], login.verifier),
        variables={"client_secret": "WEB_APP_CLIENT_SECRET"},
    )
    flow.tokens = flow.send(request, IDP, "redeeming the code", needs="access_token")
    flow.user_claims = out.token("The access token: for the Source API", flow.tokens.get("access_token")) or {}
    out.token("The ID token: for the web app, who logged in", flow.tokens.get("id_token"), "the web app verifies it")
    flow.name_tokens(
        ACCESS_TOKEN=flow.tokens.get("access_token"),
        ID_TOKEN=flow.tokens.get("id_token"),
        REFRESH_TOKEN=flow.tokens.get("refresh_token"),
    )


def _page_line(number: int, response: requests.Response, pages) -> str:
    sent = urlsplit(response.request.url)
    query = f"?{sent.query[:40]}..." if len(sent.query) > 40 else (f"?{sent.query}" if sent.query else "")
    line = f"{number}. {response.request.method} {sent.path}{query} -> {response.status_code}"
    if response.is_redirect:
        target = response.headers.get("Location", "")
        line += f", on to {target.split('?')[0]}"
    elif response.status_code == 200:
        line += f" (the {next(pages, 'unknown')} page)"
    return line


def call_source_api(flow: Flow) -> None:
    flow.out.say("The web app sends the user's access token to the Source API, which validates it itself.")
    request = _bearer("GET", flow.settings.source_api_url + "/api/me", flow.tokens["access_token"], "ACCESS_TOKEN")
    flow.send(request, SOURCE_API, "calling the Source API")
    flow.out.note("The Source API checked the signature against the JWKS, RS256, typ, iss, aud, exp and the scope.")


def exchange(flow: Flow) -> None:
    out, settings = flow.out, flow.settings
    out.say(
        "To call the Target API on the user's behalf, the Source API exchanges the user's token at the "
        "token endpoint (RFC 8693), authenticating as its own client. This is that request, as it makes it:"
    )
    request = Request(
        "POST",
        settings.token_endpoint,
        form={
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": flow.tokens["access_token"],
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "audience": settings.target_api_audience,
            "scope": settings.exchange_scope,
            "client_id": settings.source_api_client_id,
            "client_secret": settings.source_api_client_secret,
        },
        variables={"subject_token": "ACCESS_TOKEN", "client_secret": "SOURCE_API_CLIENT_SECRET"},
    )
    flow.target = flow.send(request, IDP, "the token exchange", needs="access_token")
    flow.target_claims = out.token("The Target API token", flow.target.get("access_token")) or {}
    flow.name_tokens(
        TARGET_ACCESS_TOKEN=flow.target.get("access_token"), TARGET_REFRESH_TOKEN=flow.target.get("refresh_token")
    )
    out.subheading("Claim by claim: the user's access token -> the Target API token")
    out.diff("the user's token", "the Target API token", claim_diff(flow.user_claims, flow.target_claims))
    out.note(
        "Same user (sub), another audience and client, only the paired scope; claims under "
        "https://obo.example.com/ come from the tenant's rule for token exchanges."
    )


def call_target_api(flow: Flow) -> None:
    out, settings = flow.out, flow.settings
    out.say("The Source API calls the Target API with the Target API token (never with the user's own).")
    target = flow.target["access_token"]
    flow.send(
        _bearer("GET", settings.target_api_url + "/api/contacts", target, "TARGET_ACCESS_TOKEN"),
        TARGET_API,
        "calling the Target API",
    )
    out.subheading("The whole chain: the same contacts through the Source API, with the user's token")
    request = _bearer("GET", settings.source_api_url + "/api/contacts", flow.tokens["access_token"], "ACCESS_TOKEN")
    body = flow.send(request, SOURCE_API, "calling the Source API for contacts")
    via = body.get("via") if isinstance(body.get("via"), dict) else {}
    how = {
        "exchange": "it exchanged the user's token just now",
        "cache": "it reused the Target API token it holds",
        "refresh": "it refreshed the Target API token it holds",
    }
    if via.get("target_token") in how:
        out.note(f"via.target_token = {via['target_token']}: {how[via['target_token']]} (steps 3 and 4 in one call).")
    for hop in body.get("trace") or []:
        if isinstance(hop, dict):
            answer = (hop.get("response") or {}).get("status") or hop.get("cache") or hop.get("error")
            out.say(
                f"step {hop.get('step')}: {hop.get('title')}, {hop.get('caller')} -> {hop.get('callee')}: {answer}",
                indent="  ",
            )


def refresh(flow: Flow) -> None:
    out, settings = flow.out, flow.settings
    out.subheading("The web app's refresh token: new tokens without a new login")
    old = flow.tokens.get("refresh_token")
    if not old:
        out.say("Step 1 issued no refresh token (no offline_access granted: T07), so there is nothing to refresh.")
    else:
        client = (settings.web_app_client_id, settings.web_app_client_secret, "WEB_APP_CLIENT_SECRET")
        renewed = _refresh(flow, old, "REFRESH_TOKEN", client, "refreshing the web app's tokens")
        _what_changed(flow, "the user's access token", flow.user_claims, renewed, old)

    out.subheading("The Source API's Target API refresh token")
    old = flow.target.get("refresh_token")
    if not old:
        out.say(
            "The exchange in step 3 issued no refresh token (offline_access not asked for, or the Target API "
            "does not allow offline access): the Source API exchanges the user's token again instead."
        )
        return
    client = (settings.source_api_client_id, settings.source_api_client_secret, "SOURCE_API_CLIENT_SECRET")
    renewed = _refresh(flow, old, "TARGET_REFRESH_TOKEN", client, "refreshing the Target API token")
    _what_changed(flow, "the Target API token", flow.target_claims, renewed, old)


def _refresh(flow: Flow, refresh_token: str, token_variable: str, client: tuple[str, str, str], doing: str) -> dict:
    """A refresh_token grant as ``client`` (id, secret, the secret's shell variable) makes it."""
    client_id, client_secret, secret_variable = client
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    variables = {"refresh_token": token_variable, "client_secret": secret_variable}
    return flow.send(Request("POST", flow.settings.token_endpoint, form, variables=variables), IDP, doing)


def _what_changed(flow: Flow, name: str, before: dict, renewed: dict, old_refresh: str) -> None:
    out = flow.out
    after = out.token(f"The new access token, replacing {name}", renewed.get("access_token"))
    if after is not None:
        out.say(f"What changed from {name}:")
        out.diff("the old token", "the new one", claim_diff(before, after), only_changes=True)
    new_refresh = renewed.get("refresh_token")
    if new_refresh and new_refresh != old_refresh:
        out.say(
            "The refresh token was rotated: a new one came back, and the one sent is void now. Using it "
            "again would revoke the whole grant (T34)."
        )
    else:
        out.say("The refresh token was not rotated: the same one stays valid.")


def _bearer(method: str, url: str, token: str, variable: str) -> Request:
    return Request(method, url, headers={"Authorization": f"Bearer {token}"}, variables={"Authorization": variable})


STEPS = [
    (1, "Request tokens", request_tokens),
    (2, "Call the Source API", call_source_api),
    (3, "Exchange the token", exchange),
    (4, "Call the Target API", call_target_api),
    (5, "Refresh tokens", refresh),
]


# -- running them ----------------------------------------------------------------------------


def report(out: Output, number: int, title: str, failure: StepFailed) -> Entry | None:
    """Print what was sent and what came back; the troubleshooting entry it is likely to be."""
    out.heading(f"Step {number} ({title}) failed")
    message = str(failure)
    out.say(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
    if failure.shown:
        out.say("What was sent and what came back are just above.")
    elif failure.request is not None:
        out.say("Sent:")
        out.command(failure.request)
    if not failure.shown and failure.response is not None:
        out.say("Came back:")
        response = failure.response
        out.answer(response.status_code, response.reason, response.headers.get("Content-Type", ""), _json(response))
    if failure.request is not None and failure.response is None:
        out.say("Came back: nothing (the connection failed or timed out).")
    if failure.response is None and failure.callee:
        return outage_entry(failure.callee)
    body = _json(failure.response) if failure.response is not None else None
    body = body if isinstance(body, dict) else {}
    challenge = failure.response.headers.get("WWW-Authenticate", "") if failure.response is not None else ""
    words = [body.get(k) for k in ("error_description", "upstream_error_description", "title", "upstream_error")]
    words += [part.split('"')[0] for part in challenge.split('error_description="')[1:]] + [body.get("error")]
    return likely_entry(number, [w for w in words if isinstance(w, str)] + [str(failure)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", default="alice@example.com")
    parser.add_argument("--password", default=demo_tokens.DEMO_PASSWORD)
    parser.add_argument("--show-tokens", action="store_true", help="print the tokens whole, as export lines")
    parser.add_argument("--no-pause", action="store_true", help="do not wait for Enter between the steps")
    args = parser.parse_args(argv)
    out = Output(show_tokens=args.show_tokens)
    flow = Flow(demo_settings.load(), out, args.email, args.password, args.show_tokens)
    pause = not args.no_pause and sys.stdin.isatty() and sys.stdout.isatty()
    out.say(
        f"The tutorial's five steps against {flow.settings.issuer} (identity provider), "
        f"{flow.settings.source_api_url} (Source API) and {flow.settings.target_api_url} (Target API)."
    )
    for number, title, step in STEPS:
        if pause and number > 1:
            try:
                input(f"\nPress Enter for step {number} ({title}), Ctrl-C to stop. ")
            except (EOFError, KeyboardInterrupt):
                print()
                return 130
        out.heading(f"Step {number} of {len(STEPS)}: {title}")
        try:
            step(flow)
        except KeyboardInterrupt:
            print()
            return 130
        except StepFailed as failure:
            entry = report(out, number, title, failure)
            see = f"; see {entry.reference}" if entry else "; see docs/troubleshooting.md"
            if entry:
                out.say(f"Likely: {entry.reference}")
            print(f"walkthrough: step {number} ({title}) failed: {failure}{see}", file=sys.stderr)
            return 1
    out.heading("Done")
    out.say(f"What the identity provider did is in the tenant log: {flow.settings.issuer}logs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
