"""An https issuer for the local stack: a local certificate authority and mock-idp's certificate.

Every real tenant is https, and some clients accept nothing else (the provider's own SDK
among them). With an https issuer (``OIDC_ISSUER=https://localhost:9000/``), mock-idp
serves TLS with a certificate for the issuer's host, signed by a CA made here on first use
and kept in ``<run folder>/tls/``: ``ca.pem`` is what a person's tools trust
(``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE``), ``trust.pem`` is the usual public roots plus
that CA, which the three other services are given, so they trust the CA in addition to
what they trusted before. Verification is never turned off anywhere.

The CA's key never leaves the folder (mode 0600); delete the folder to start over, and
trust the new ``ca.pem`` again.

In containers (``for_containers``, called by ``make up`` through compose_env.py) the
same folder is mounted read-only at ``/tls`` by docker-compose.https.yml: mock-idp serves
TLS with its certificate, the others trust ``trust.pem``, and the back ends reach the
provider as ``mock-idp``, which the certificate names too.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from local_stack.launcher import Service

CA_NAME = "ca.pem"
TRUST_NAME = "trust.pem"
SERVER_NAME, SERVER_KEY_NAME = "mock-idp.pem", "mock-idp-key.pem"
# The name the containers reach the provider by (docker-compose.yml's service name).
COMPOSE_HOST = "mock-idp"
CA_DAYS = 3650
SERVER_DAYS = 825  # the longest a browser accepts for a server certificate
RENEW_BEFORE = datetime.timedelta(days=30)
# What a terminal tool says when the issuer's certificate is not trusted.
TRUST_HINT = (
    "the identity provider's certificate is not trusted: name the local CA, e.g. "
    "export SSL_CERT_FILE=$PWD/.run/tls/ca.pem REQUESTS_CA_BUNDLE=$PWD/.run/tls/ca.pem "
    "CURL_CA_BUNDLE=$PWD/.run/tls/ca.pem "
    "(docs/configuration.md, An https issuer)"
)


def is_https(issuer: str) -> bool:
    return urlsplit(issuer).scheme == "https"


def secure(services: list[Service], issuer: str, folder: Path) -> list[Service]:
    """The services as given for an http issuer; for an https one, mock-idp serving TLS
    (``scheme`` https) and every service trusting the local CA in addition to the rest."""
    if not is_https(issuer):
        return services
    tls = folder / "tls"
    host = urlsplit(issuer).hostname or "localhost"
    certificate, key = server_certificate(tls, host)
    trust = trust_bundle(tls)
    trusting = {"REQUESTS_CA_BUNDLE": str(trust), "SSL_CERT_FILE": str(trust)}
    secured = []
    for service in services:
        env = {**service.env, **trusting}
        if service.name == "mock-idp":
            # gunicorn reads GUNICORN_CMD_ARGS beside its config file: TLS for this one only.
            env["GUNICORN_CMD_ARGS"] = f"--certfile={certificate} --keyfile={key}"
            secured.append(replace(service, env=env, scheme="https"))
        else:
            secured.append(replace(service, env=env))
    return secured


def for_containers(issuer: str, folder: Path) -> Path:
    """The TLS folder docker-compose.https.yml mounts, made ready: mock-idp's certificate
    (for the issuer's host and ``mock-idp``) and ``trust.pem``. The certificate's key is
    made readable to the container's user, another uid than the folder's owner; the CA's
    key keeps mode 0600, so no container can read it."""
    tls = folder / "tls"
    _, key = server_certificate(tls, urlsplit(issuer).hostname or "localhost")
    trust_bundle(tls)
    key.chmod(0o644)
    tls.chmod(0o755)  # the mount point itself, whatever the umask
    return tls


def certificate_authority(tls: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The local CA, made on first use: ``ca.pem`` and its key ``ca-key.pem`` (0600)."""
    cert_path, key_path = tls / CA_NAME, tls / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and _valid_for(certificate, RENEW_BEFORE):
            return certificate, key
    tls.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "On-Behalf-Of demo local CA")])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def server_certificate(tls: Path, host: str) -> tuple[Path, Path]:
    """mock-idp's certificate for ``host`` (plus localhost, mock-idp and 127.0.0.1), signed
    by the local CA; made again when missing, for another host or CA, or near its end."""
    ca, ca_key = certificate_authority(tls)
    cert_path, key_path = tls / SERVER_NAME, tls / SERVER_KEY_NAME
    names = sorted({host, "localhost", COMPOSE_HOST})
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if (
            current.issuer == ca.subject
            and _signed_by(current, ca)
            and sorted(sans.get_values_for_type(x509.DNSName)) == names
            and _valid_for(current, RENEW_BEFORE)
        ):
            return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    alternative: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alternative.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def trust_bundle(tls: Path) -> Path:
    """The public roots the services trusted before (certifi's), plus the local CA."""
    ca, _ = certificate_authority(tls)
    path = tls / TRUST_NAME
    path.write_text(Path(certifi.where()).read_text() + "\n" + ca.public_bytes(serialization.Encoding.PEM).decode())
    return path


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def _signed_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid_for(certificate: x509.Certificate, margin: datetime.timedelta) -> bool:
    return certificate.not_valid_after_utc - margin > _now()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
