"""target-api settings, read from the environment in one place. What every app service
shares (issuer, back-channel address, leeway, how a bad value is reported) is in
``obo_common.settings_base``."""

from pathlib import Path

from pydantic import Field

from obo_common.settings_base import ApiSettings, NonBlank, env

SERVICE_DIR = Path(__file__).resolve().parent.parent


class Settings(ApiSettings):
    audience: NonBlank = Field(
        "https://target-api.example.com", validation_alias=env("TARGET_API_AUDIENCE", "audience")
    )
    database: Path = Field(
        SERVICE_DIR / "instance" / "target-api.sqlite3", validation_alias=env("TARGET_API_DATABASE", "database")
    )
    seed_file: Path = Field(SERVICE_DIR / "contacts.yaml", validation_alias=env("TARGET_API_SEED_FILE", "seed_file"))
    # Accept only delegated tokens, whose act claim names who acted (the provider's current
    # On-Behalf-Of profile with an actor token, docs/configuration.md).
    require_actor: bool = Field(False, validation_alias=env("TARGET_API_REQUIRE_ACTOR", "require_actor"))
