"""target-api settings, read from the environment in one place."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    issuer: str = Field("http://localhost:9000/", validation_alias=AliasChoices("OIDC_ISSUER", "issuer"))
    # Where this service reaches the identity provider, when not at the issuer's address.
    idp_internal_url: str | None = Field(None, validation_alias=AliasChoices("IDP_INTERNAL_URL", "idp_internal_url"))
    audience: str = Field(
        "https://target-api.example.com", validation_alias=AliasChoices("TARGET_API_AUDIENCE", "audience")
    )
    database: Path = Field(
        SERVICE_DIR / "instance" / "target-api.sqlite3",
        validation_alias=AliasChoices("TARGET_API_DATABASE", "database"),
    )
    seed_file: Path = Field(
        SERVICE_DIR / "contacts.yaml", validation_alias=AliasChoices("TARGET_API_SEED_FILE", "seed_file")
    )
    leeway: int = Field(30, ge=0, le=60, validation_alias=AliasChoices("TOKEN_LEEWAY", "leeway"))
    unknown_kid_interval: float = Field(
        30.0, ge=0, validation_alias=AliasChoices("JWKS_UNKNOWN_KID_INTERVAL", "unknown_kid_interval")
    )
