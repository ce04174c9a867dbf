"""The practice PKI: files and modes, never overwriting the CA, and real TLS handshakes."""
from __future__ import annotations

import socket
import ssl
import stat

import pytest
import requests
from cryptography import x509

from provisioning.cli import main
from provisioning.errors import ProvisioningError
from provisioning.pki import fingerprint, init_pki, is_ca, load_cert_file
from provisioning.tls_trust import ca_from_fingerprint


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_pki_writes_ca_and_full_chain_with_private_modes(tmp_path, capsys):
    assert main(["init-pki", "--dir", str(tmp_path / "pki"), "--hostname", "practice.local", "--ip", "127.0.0.1"]) == 0
    out = capsys.readouterr().out
    d = tmp_path / "pki"
    assert mode(d / "ca.key") == 0o600 and mode(d / "server.key") == 0o600
    ca = load_cert_file(d / "ca.pem")
    assert is_ca(ca) and fingerprint(ca) in out
    chain = x509.load_pem_x509_certificates((d / "server.pem").read_bytes())
    assert len(chain) == 2 and chain[1] == ca  # leaf first, then the CA: kiosks pin the CA by hash
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["practice.local"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_init_pki_never_overwrites_the_ca_key(tmp_path, capsys):
    d = tmp_path / "pki"
    init_pki(d, ["localhost"])
    before = (d / "ca.key").read_bytes(), (d / "ca.pem").read_bytes()
    assert main(["init-pki", "--dir", str(d), "--hostname", "localhost"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: a practice CA key already exists") and "--reuse-ca" in err
    assert "Traceback" not in err
    assert ((d / "ca.key").read_bytes(), (d / "ca.pem").read_bytes()) == before
    # --reuse-ca: same CA, new server certificate for a new name
    old_server = (d / "server.pem").read_bytes()
    init_pki(d, ["practice.example.org"], reuse_ca=True)
    assert ((d / "ca.key").read_bytes(), (d / "ca.pem").read_bytes()) == before
    assert (d / "server.pem").read_bytes() != old_server


def test_init_pki_needs_a_name(tmp_path, capsys):
    assert main(["init-pki", "--dir", str(tmp_path)]) == 2
    assert "--hostname" in capsys.readouterr().err


def test_real_tls_handshake_requests_and_stdlib_ssl(pki, tls_hello_server, no_proxy):
    # requests (urllib3) trusting only the practice CA, by IP and by name
    assert requests.get(tls_hello_server.url + "/hello", verify=str(pki.ca_cert), timeout=5).json() == {"hello": "world"}
    by_name = tls_hello_server.url.replace("127.0.0.1", "localhost")
    assert requests.get(by_name + "/hello", verify=str(pki.ca_cert), timeout=5).status_code == 200
    # Python's ssl with hostname checking, the way the sync agent will connect
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    with socket.create_connection(("127.0.0.1", tls_hello_server.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.getpeercert()["subject"]


def test_tls_handshake_fails_with_another_ca_or_name(other_pki, pki, tls_hello_server, no_proxy):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_hello_server.url + "/hello", verify=str(other_pki.ca_cert), timeout=5)
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    with socket.create_connection(("127.0.0.1", tls_hello_server.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(raw, server_hostname="not-the-server.example")


def test_ca_found_by_fingerprint_in_the_presented_chain(pki, other_pki, tls_hello_server):
    pin = fingerprint(load_cert_file(pki.ca_cert))
    assert ca_from_fingerprint(tls_hello_server.url, pin, 5) == pki.ca_cert.read_bytes()
    wrong = fingerprint(load_cert_file(other_pki.ca_cert))
    with pytest.raises(ProvisioningError, match="did not present the practice CA"):
        ca_from_fingerprint(tls_hello_server.url, wrong, 5)
    # the leaf's own fingerprint matches a certificate, but not a CA: refused
    leaf = x509.load_pem_x509_certificates(pki.server_cert.read_bytes())[0]
    with pytest.raises(ProvisioningError, match="not a CA"):
        ca_from_fingerprint(tls_hello_server.url, fingerprint(leaf), 5)
