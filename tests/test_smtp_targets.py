"""SMTP email under the target policy, as Ping URL and Slack: a custom host and the project's
default connection are resolved, every address checked, and the checked address connected to
(TLS still verifying the host name); a refused target is refused before any connection."""
import socket

import pytest
from aiosmtpd.controller import Controller

from optintel import secrets
from optintel.actions.base import Work
from optintel.actions.smtp import SmtpEmail
from optintel.actions.target_policy import TargetPolicy
from optintel.models import DeliveryStatus

from conftest import SmtpServer, free_port, tls_certificates
from test_pipeline_faults import add_emails, attempts_of, project_settings, settled

MESSAGE = {"from": "alerts@optintel.example", "to": ["dpo@example.com"],
           "subject": "Opt-out {{contact}}", "body": "{{contact}} opted out."}
RELAY = {"username": "relay", "password": "relay-pa55"}


def custom(host, port, **settings):
    return {**MESSAGE, "connection": "custom", "host": host, "port": port, "security": "none",
            **RELAY, **settings}


def default_connection(port):
    project_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                     smtp_username="relay", smtp_password_encrypted=secrets.encrypt("relay-pa55"),
                     smtp_from="alerts@optintel.example")


@pytest.fixture
def listener():
    """A bare TCP socket listening on loopback, to tell whether anything connected to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


def connected(sock):
    try:
        sock.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def test_private_smtp_targets_are_refused_before_any_connection(
        make_workers, api, smtp_server, listener, make_list, make_rule):
    smtp_server.credentials = {"relay": "relay-pa55"}
    # An SMTP server, a port that accepts and never answers, a closed port, a name, the default.
    ports = {"open": smtp_server.port, "silent": listener.getsockname()[1], "closed": free_port()}
    for port in ports.values():
        make_rule("smtp", custom("127.0.0.1", port))
    make_rule("smtp", custom("localhost", smtp_server.port))
    default_connection(smtp_server.port)
    make_rule("smtp", {**MESSAGE, "connection": "default"})
    make_workers(OPTINTEL_ALLOW_PRIVATE_TARGETS=0).start(1)
    add_emails(api, make_list(), "first@example.com")

    refused = settled(5, (DeliveryStatus.FAILED,))
    errors = []
    for delivery in refused:
        [attempt] = attempts_of(delivery.id)  # refused for good: no retry
        assert attempt.response_status is None and attempt.request["password"] == "********"
        # Nothing waited on a port: a silent one would have held the attempt for 30 s.
        assert attempt.duration_ms < 1000
        errors.append(attempt.error)
    # The same words whichever port, open, silent or closed: nothing to learn of it.
    assert sorted(set(errors)) == [
        "127.0.0.1 is not a public address; requests to it are refused.",
        "localhost resolves to 127.0.0.1, which is not a public address; requests to it are "
        "refused."]
    assert errors.count("127.0.0.1 is not a public address; requests to it are refused.") == 4
    assert smtp_server.messages == [] and smtp_server.logins == [] and not connected(listener)


def test_allowed_networks_let_custom_and_default_smtp_through(
        make_workers, api, smtp_server, make_list, make_rule):
    smtp_server.credentials = {"relay": "relay-pa55"}
    make_rule("smtp", custom("localhost", smtp_server.port, subject="Custom {{contact}}"))
    default_connection(smtp_server.port)
    make_rule("smtp", {**MESSAGE, "connection": "default", "subject": "Default {{contact}}"})
    project_settings(allowed_target_cidrs="10.0.0.0/8\n127.0.0.0/8")
    make_workers(OPTINTEL_ALLOW_PRIVATE_TARGETS=0).start(1)
    add_emails(api, make_list(), "second@example.com")

    settled(2, (DeliveryStatus.SUCCEEDED,))
    assert sorted(m.message["Subject"] for m in smtp_server.messages) == [
        "Custom second@example.com", "Default second@example.com"]
    assert smtp_server.logins == ["relay", "relay"]


# TLS: the checked address is connected to, the certificate is verified against the host name.

@pytest.fixture(params=["starttls", "tls"])
def tls_smtp_server(request, tmp_path, monkeypatch):
    """(security, SmtpServer) speaking STARTTLS or TLS with a certificate for localhost, which
    the process trusts through SSL_CERT_FILE."""
    ca_file, context = tls_certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = SmtpServer()
    tls = {"tls_context": context} if request.param == "starttls" else {"ssl_context": context}
    server.controller = Controller(server, hostname="127.0.0.1", port=server.port, **tls)
    server.controller.start()
    yield request.param, server
    server.controller.stop()


def _attempt(host, port, security):
    settings = {**custom(host, port, security=security), "username": "", "password": ""}
    work = Work(1, 1, settings, {"contact": "ann@example.com"}, {},
                TargetPolicy.from_settings(False, "127.0.0.0/8"))
    return SmtpEmail().execute(work)


def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(tls_smtp_server):
    security, server = tls_smtp_server
    by_name = _attempt("localhost", server.port, security)
    assert by_name.succeeded, by_name.error
    assert [m.message["Subject"] for m in server.messages] == ["Opt-out ann@example.com"]
    # The certificate names localhost, not 127.0.0.1: reached by address, it does not verify.
    by_address = _attempt("127.0.0.1", server.port, security)
    assert not by_address.succeeded and "certificate verify failed" in by_address.error
    assert len(server.messages) == 1
