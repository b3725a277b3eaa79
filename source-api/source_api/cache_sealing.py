"""Sealing the token cache's entries: AES-GCM under a key derived from
SOURCE_API_TOKEN_CACHE_KEY with HKDF, the entry's Redis key as associated data.

Whoever reads Redis (a dump, a replica of it, a backup) sees no token. The associated data
binds each value to its entry: a value copied under another user's key does not open, so
it can never be served as that user's token.
"""

from __future__ import annotations

import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
# Named purposes: a key derived for one never opens what another sealed.
ENTRY_PURPOSE = b"source-api target token cache entry v1"


class Unsealable(Exception):
    """A value that is not one this secret sealed for this key (corrupted, or another secret)."""


class Sealer:
    def __init__(self, secret: str, purpose: bytes = ENTRY_PURPOSE):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, value: dict, bound_to: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":")).encode()
        return nonce + self._aead.encrypt(nonce, plain, bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> dict:
        if len(sealed) <= NONCE_BYTES:
            raise Unsealable("too short")
        try:
            plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to.encode())
            value = json.loads(plain)
        except (InvalidTag, ValueError) as error:
            raise Unsealable(type(error).__name__) from None
        if not isinstance(value, dict):
            raise Unsealable("not an object")
        return value
