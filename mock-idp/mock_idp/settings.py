"""Service settings, read from the environment in one place (prefix ``MOCK_IDP_``)."""

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCK_IDP_", extra="ignore", env_ignore_empty=True)

    # Set explicitly, never derived from the Host header: tokens must name one issuer
    # whichever address (localhost, a compose service name) a caller used.
    issuer: str = "http://localhost:9000/"
    # Host names answered beyond loopback, mock-idp and the issuer's (mock_idp/allowed_hosts.py).
    allowed_hosts: str | None = Field(None, validation_alias=AliasChoices("ALLOWED_HOSTS", "allowed_hosts"))
    tenant_file: Path = SERVICE_DIR / "tenant.yaml"
    database: Path = SERVICE_DIR / "instance" / "mock-idp.sqlite3"
    authorization_code_lifetime: int = Field(default=300, gt=0, le=600)
    id_token_lifetime: int = Field(default=36000, gt=0)
    login_session_lifetime: int = Field(default=3 * 24 * 3600, gt=0)
    # Failed logins free per account from one address, and per address over all accounts,
    # within the window (seconds); past a bound each attempt waits longer (login_throttle.py).
    login_failures_per_account: int = Field(default=5, gt=0)
    login_failures_per_address: int = Field(default=100, gt=0)
    # Failures of one account from every address together, before browsers that never
    # logged in to it are slowed down (those that did are not: login_throttle.py).
    login_failures_per_account_any_address: int = Field(default=20, gt=0)
    login_failure_window: int = Field(default=15 * 60, gt=0)
    # The tenant log keeps at most this many entries, none older than this many days: it
    # grows with unauthenticated requests, so it is bounded (docs/mock-idp.md, Tenant log).
    log_retention_entries: int = Field(default=10_000, gt=0)
    log_retention_days: int = Field(default=30, gt=0)
    # log2 of scrypt's N for passwords hashed from now on (secret_hashing.py); a stored hash
    # keeps the cost it was made with.
    password_hash_cost: int = Field(default=14, ge=1, le=16)
    # The host address a container's port is published on (compose sets it from
    # PUBLISH_ADDRESS). A loopback one means every client that reaches this process is on
    # this machine, whatever its address inside the container network (the log page).
    published_on: str | None = None
    # The login session cookie's Secure flag: by default on exactly when the issuer is https
    # (browsers would not send it back over plain http); MOCK_IDP_SECURE_COOKIES overrides.
    secure_cookies: bool | None = None

    @field_validator("issuer")
    @classmethod
    def issuer_is_a_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError("must be an http(s) URL ending in '/', e.g. http://localhost:9000/")
        return value

    @property
    def session_cookie_secure(self) -> bool:
        return self.issuer.startswith("https://") if self.secure_cookies is None else self.secure_cookies

    def url(self, path: str) -> str:
        """An absolute URL on this server, built from the issuer."""
        return self.issuer + path.lstrip("/")
