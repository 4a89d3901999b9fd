"""Mail delivery over SMTP, checked with aiosmtpd (an independent SMTP server) on 127.0.0.1:
plain SMTP, STARTTLS with AUTH against a certificate made by the openssl CLI, retries while the
server is down, and the queue surviving kill -9 (a mail acknowledged by a committed change is
never lost). Without SMTP_HOST the outbox directory is used (covered by the other auth tests).
"""
from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from auth_helpers import AUTH_ENV, post, query, register, unique_email
from conftest import free_port

SMTP_USER = "mailer"
SMTP_PASS = "s3cret-smtp-password"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list = []
        self.logins: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "msg": msg,
                                  "tls": session.ssl is not None, "login": session.login_data})
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASS.encode()
    return AuthResult(success=ok)


def start_smtp(port: int, tls_files=None) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    kw = {}
    if tls_files:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*tls_files)
        kw = {"tls_context": ctx, "require_starttls": True, "authenticator": authenticator,
              "auth_require_tls": True, "auth_required": True}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10, **kw)
    controller.start()
    return controller, inbox


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def forgot(server, addr: str):
    r = post(server, "/api/auth/forgot-password", {"email": addr})
    assert r.status_code == 200, r.text


def test_plain_smtp_delivers_and_the_outbox_stays_empty(launch):
    port = free_port()
    controller, inbox = start_smtp(port)
    try:
        server = launch("auth-server", env={**AUTH_ENV, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                                            "SMTP_STARTTLS": "false", "SMTP_FROM": "Panguard <auth@example.org>"})
        addr = unique_email()
        register(server, addr)
        forgot(server, addr)
        got = inbox.wait_for(2)
        assert [m["msg"]["X-Panguard-Mail"] for m in got] == ["verify-email", "reset-password"]
        reset = got[1]
        assert reset["from"] == "auth@example.org" and reset["to"] == [addr]
        assert reset["msg"]["To"] == addr and reset["msg"]["Subject"] == "Reset your Panguard password"
        assert "/reset-password?token=" in reset["msg"].get_content()
        assert not (server.data_dir / "outbox").exists() or not list((server.data_dir / "outbox").iterdir())
        # Delivered mails keep no body (it held a live reset link).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and query(server, "SELECT 1 FROM mail_queue WHERE sent_at IS NULL"):
            time.sleep(0.05)
        rows = query(server, "SELECT kind, sent_at, body FROM mail_queue ORDER BY id")
        assert [(r["kind"], r["body"]) for r in rows] == [("verify-email", ""), ("reset-password", "")]
        assert all(r["sent_at"] for r in rows)
    finally:
        controller.stop()


def test_starttls_with_auth_verifies_the_server_certificate(launch, certificate):
    port = free_port()
    controller, inbox = start_smtp(port, certificate)
    try:
        env = {**AUTH_ENV, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_USER": SMTP_USER,
               "SMTP_PASS": SMTP_PASS, "SMTP_CA_FILE": str(certificate[0])}
        server = launch("auth-server", env=env)
        addr = unique_email()
        register(server, addr)
        got = inbox.wait_for(1)
        assert len(got) == 1 and got[0]["tls"] and got[0]["to"] == [addr]
        assert got[0]["msg"]["X-Panguard-Mail"] == "verify-email"
    finally:
        controller.stop()


@pytest.mark.parametrize("problem", ["untrusted certificate", "wrong password"])
def test_a_refused_delivery_stays_queued_with_its_reason(launch, certificate, problem):
    port = free_port()
    controller, inbox = start_smtp(port, certificate)
    try:
        env = {**AUTH_ENV, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_USER": SMTP_USER,
               "SMTP_PASS": SMTP_PASS, "SMTP_CA_FILE": str(certificate[0]), "MAIL_RETRY_BASE_S": "3600",
               "SMTP_TIMEOUT_S": "3"}
        if problem == "untrusted certificate":
            del env["SMTP_CA_FILE"]
        else:
            env["SMTP_PASS"] = "not-the-password"
        server = launch("auth-server", env=env)
        register(server, unique_email())  # the request succeeds: the mail waits in the queue
        sql = "SELECT attempts, sent_at, last_error, length(body) AS n FROM mail_queue"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not query(server, sql + " WHERE attempts > 0"):
            time.sleep(0.1)
        rows = query(server, sql)
        assert len(rows) == 1 and rows[0]["attempts"] == 1 and rows[0]["sent_at"] is None
        assert rows[0]["last_error"] and rows[0]["n"] > 0
        assert inbox.messages == []
    finally:
        controller.stop()


def test_mail_waits_for_the_server_and_survives_kill_9(launch):
    port = free_port()  # nothing listens yet
    env = {**AUTH_ENV, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false",
           "MAIL_RETRY_BASE_S": "1", "SMTP_TIMEOUT_S": "2"}
    server = launch("auth-server", env=env)
    first, second = unique_email("first"), unique_email("second")
    register(server, first)
    server.process.kill()  # kill -9 with the mail only in the queue
    server.process.wait(timeout=10)

    again = launch("auth-server", env=env, data_dir=server.data_dir)
    register(again, second)
    assert {r["recipient"] for r in query(again, "SELECT recipient FROM mail_queue WHERE sent_at IS NULL")} == {
        first, second}
    controller, inbox = start_smtp(port)
    try:
        got = inbox.wait_for(2, timeout=30)
        assert sorted(m["to"][0] for m in got) == sorted([first, second])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and query(again, "SELECT 1 FROM mail_queue WHERE sent_at IS NULL"):
            time.sleep(0.1)
        assert not query(again, "SELECT 1 FROM mail_queue WHERE sent_at IS NULL")
    finally:
        controller.stop()
