"""What the views share, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from obo_common.demo_tools import DemoTools

from .provider_client import ProviderClient
from .settings import Settings
from .source_api_client import SourceApiClient


@dataclass(frozen=True)
class Services:
    settings: Settings
    provider: ProviderClient
    source_api: SourceApiClient
    demo_tools: DemoTools
    operator_secret: str


def services() -> Services:
    return current_app.extensions["web_app"]
