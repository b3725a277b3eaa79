"""The local CA and mock-idp's certificate for an https issuer (local_stack/local_tls.py)."""

from __future__ import annotations

import ssl

from cryptography import x509

from local_stack import local_tls
from local_stack.launcher import default_services


def test_an_http_issuer_changes_nothing(tmp_path):
    services = default_services()
    assert local_tls.secure(services, "http://localhost:9000/", tmp_path) == services
    assert not (tmp_path / "tls").exists()


def test_an_https_issuer_serves_mock_idp_over_tls_and_every_service_trusts_the_ca(tmp_path):
    services = local_tls.secure(default_services(), "https://localhost:9000/", tmp_path)

    by_name = {service.name: service for service in services}
    assert by_name["mock-idp"].url == "https://localhost:9000"
    assert "--certfile=" in by_name["mock-idp"].env["GUNICORN_CMD_ARGS"]
    assert all(service.scheme == "http" for name, service in by_name.items() if name != "mock-idp")
    trust = tmp_path / "tls" / "trust.pem"
    assert all(service.env["REQUESTS_CA_BUNDLE"] == str(trust) for service in services)
    # Added to the public roots, not in their place.
    assert trust.read_text().count("BEGIN CERTIFICATE") > 100
    assert (tmp_path / "tls" / "ca.pem").read_text() in trust.read_text()


def test_the_certificate_verifies_against_the_ca_for_the_issuers_host(tmp_path):
    certificate, key = local_tls.server_certificate(tmp_path, "localhost")

    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    context.load_cert_chain(certificate, key)  # the key matches the certificate
    leaf = x509.load_pem_x509_certificate(certificate.read_bytes())
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "ca-key.pem").stat().st_mode & 0o777) == "0o600"


def test_the_ca_is_made_once_and_the_certificate_again_for_another_host(tmp_path):
    first, _ = local_tls.server_certificate(tmp_path, "localhost")
    ca = (tmp_path / "ca.pem").read_bytes()
    leaf = first.read_bytes()

    assert local_tls.server_certificate(tmp_path, "localhost")[0].read_bytes() == leaf
    other, _ = local_tls.server_certificate(tmp_path, "idp.localtest.me")

    assert (tmp_path / "ca.pem").read_bytes() == ca  # people who trust it keep trusting it
    names = x509.load_pem_x509_certificate(other.read_bytes()).extensions
    sans = names.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sans == ["idp.localtest.me", "localhost", "mock-idp"]


def test_for_containers_names_the_compose_host_and_shares_the_server_key_but_never_the_cas(tmp_path):
    tls = local_tls.for_containers("https://localhost:9000/", tmp_path)

    assert tls == tmp_path / "tls"
    leaf = x509.load_pem_x509_certificate((tls / "mock-idp.pem").read_bytes())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    # The back ends reach the provider as mock-idp, the healthcheck at 127.0.0.1.
    assert {"localhost", "mock-idp"} <= set(names.get_values_for_type(x509.DNSName))
    assert [str(address) for address in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ssl.create_default_context(cafile=str(tls / "trust.pem")).load_cert_chain(
        tls / "mock-idp.pem", tls / "mock-idp-key.pem"
    )
    # The container's user is another uid: it reads the server key, never the CA's.
    assert oct((tls / "mock-idp-key.pem").stat().st_mode & 0o777) == "0o644"
    assert oct((tls / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    assert (tls / "ca.pem").read_text() in (tls / "trust.pem").read_text()
