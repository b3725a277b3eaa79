"""What the views share, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from obo_common import JWKSCache
from obo_common.demo_tools import DemoTools, OperatorSecret

from .settings import Settings
from .target_api_client import TargetApi
from .token_exchange import TargetTokens


@dataclass(frozen=True)
class Services:
    settings: Settings
    target_tokens: TargetTokens
    target_api: TargetApi
    jwks: JWKSCache
    demo_tools: DemoTools
    operator: OperatorSecret


def services() -> Services:
    return current_app.extensions["source_api"]
