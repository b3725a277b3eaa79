"""Users' passwords and clients' secrets as they are kept at rest: hashed, never clear.

Passwords get scrypt, a slow and memory-hard hash, since people choose guessable ones:
``$scrypt$ln=14,r=8,p=1$<salt>$<hash>`` (base64, a random salt per value). Client secrets
get a salted SHA-256, ``$sha256$<salt>$<digest>``: a secret is checked on every token
request, and one generated for a client is random enough (>= 128 bits) that a slow hash
would add cost without making it any harder to guess. Verifying compares in constant time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

DEFAULT_PASSWORD_COST = 14  # log2 of scrypt's N: 16 MiB of memory per hash with r=8
_SCRYPT = re.compile(r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([A-Za-z0-9+/]{22,}={0,2})\$([A-Za-z0-9+/]{43}=)")
_SHA256 = re.compile(r"\$sha256\$([A-Za-z0-9+/]{22,}={0,2})\$([A-Za-z0-9+/]{43}=)")
# Bounds on a hash given in the tenant file or through the Management API: verifying one
# must not take seconds or more memory than hashlib allows.
_MAX_COST, _MAX_R, _MAX_P = 16, 8, 4


def is_password_hash(value: str) -> bool:
    match = _SCRYPT.fullmatch(value)
    return match is not None and _scrypt_bounds_ok(*map(int, match.groups()[:3]))


def is_secret_hash(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))


def looks_hashed(value: str) -> bool:
    """A value in one of the hashed forms (well-formed or not): never hashed again."""
    return value.startswith(("$scrypt$", "$sha256$"))


def hash_password(password: str, cost: int = DEFAULT_PASSWORD_COST) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, cost, 8, 1)
    return f"$scrypt$ln={cost},r=8,p=1${_b64(salt)}${_b64(digest)}"


def verify_password(stored: str, password: str) -> bool:
    match = _SCRYPT.fullmatch(stored)
    if not match:
        return False
    cost, r, p = map(int, match.groups()[:3])
    if not _scrypt_bounds_ok(cost, r, p):
        return False
    digest = _scrypt(password, base64.b64decode(match[4]), cost, r, p)
    return hmac.compare_digest(digest, base64.b64decode(match[5]))


def verify_no_password(password: str, cost: int = DEFAULT_PASSWORD_COST) -> bool:
    """The same work as a real check, for an unknown email: its answer takes as long."""
    verify_password(_dummy_hash(cost), password)
    return False


def hash_client_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    return f"$sha256${_b64(salt)}${_b64(hashlib.sha256(salt + secret.encode()).digest())}"


def verify_client_secret(stored: str, secret: str) -> bool:
    parts = _secret_hash_parts(stored)
    if parts is None:
        return False
    salt, expected = parts
    return hmac.compare_digest(hashlib.sha256(salt + secret.encode()).digest(), expected)


@functools.lru_cache(maxsize=256)
def _secret_hash_parts(stored: str) -> tuple[bytes, bytes] | None:
    """The salt and the digest of a stored client secret hash, decoded once: a secret is
    checked on every token request. The hashes are those of the tenant (no secret)."""
    match = _SHA256.fullmatch(stored)
    return (base64.b64decode(match[1]), base64.b64decode(match[2])) if match else None


def hash_secrets(document: dict, password_cost: int = DEFAULT_PASSWORD_COST) -> dict:
    """A copy of a tenant document whose clear passwords and client secrets are hashed.

    Only strings that the tenant model would accept (8 characters or more) are hashed, so
    a too-short one is still refused naming its field; a hashed form is kept as it is.
    """
    document = dict(document)
    for key, field, hasher in (
        ("users", "password", functools.partial(hash_password, cost=password_cost)),
        ("clients", "client_secret", hash_client_secret),
    ):
        items = document.get(key)
        if isinstance(items, list):
            document[key] = [_hashed(item, field, hasher) for item in items]
    return document


def has_clear_secrets(document: dict) -> bool:
    for key, field in (("users", "password"), ("clients", "client_secret")):
        for item in document.get(key) or []:
            if isinstance(item, dict) and _is_clear(item.get(field)):
                return True
    return False


def _hashed(item, field, hasher):
    if isinstance(item, dict) and _is_clear(item.get(field)):
        return {**item, field: hasher(item[field])}
    return item


def _is_clear(value) -> bool:
    return isinstance(value, str) and len(value) >= 8 and not looks_hashed(value)


def _scrypt_bounds_ok(cost: int, r: int, p: int) -> bool:
    return 1 <= cost <= _MAX_COST and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P


def _scrypt(password: str, salt: bytes, cost: int, r: int, p: int) -> bytes:
    n = 2**cost
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 2**20, dklen=32)


@functools.cache
def _dummy_hash(cost: int) -> str:
    return hash_password(secrets.token_urlsafe(16), cost)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
