"""Where the demo's services are and who its clients are, as `make up` runs them.

Read from the environment, then from ``.env`` (parsed as Docker Compose parses it:
quotes, comments, ``export``), then the defaults of ``.env.example``. The terminal tools
(walkthrough, tokens, reset, screenshots) use this, so they point at the same stack as
the services.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from obo_common import secret_file
from obo_common.allowed_hosts import hosts_of

ROOT = Path(__file__).resolve().parents[2]

# Where each service listens on this machine (compose: its published port). Unset, the
# port of the service's URL, so one setting moves both; set, it wins, and the service
# warns at start if its URL names another port.
PORT_VARIABLES = {
    "mock-idp": "MOCK_IDP_PORT",
    "target-api": "TARGET_API_PORT",
    "source-api": "SOURCE_API_PORT",
    "web-app": "WEB_APP_PORT",
}


@dataclass(frozen=True)
class DemoSettings:
    issuer: str
    web_app_url: str
    source_api_url: str
    target_api_url: str
    web_app_client_id: str
    web_app_client_secret: str
    source_api_client_id: str
    source_api_client_secret: str
    login_scope: str
    exchange_scope: str
    source_api_audience: str
    target_api_audience: str
    operator_secret: str
    # The hosts of the URLs above, plus ALLOWED_HOSTS: what every service answers to.
    allowed_hosts: str
    management_client_id: str
    management_client_secret: str
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        """Each service's URL as the others (and people) reach it, in start order."""
        return {
            "mock-idp": self.issuer,
            "target-api": self.target_api_url,
            "source-api": self.source_api_url,
            "web-app": self.web_app_url,
        }

    @property
    def callback(self) -> str:
        return self.web_app_url + "/callback"

    @property
    def token_endpoint(self) -> str:
        return self.issuer + "oauth/token"

    @property
    def management_audience(self) -> str:
        return self.issuer + "api/v2/"


def load(env_file: Path | None = ROOT / ".env") -> DemoSettings:
    """The demo's settings from ``env_file`` (None: none) and the environment, which wins."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v} if env_file and env_file.is_file() else {}
    values.update({k: v for k, v in os.environ.items() if v})

    def get(name: str, default: str) -> str:
        return values.get(name, default)

    issuer = get("OIDC_ISSUER", "http://localhost:9000/")
    settings = DemoSettings(
        issuer=issuer if issuer.endswith("/") else issuer + "/",
        web_app_url=get("WEB_APP_BASE_URL", "http://localhost:3000").rstrip("/"),
        source_api_url=get("WEB_APP_SOURCE_API_URL", "http://localhost:3001").rstrip("/"),
        target_api_url=get("SOURCE_API_TARGET_URL", "http://localhost:3002").rstrip("/"),
        web_app_client_id=get("WEB_APP_CLIENT_ID", "web-app"),
        web_app_client_secret=get("WEB_APP_CLIENT_SECRET", "web-app-secret"),
        source_api_client_id=get("SOURCE_API_CLIENT_ID", "source-api"),
        source_api_client_secret=get("SOURCE_API_CLIENT_SECRET", "source-api-secret"),
        login_scope=get("WEB_APP_SCOPE", "openid profile email offline_access read:profile read:contacts"),
        exchange_scope=get("SOURCE_API_EXCHANGE_SCOPE", "read:contacts offline_access"),
        source_api_audience=get("SOURCE_API_AUDIENCE", "https://source-api.example.com"),
        target_api_audience=get("TARGET_API_AUDIENCE", "https://target-api.example.com"),
        operator_secret=values.get("OPERATOR_SECRET") or secret_file.load_or_create(operator_secret_file(values)),
        allowed_hosts="",
        management_client_id=get("WEB_APP_MANAGEMENT_CLIENT_ID", "management"),
        management_client_secret=get("WEB_APP_MANAGEMENT_CLIENT_SECRET", "management-secret"),
    )
    ports = {name: _port(values, variable, settings.urls[name]) for name, variable in PORT_VARIABLES.items()}
    hosts = [*hosts_of(settings.urls.values()), *(values.get("ALLOWED_HOSTS") or "").split(",")]
    allowed = ",".join(sorted({host.strip().lower() for host in hosts if host.strip()}))
    return dataclasses.replace(settings, ports=ports, allowed_hosts=allowed)


def operator_secret_file(values: dict[str, str]) -> Path:
    """Where `make up` keeps the operator secret it made when OPERATOR_SECRET is not set: the
    local web app's own default (its data folder), so a web app started by hand agrees too."""
    return Path(values.get("WEB_APP_DATA_DIR") or ROOT / "web-app" / "instance") / "operator-secret"


def of_stack(urls: dict[str, str]) -> DemoSettings:
    """The settings of a stack started by launcher.isolated_stack at ``urls`` (service name ->
    base URL): its services read the environment and no .env, so this reads no .env either."""
    settings = load(env_file=None)
    return dataclasses.replace(
        settings,
        issuer=urls["mock-idp"].rstrip("/") + "/",
        web_app_url=urls["web-app"],
        source_api_url=urls["source-api"],
        target_api_url=urls["target-api"],
        ports={name: port_of(url) for name, url in urls.items()},
    )


def port_of(url: str) -> int:
    """The port a URL names, or its scheme's."""
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"{url} has no valid port") from None


def _port(values: dict[str, str], variable: str, url: str) -> int:
    if variable not in values:
        return port_of(url)
    try:
        port = int(values[variable])
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ValueError(f"{variable}={values[variable]} is not a port number")
    return port
