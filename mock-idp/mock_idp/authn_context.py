"""How strongly the user logged in: the ``acr`` and ``amr`` claims (OIDC Core 2, RFC 8176).

A password alone is ``urn:mock:pwd``; a password and the second factor (``second_factor.py``)
is ``urn:mock:mfa``. A login session, the codes and refresh tokens issued from it, and
every token, exchanged ones included, carry its ``acr``; ``amr`` follows from it.
"""

from __future__ import annotations

PASSWORD = "urn:mock:pwd"
MFA = "urn:mock:mfa"
LEVELS = (PASSWORD, MFA)  # weakest first
AMR = {PASSWORD: ["pwd"], MFA: ["pwd", "otp", "mfa"]}


def claims(acr: str | None) -> dict:
    """The ``acr`` and ``amr`` claims of a token for a login of this level."""
    return {"acr": acr, "amr": AMR[acr]} if acr in AMR else {}


def satisfies(acr: str | None, acr_values: list[str]) -> bool:
    """A login of level ``acr`` meets a request for any of ``acr_values`` (or for none).

    A stronger login meets a request for a weaker one: MFA includes the password. Values
    this tenant does not know are voluntary (OIDC Core 3.1.2.1): when none is known, the
    strongest login it has is what it can give, and then that meets the request (an API
    that insists on another level refuses it again: T47).
    """
    if not acr_values:
        return True
    known = [LEVELS.index(value) for value in acr_values if value in LEVELS]
    needed = min(known) if known else len(LEVELS) - 1
    return acr in LEVELS and LEVELS.index(acr) >= needed
