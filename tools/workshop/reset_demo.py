"""make reset: the demo back to its starting state, without reinstalling or restarting.

For before a class, or after one that broke things: the tenant back to
``mock-idp/tenant.yaml``, the signing keys back to the first one (keys made since stay
published, so nothing issued stops verifying), every user's consents withdrawn, the
accounts and addresses blocked by wrong passwords unblocked, the tenant log emptied,
the Source API's cached Target API tokens forgotten and every web app session ended.
It talks HTTP to the running services (either mode of `make up`), so each part says
whether it worked; the ones that did not are listed and it exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import requests

from local_stack import demo_settings

TIMEOUT = (3.05, 10)


class Refused(Exception):
    pass


def _expect(response: requests.Response, *statuses: int) -> requests.Response:
    if response.status_code not in statuses:
        raise Refused(f"HTTP {response.status_code}: {response.text[:300]}")
    return response


class Management:
    def __init__(self, settings: demo_settings.DemoSettings, http: requests.Session):
        self.url = settings.management_audience.rstrip("/")
        self.http = http
        answer = _expect(
            http.post(
                settings.issuer + "oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.management_client_id,
                    "client_secret": settings.management_client_secret,
                    "audience": settings.management_audience,
                },
                timeout=TIMEOUT,
            ),
            200,
        )
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method: str, path: str, *statuses: int, **kwargs) -> requests.Response:
        response = self.http.request(method, self.url + path, headers=self.headers, timeout=TIMEOUT, **kwargs)
        return _expect(response, *statuses)


def steps(settings: demo_settings.DemoSettings, http: requests.Session) -> list[tuple[str, Callable[[], str]]]:
    """Each part of the reset: what it resets, and the call that does it (answering what it did)."""
    management: list[Management] = []

    def api() -> Management:  # one token for the whole reset, fetched when first needed
        if not management:
            management.append(Management(settings, http))
        return management[0]

    def tenant() -> str:
        api().call("POST", "/tenants/settings/reset", 200)
        return "done"

    def keys() -> str:
        return "current key " + api().call("POST", "/keys/signing/reset", 200).json()["kid"]

    def consents() -> str:
        grants = api().call("GET", "/grants", 200).json()
        for grant in grants:
            api().call("DELETE", f"/grants/{grant['id']}", 204, 404)
        return f"{len(grants)} withdrawn"

    def login_blocks() -> str:
        api().call("DELETE", "/user-blocks", 204, params={"all": "true"})
        return "cleared"

    def operator(path: str, key: str, done: str) -> Callable[[], str]:
        def call() -> str:
            headers = {"Authorization": f"Bearer {settings.operator_secret}"}
            return f"{_expect(http.delete(path, headers=headers, timeout=TIMEOUT), 200).json().get(key, 0)} {done}"

        return call

    def tenant_log() -> str:
        api().call("DELETE", "/logs", 204)
        return "emptied"

    return [
        ("tenant settings back to mock-idp/tenant.yaml", tenant),
        ("signing keys back to the first one", keys),
        ("consents", consents),
        ("login blocks", login_blocks),
        (
            "Source API's cached Target API tokens",
            operator(settings.source_api_url + "/operator/target-token-cache", "forgotten", "forgotten"),
        ),
        ("web app sessions", operator(settings.web_app_url + "/operator/sessions", "ended", "ended")),
        ("tenant log", tenant_log),  # last, so the entries the reset itself caused go too
    ]


def main() -> int:
    settings = demo_settings.load()
    failed = []
    with requests.Session() as http:
        for name, step in steps(settings, http):
            try:
                print(f"  ok      {name}: {step()}", flush=True)
            except (Refused, requests.RequestException, KeyError, ValueError) as error:
                unreachable = isinstance(error, requests.ConnectionError)
                reason = "not reachable (is `make up` running?)" if unreachable else error
                print(f"  FAILED  {name}: {reason}", flush=True)
                failed.append(name)
    if failed:
        print(f"make reset: {len(failed)} of the parts above did not reset.", file=sys.stderr)
        return 1
    print("The demo is back to its starting state. Users log in again; the consent page shows again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
