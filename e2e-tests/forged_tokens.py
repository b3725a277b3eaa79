"""Forging JWTs for the negative-token matrix (test_token_matrix.py): an attacker's keys
and the identity provider's own, and compact tokens built by hand from any header,
claims and signature, with no library in the way to refuse what an attacker would send.

Two kinds of signer:
- the attacker's (an RSA and an EC key, a self-signed certificate, a JWKS served over
  HTTP by ``attacker_host``): for jku, x5u, jwk, x5c and unknown-kid attacks, where a
  service that trusts the header would find a key that verifies;
- the identity provider's current private key, read from its SQLite database: with it a
  token keeps a valid signature while one claim or header field is changed, so each claim
  check is proven on its own, independently of the signature check. Reading the key from
  the provider's storage is something only a test may do; no service can.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def decode_part(token: str, index: int) -> dict:
    """The header (0) or claims (1) of a compact JWT, unverified."""
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def sign(alg: str, key, signing_input: bytes) -> bytes:
    """The JWS signature (RFC 7518 section 3) of ``signing_input`` by ``key`` with ``alg``;
    ``key`` is a cryptography private key, or bytes (the secret) for HS*."""
    if alg.lower() == "none":
        return b""
    digest = HASHES[alg[2:]]()
    if alg.startswith("HS"):
        return hmac.new(key, signing_input, digest.name).digest()
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), digest)
    if alg.startswith("PS"):
        return key.sign(signing_input, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
    if alg.startswith("ES"):  # JWS wants r || s, each the curve's size, not DER
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(digest)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(f"no signer for {alg}")


def compact(header: dict, claims: dict, alg: str, key) -> str:
    """A compact JWS of ``claims`` with ``header`` (its ``alg`` set to ``alg``; a None
    value leaves that field out)."""
    header = {name: value for name, value in {**header, "alg": alg}.items() if value is not None}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    return f"{signing_input}.{b64url(sign(alg, key, signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class ProviderKey:
    """The identity provider's current signing key, as its storage keeps it."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def read(cls, database: Path) -> ProviderKey:
        # mock_idp/storage/signing_keys.py: private JWKs as JSON text, one row 'current'.
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            row = db.execute("SELECT kid, private_jwk FROM signing_keys WHERE state = 'current'").fetchone()
        assert row is not None, f"no current signing key in {database}"
        return cls(row[0], RSAKey.import_key(json.loads(row[1])).private_key)

    @property
    def public_pem(self) -> bytes:
        """The public key as a PEM file holds it: the secret of the HS256 confusion attack."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, header: dict, claims: dict, alg: str = "RS256") -> str:
        """Signed as the provider signs (its kid, ``typ: at+jwt``) unless ``header`` says otherwise."""
        return compact({"typ": "at+jwt", "kid": self.kid, **header}, claims, alg, self.private)


class Attacker:
    """Keys of the attacker's own: an RSA key (with a self-signed certificate) and an EC key."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa_jwk = RSAKey.import_key(self.rsa.public_key())
        self.rsa_jwk.ensure_kid()
        self.kid = self.rsa_jwk.kid
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.example")])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.rsa.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self.rsa, hashes.SHA256())
        )

    @property
    def public_jwk(self) -> dict:
        return {**self.rsa_jwk.as_dict(private=False), "kid": self.kid, "alg": "RS256", "use": "sig"}

    @property
    def jwks(self) -> dict:
        return {"keys": [self.public_jwk]}

    @property
    def x5c(self) -> list[str]:
        """The certificate chain as an x5c header carries it: standard base64 of the DER."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return [base64.b64encode(der).decode("ascii")]

    def token(self, header: dict, claims: dict, alg: str = "RS256") -> str:
        """Signed by the attacker's RSA key (EC for ES*), with its kid unless ``header`` says otherwise."""
        key = self.ec if alg.startswith("ES") else self.rsa
        return compact({"typ": "at+jwt", "kid": self.kid, **header}, claims, alg, key)


@dataclass
class AttackerHost:
    """Where the attacker publishes its keys, and how often anyone came for them."""

    url: str
    requests: list[str]

    @property
    def jwks_uri(self) -> str:
        return self.url + "/jwks.json"

    @property
    def certificate_url(self) -> str:
        return self.url + "/certificate.pem"


@contextmanager
def attacker_host(attacker: Attacker) -> Iterator[AttackerHost]:
    """An HTTP server on 127.0.0.1 serving the attacker's JWKS and certificate, so a
    service that followed jku or x5u would find a key that verifies the forged token."""
    files = {
        "/jwks.json": ("application/json", json.dumps(attacker.jwks).encode()),
        "/certificate.pem": (
            "application/pem-certificate-chain",
            attacker.certificate.public_bytes(serialization.Encoding.PEM),
        ),
    }
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            content_type, body = files.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet: the test reads ``requests`` instead
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AttackerHost(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


def hs256_with_public_key(provider: ProviderKey, claims: dict) -> str:
    """The algorithm-confusion attack: HS256 keyed with the provider's public key (PEM)."""
    return compact({"typ": "at+jwt", "kid": provider.kid}, claims, "HS256", provider.public_pem)


def altered_signature(token: str) -> str:
    """The token with one signature byte changed (the first, so no padding bit hides it)."""
    head, _, signature = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{head}.{b64url(bytes(raw))}"


def with_claims_keeping_signature(token: str, changes: dict) -> str:
    """The token's claims changed (e.g. another ``sub``), its header and signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url_json({**decode_part(token, 1), **changes})}.{signature}"
