"""What the views share, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .identity_provider import IdentityProvider
from .settings import Settings
from .source_api_client import SourceApiClient


@dataclass(frozen=True)
class Services:
    settings: Settings
    identity_provider: IdentityProvider
    source_api: SourceApiClient


def services() -> Services:
    return current_app.extensions["web_app"]
