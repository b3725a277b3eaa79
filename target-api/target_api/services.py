"""What the views share, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from obo_common import JWKSCache

from .contacts import ContactBook
from .settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    contacts: ContactBook
    jwks: JWKSCache


def services() -> Services:
    return current_app.extensions["target_api"]
