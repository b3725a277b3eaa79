"""Step-up authentication (RFC 9470): what an API asks of how, and how recently, the user
logged in, checked against a token's ``acr`` and ``auth_time``, and the challenge that says
what is missing.

The Target API checks it; the Source API passes the challenge back to its caller; the web
app reads it to log the user in again with ``acr_values`` and ``max_age``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from .bearer import bearer_challenge, parse_bearer_challenge

ERROR = "insufficient_user_authentication"


@dataclass(frozen=True)
class StepUpRequirement:
    """``acr_values``: the token's ``acr`` must be one of these (empty: any).
    ``max_age``: the token's ``auth_time`` must be at most this many seconds old."""

    acr_values: tuple[str, ...] = ()
    max_age: int | None = None

    def __bool__(self) -> bool:
        return bool(self.acr_values) or self.max_age is not None

    def unmet(self, claims: Mapping, now: float | None = None) -> str | None:
        """Why the token's login does not meet this requirement, or None."""
        if self.acr_values and claims.get("acr") not in self.acr_values:
            return f"A stronger login is required (acr: {' or '.join(self.acr_values)})"
        if self.max_age is not None:
            auth_time = claims.get("auth_time")
            now = time.time() if now is None else now
            if not isinstance(auth_time, int) or isinstance(auth_time, bool) or now - auth_time > self.max_age:
                return f"A more recent login is required (within {self.max_age} seconds)"
        return None

    def challenge(self, realm: str, description: str) -> str:
        """The RFC 9470 ``WWW-Authenticate`` value naming what is required."""
        return bearer_challenge(
            realm,
            ERROR,
            description,
            acr_values=" ".join(self.acr_values) or None,
            max_age=str(self.max_age) if self.max_age is not None else None,
        )

    def as_json(self) -> dict:
        body: dict = {}
        if self.acr_values:
            body["acr_values"] = " ".join(self.acr_values)
        if self.max_age is not None:
            body["max_age"] = self.max_age
        return body

    @classmethod
    def from_challenge(cls, header: str | None) -> StepUpRequirement | None:
        """The requirement an RFC 9470 challenge names, or None for another answer. A
        ``max_age`` that is not a small non-negative integer is left out, not trusted."""
        params = parse_bearer_challenge(header) or {}
        if params.get("error") != ERROR:
            return None
        return cls.from_values(params.get("acr_values"), params.get("max_age"))

    @classmethod
    def from_values(cls, acr_values: object, max_age: object) -> StepUpRequirement:
        acr = tuple(dict.fromkeys(acr_values.split())) if isinstance(acr_values, str) else ()
        age = None
        if isinstance(max_age, int) and not isinstance(max_age, bool) and 0 <= max_age < 10**9:
            age = max_age
        elif isinstance(max_age, str) and max_age.isascii() and max_age.isdigit() and len(max_age) <= 9:
            age = int(max_age)
        return cls(acr, age)
