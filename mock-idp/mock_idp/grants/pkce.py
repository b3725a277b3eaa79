"""PKCE (RFC 7636) as this tenant requires it: a challenge on every login, S256 only (T04),
and a verifier that matches it (T03)."""

from __future__ import annotations

import hmac
from typing import ClassVar

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from typing_extensions import override

from ..errors import InvalidGrant, InvalidRequest


def _s256_matches(code_verifier: str, code_challenge: str) -> bool:
    return hmac.compare_digest(create_s256_code_challenge(code_verifier), code_challenge)


class RequireS256(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict] = {"S256": _s256_matches}
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def __init__(self):
        super().__init__(required=True)

    @override
    def __call__(self, grant):
        # The challenge is checked inside Authlib's /authorize validation, so as its hook;
        # the verifier is a step of AuthorizationCodeGrant.validate_token_request.
        grant.register_hook("after_validate_authorization_request_payload", self.validate_code_challenge)

    @override
    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequest("Missing required parameter: code_challenge (PKCE is required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequest("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    @override
    def validate_code_verifier(self, grant, result):
        # Wrong, missing, or unexpected verifier: one answer, so nothing is learnt from it.
        try:
            super().validate_code_verifier(grant, result)
        except (InvalidRequestError, InvalidGrantError):
            raise InvalidGrant("Failed to verify code verifier") from None


PKCE = RequireS256()
