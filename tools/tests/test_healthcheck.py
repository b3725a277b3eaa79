"""The containers' healthcheck (obo_serving.healthcheck) over TLS: HEALTHCHECK_SCHEME=https,
the certificate checked against SSL_CERT_FILE, as mock-idp's behind docker-compose.https.yml."""

from __future__ import annotations

import http.server
import ssl
import threading

import pytest

from local_stack import local_tls
from obo_serving import healthcheck


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    tls = local_tls.for_containers("https://localhost:9000/", tmp_path)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Healthz)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls / "mock-idp.pem", tls / "mock-idp-key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], tls
    finally:
        server.shutdown()
        server.server_close()


def test_https_with_the_trust_bundle_is_healthy(tls_server, monkeypatch):
    port, tls = tls_server
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls / "trust.pem"))
    monkeypatch.setenv("HEALTHCHECK_SCHEME", "https")

    assert healthcheck.main() == 0


def test_plain_http_against_tls_or_an_untrusted_certificate_is_not(tls_server, monkeypatch, tmp_path):
    port, _ = tls_server
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("HEALTHCHECK_SCHEME", "http")
    assert healthcheck.main() == 1

    other_ca = local_tls.for_containers("https://localhost:9000/", tmp_path / "other") / "ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    monkeypatch.setenv("HEALTHCHECK_SCHEME", "https")
    assert healthcheck.main() == 1  # verification stays on


def test_another_scheme_is_refused_with_a_message(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("HEALTHCHECK_SCHEME", "ftp")

    assert healthcheck.main() == 1
    assert "http or https" in capsys.readouterr().err
