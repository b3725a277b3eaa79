"""Signing keys: generated on first start, persisted, published as a JWKS.

The ``kid`` of each key is its RFC 7638 thumbprint. Exactly one key is current (it
signs); the previous one stays published so tokens signed before a rotation verify
until they expire. After a reset (the demo panel's "restore everything") the oldest key
still published signs again; a retired key stays retired.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import g, has_request_context
from joserfc.jwk import KeySet, RSAKey

from . import clock
from .storage import Storage

ALGORITHM = "RS256"
STATE_ORDER = {"current": 0, "previous": 1, "retired": 2}


class SigningKeys:
    def __init__(self, storage: Storage):
        self.storage = storage
        self._parsed: dict[str, RSAKey] = {}

    def ensure_current(self) -> None:
        """Create the first key if there is none (safe when several workers start at once)."""
        self.storage.add_first_signing_key(_new_stored_key, clock.now())
        _forget_rows()

    def rotate(self) -> str:
        """Make a new key current; the old current becomes previous, older ones retire."""
        kid, private_jwk = _new_stored_key()
        self.storage.rotate_signing_keys((kid, private_jwk), clock.now())
        _forget_rows()
        return kid

    def reset(self) -> str:
        """Make the oldest key still published (the first key ever, until a second
        rotation retires it) current again; the keys published after it stay published as
        previous ones. A retired key is never brought back: tokens it signed stay refused
        (a key taken out of use is not made active again, NIST SP 800-57 Part 1 section 7;
        docs/security.md).

        The mock's own addition (the provider has no such call): it lets a workshop undo
        rotations as far as the published keys allow. The next rotation retires every
        previous key, as usual.
        """
        kid = self.storage.reset_signing_keys(_new_stored_key, clock.now())
        _forget_rows()
        return kid

    def current(self) -> RSAKey:
        rows = [row for row in self._rows() if row["state"] == "current"]
        if not rows:
            self.ensure_current()
            rows = [row for row in self._rows() if row["state"] == "current"]
        return self._key(rows[0])

    def published(self) -> KeySet:
        """Every key a token may still carry: the current one and the previous ones."""
        return KeySet([self._key(row) for row in self._rows()])

    def _rows(self) -> list:
        """The current and previous keys, newest first: read once per request (an exchange
        verifies the subject token and signs its answer with the same snapshot), and at
        every call outside a request."""
        if not has_request_context():
            return self.storage.signing_keys()
        if "signing_key_rows" not in g:
            g.signing_key_rows = self.storage.signing_keys()
        return g.signing_key_rows

    def jwks(self) -> dict:
        keys: list[dict] = []
        for key in self.published().keys:
            public: dict = key.as_dict(private=False)
            public.update({"kid": key.kid, "use": "sig", "alg": ALGORITHM})
            keys.append(public)
        return {"keys": keys}

    def describe(self) -> list[dict]:
        """Every key ever used, as the Management API lists them: the current one first (after
        a reset it is the oldest), then the previous ones and the retired ones, newest first."""
        keys = []
        rows = self.storage.signing_keys(states=("current", "previous", "retired"))
        for row in sorted(rows, key=lambda row: STATE_ORDER[row["state"]]):  # stable: newest first within
            public = self._key(row).as_dict(private=False)
            keys.append(
                {
                    "kid": row["kid"],
                    "thumbprint": row["kid"],
                    "current": row["state"] == "current",
                    "previous": row["state"] == "previous",
                    "revoked": row["state"] == "retired",
                    "current_since": _iso(row["created_at"]),
                    "current_until": _iso(row["rotated_at"]) if row["rotated_at"] else None,
                    "jwk": {**public, "kid": row["kid"], "use": "sig", "alg": ALGORITHM},
                }
            )
        return keys

    def _key(self, row) -> RSAKey:
        # Parsing a private key costs more than reading it; parsed keys are kept by kid.
        key = self._parsed.get(row["kid"])
        if key is None:
            key = RSAKey.import_key(json.loads(row["private_jwk"]))
            self._parsed[row["kid"]] = key
        return key


def _forget_rows() -> None:
    """After this request changed the keys, its next use reads them again."""
    if has_request_context():
        g.pop("signing_key_rows", None)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_stored_key() -> tuple[str, str]:
    """A new key as storage keeps it: its kid (the RFC 7638 thumbprint) and private JWK."""
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    assert key.kid is not None  # ensure_kid just set it
    return key.kid, json.dumps(key.as_dict(private=True))
