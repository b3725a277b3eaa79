"""What the views share, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from obo_common import JWKSCache
from obo_common.step_up import StepUpRequirement

from .contacts import ContactBook
from .settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    contacts: ContactBook
    jwks: JWKSCache
    # Read from the settings once: the step-up requirement, and the scopes it applies to
    # (none when there is no requirement).
    step_up: StepUpRequirement
    step_up_scopes: frozenset[str]

    @classmethod
    def of(cls, settings: Settings, contacts: ContactBook, jwks: JWKSCache) -> Services:
        step_up = settings.step_up
        scopes = frozenset(settings.step_up_scopes.split()) if step_up else frozenset()
        return cls(settings, contacts, jwks, step_up, scopes)


def services() -> Services:
    return current_app.extensions["target_api"]
