"""Appointment reminders (practice_server/reminders.py) against a real local SMTP server
(aiosmtpd in a thread): English and Spanish, the QR code decodes to a check-in code that
verifies, never sent twice, failures recorded and retried; the printable letter."""

from __future__ import annotations

import base64
import email
import io
import logging
import re
import ssl
import threading
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as pyzbar_decode
from sqlalchemy import select, update

from practice_server import __main__ as cli
from practice_server import practice_keys, reminders, schedule
from practice_server.models import Appointment, CheckinKey, Patient, Reminder
from practice_server.reminders import SmtpSettings
from server_helpers import TZ, add_schedule, site_today
from sync_protocol.checkin_token import checkin_keys_from, expiry_for_day, verify_checkin_token
from tests.e2e.harness import free_port, make_pki

SENDER = "reminders@northside.example"


# -- a local SMTP server --------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every message; can refuse the next N recipients (451)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_next = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return f"451 4.3.0 Mailbox {address} busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, inbox: Inbox, port: int | None = None, **kwargs) -> None:
        self.inbox = inbox
        self.port = port or free_port()
        self.controller = Controller(inbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox):
    with SmtpServer(inbox) as server:
        yield server


def plain(port: int) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, security="plain", timeout=5)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("smtp-pki"))


def tls_context(pki) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    return context


# -- a day at the clinic ----------------------------------------------------------------------------


@pytest.fixture
def key(server, tmp_path) -> practice_keys.SigningKey:
    with server.sessions.begin() as db:
        return practice_keys.load_or_create(db, tmp_path / "checkin.key", datetime.now(UTC))


@pytest.fixture
def day():
    return site_today() + timedelta(days=1)


@pytest.fixture
def clinic(server, site, day) -> list[dict]:
    """Tomorrow: Pat0 (English, $25 copay), Pat1 (Spanish, no copay), Pat2 (no e-mail),
    Pat3 (cancelled), Pat4 (already arrived)."""
    with server.sessions.begin() as db:
        rows = add_schedule(db, site.id, [day], per_day=5, tag="R")
        setup = [("pat0@example.org", "en", 2500, "booked"), ("pat1@example.org", "es", 0, "booked"),
                 ("", "en", None, "booked"), ("pat3@example.org", "en", 4000, "cancelled"),
                 ("pat4@example.org", "en", 4000, "arrived")]
        for row, (address, language, copay, status) in zip(rows, setup, strict=True):
            db.execute(update(Patient).where(Patient.id == row["patient_id"]).values(email=address, language=language))
            db.execute(update(Appointment).where(Appointment.id == row["id"]).values(copay_cents=copay, status=status))
            row.update(email=address, language=language, copay=copay)
    return rows


def send(server, site, day, smtp, key, now=None, **kw) -> reminders.ReminderReport:
    return reminders.send_reminders(server.sessions, site.id, day, smtp, now or datetime.now(UTC), key=key, **kw)


def reminder_rows(server) -> dict[str, Reminder]:
    with server.sessions() as db:
        return {r.appointment_id: r for r in db.scalars(select(Reminder))}


def zbar_decode(image):
    return pyzbar_decode(image, symbols=[ZBarSymbol.QRCODE])


def qr_in(message) -> str:
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    found = zbar_decode(Image.open(io.BytesIO(images[0].get_content())))
    assert len(found) == 1
    return found[0].data.decode("ascii")


def keys_of(server):
    with server.sessions() as db:
        return checkin_keys_from({"checkin_keys": practice_keys.published_keys(db, datetime.now(UTC))})


def by_recipient(inbox) -> dict[str, email.message.EmailMessage]:
    return {str(m["To"]): m for m in inbox.messages}


# -- the e-mails ------------------------------------------------------------------------------------


def test_reminders_in_english_and_spanish_with_a_qr_code_that_verifies(server, site, clinic, day, key,
                                                                         smtp_server, inbox):
    report = send(server, site, day, plain(smtp_server.port), key)
    assert (report.sent, report.failed, report.no_email, report.already) == (2, 0, 1, 0)
    mails = by_recipient(inbox)
    assert set(mails) == {"pat0@example.org", "pat1@example.org"}  # not the cancelled or arrived ones
    rows = reminder_rows(server)
    keys = keys_of(server)
    for row, mail in ((clinic[0], mails["pat0@example.org"]), (clinic[1], mails["pat1@example.org"])):
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        token = qr_in(mail)
        assert token in text.replace("\n", "") and token in html
        checked = verify_checkin_token(token, keys, datetime.now(UTC), site_id=site.id)
        assert checked.appointment_id == row["id"]
        assert checked.expires_at == expiry_for_day(day, TZ)
        assert rows[row["id"]].token_id == checked.token_id and rows[row["id"]].status == "sent"
        payload = base64.b32decode(token.split(".")[1] + "=" * (-len(token.split(".")[1]) % 8))
        for phi in (b"Pat", b"ZyxR", b"example.org", b"1970-01"):
            assert phi not in payload  # the code itself carries ids and times only
        assert mail["From"] == SENDER and mail["Auto-Submitted"] == "auto-generated"
        assert "Dr. Test R" in text and "9:" in text
        images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
        assert f'cid:{str(images[0]["Content-ID"]).strip().strip("<>")}' in html
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)
    english = mails["pat0@example.org"]
    assert english["Subject"].startswith("Appointment reminder:")
    assert english["Content-Language"] == "en"
    body = english.get_body(("plain",)).get_content()
    assert "Hello Pat0," in body and "Your copay for this visit is $25.00." in body
    assert "birth date" in body
    spanish = mails["pat1@example.org"]
    assert spanish["Subject"].startswith("Recordatorio de cita:")
    assert spanish["Content-Language"] == "es"
    cuerpo = spanish.get_body(("plain",)).get_content()
    assert "Hola, Pat1:" in cuerpo and "Esta consulta no tiene copago." in cuerpo
    assert "fecha de nacimiento" in cuerpo and "Hello" not in cuerpo
    with server.sessions() as db:  # the key stays published at least until the codes expire
        assert db.get(CheckinKey, key.key_id).signed_until == expiry_for_day(day, TZ)


def test_no_reminder_is_sent_twice(server, site, clinic, day, key, smtp_server, inbox):
    send(server, site, day, plain(smtp_server.port), key)
    again = send(server, site, day, plain(smtp_server.port), key)
    assert (again.sent, again.failed, again.already) == (0, 0, 2)
    assert len(inbox.messages) == 2


def test_two_runs_at_once_send_each_reminder_once(server, site, clinic, day, key, smtp_server, inbox):
    reports: list = []
    threads = [threading.Thread(target=lambda: reports.append(send(server, site, day, plain(smtp_server.port), key)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(reports) == 3 and sum(r.sent for r in reports) == 2
    assert sorted(str(m["To"]) for m in inbox.messages) == ["pat0@example.org", "pat1@example.org"]


def test_a_refused_recipient_is_recorded_and_retried_next_run(server, site, clinic, day, key, smtp_server, inbox):
    inbox.refuse_next = 1
    first = send(server, site, day, plain(smtp_server.port), key)
    assert (first.sent, first.failed) == (1, 1)  # the other one went out on the same connection
    failed = next(o for o in first.outcomes if o.status == "failed")
    row = reminder_rows(server)[failed.appointment_id]
    assert row.status == "failed" and row.attempts == 1 and row.sent_at is None
    assert row.error == "SMTPRecipientsRefused: recipient refused (SMTP 451)"
    second = send(server, site, day, plain(smtp_server.port), key)
    assert (second.sent, second.failed, second.already) == (1, 0, 1)
    row = reminder_rows(server)[failed.appointment_id]
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert len(inbox.messages) == 2


def test_smtp_server_down_fails_the_batch_quickly_then_it_all_goes_out(server, site, clinic, day, key, inbox, caplog):
    port = free_port()  # nothing listens there yet
    connects = []

    def counting_connect(smtp):
        connects.append(smtp.port)
        return reminders.connect_smtp(smtp)

    with caplog.at_level(logging.INFO):
        down = send(server, site, day, plain(port), key, connect=counting_connect)
    assert (down.sent, down.failed) == (0, 2) and len(connects) == 1  # one try, not one per reminder
    errors = sorted(r.error for r in reminder_rows(server).values())
    assert errors == ["ConnectionRefusedError: Connection refused",
                      "not tried: ConnectionRefusedError: Connection refused"]
    logged = caplog.text
    assert "pat0" not in logged and "Pat0" not in logged and "reminder.failed" in logged
    with SmtpServer(inbox, port=port):
        up = send(server, site, day, plain(port), key)
    assert (up.sent, up.failed) == (2, 0) and len(inbox.messages) == 2


def test_a_bad_address_fails_alone(server, site, clinic, day, key, smtp_server, inbox):
    with server.sessions.begin() as db:
        db.execute(update(Patient).where(Patient.id == clinic[0]["patient_id"]).values(email="pat0 at example"))
    report = send(server, site, day, plain(smtp_server.port), key)
    assert (report.sent, report.failed) == (1, 1)
    error = reminder_rows(server)[clinic[0]["id"]].error
    assert error == "ValueError: the patient's e-mail address is not valid"


def test_a_claim_left_by_a_dead_run_is_taken_over_after_a_while(server, site, clinic, day, key, smtp_server, inbox):
    now = datetime.now(UTC)
    with server.sessions.begin() as db:
        db.add(Reminder(appointment_id=clinic[0]["id"], status="sending", attempts=1,
                        last_attempt_at=now - reminders.STALE_SENDING - timedelta(minutes=1)))
        db.add(Reminder(appointment_id=clinic[1]["id"], status="sending", attempts=1, last_attempt_at=now))
    report = send(server, site, day, plain(smtp_server.port), key, now=now)
    assert (report.sent, report.already) == (1, 1)
    assert [str(m["To"]) for m in inbox.messages] == ["pat0@example.org"]


def test_gives_up_after_max_attempts(server, site, clinic, day, key, smtp_server, inbox):
    with server.sessions.begin() as db:
        db.add(Reminder(appointment_id=clinic[0]["id"], status="failed", attempts=reminders.MAX_ATTEMPTS,
                        last_attempt_at=datetime.now(UTC), error="x"))
    report = send(server, site, day, plain(smtp_server.port), key)
    assert (report.sent, report.already) == (1, 1)


def test_starttls_with_login_verifies_the_server_certificate(server, site, clinic, day, key, inbox, pki):
    logins = []

    def authenticator(smtp_server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    with SmtpServer(inbox, tls_context=tls_context(pki), require_starttls=True, authenticator=authenticator,
                    auth_required=True) as tls_server:
        settings = SmtpSettings(host="127.0.0.1", port=tls_server.port, sender=SENDER, security="starttls",
                                username="clinic", password="s3cret", ca_file=str(pki.ca_cert), timeout=5)
        assert send(server, site, day, settings, key).sent == 2
        assert logins and logins[0] == (b"clinic", b"s3cret")
        # a server whose certificate the practice does not trust gets nothing
        with server.sessions.begin() as db:
            db.execute(update(Reminder).values(status="failed"))
        untrusted = SmtpSettings(host="127.0.0.1", port=tls_server.port, sender=SENDER, security="starttls",
                                 username="clinic", password="s3cret", timeout=5)
        report = send(server, site, day, untrusted, key)
        assert report.failed == 2 and report.sent == 0
        assert all("SSLCertVerificationError" in r.error for r in reminder_rows(server).values())
    assert len(inbox.messages) == 2


def test_implicit_tls(server, site, clinic, day, key, inbox, pki):
    with SmtpServer(inbox, ssl_context=tls_context(pki)) as tls_server:
        settings = SmtpSettings(host="127.0.0.1", port=tls_server.port, sender=SENDER, security="ssl",
                                ca_file=str(pki.ca_cert), timeout=5)
        assert send(server, site, day, settings, key).sent == 2


@pytest.mark.parametrize("settings, words", [
    (dict(security="tls"), "security"),
    (dict(host="smtp.example.org", security="plain", username="u", password="p"), "without TLS"),
    (dict(password="p"), "user name"),
    (dict(sender="not an address"), "not an e-mail address"),
    (dict(port=0), "port"),
])
def test_bad_smtp_settings_are_refused(server, site, clinic, day, key, settings, words):
    base = dict(host="127.0.0.1", port=25, sender=SENDER, security="plain")
    with pytest.raises(ValueError, match=words):
        send(server, site, day, SmtpSettings(**{**base, **settings}), key)


def test_a_day_that_is_over_or_an_unknown_site_is_refused(server, site, key):
    with pytest.raises(ValueError, match="is over"):
        send(server, site, site_today() - timedelta(days=1), plain(25), key)
    with pytest.raises(ValueError, match="no site"):
        reminders.send_reminders(server.sessions, "nope", site_today(), plain(25), datetime.now(UTC), key=key)


@pytest.mark.parametrize("text, expected", [
    ("smtp.example.org:587", ("smtp.example.org", 587)), ("smtp.example.org", ("smtp.example.org", 587)),
    ("127.0.0.1:2525", ("127.0.0.1", 2525)), ("[::1]:25", ("::1", 25)),
])
def test_parse_host_port(text, expected):
    assert reminders.parse_host_port(text) == expected


# -- the letter -------------------------------------------------------------------------------------


@pytest.mark.parametrize("index, language_words", [(0, "Please bring this letter"), (1, "Traiga esta carta")])
def test_letter_is_one_self_contained_page_with_a_qr_code_that_verifies(server, site, clinic, key, index,
                                                                          language_words):
    with server.sessions.begin() as db:
        page = reminders.letter_html(db, clinic[index]["id"], key=key, now=datetime.now(UTC))
    assert page.startswith("<!DOCTYPE html>") and language_words in page
    assert f"Pat{index} ZyxR{index}" in page and "Dr. Test R" in page
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 1
    rest = page.replace(images[0], "")
    assert not re.search(r"(?:https?:)?//|url\(", rest)  # no URL at all, the QR code is inline
    assert "<script" not in rest and "<link" not in rest and "@import" not in rest
    assert len(re.findall(r"\bsrc=", rest)) == 1
    token = zbar_decode(Image.open(io.BytesIO(base64.b64decode(images[0]))))[0].data.decode("ascii")
    assert token in page
    checked = verify_checkin_token(token, keys_of(server), datetime.now(UTC), site_id=site.id)
    assert checked.appointment_id == clinic[index]["id"]


def test_letter_refuses_unknown_cancelled_and_past_appointments(server, site, clinic, key):
    with server.sessions.begin() as db:
        with pytest.raises(LookupError):
            reminders.letter_html(db, "no-such-appointment", key=key, now=datetime.now(UTC))
        with pytest.raises(ValueError, match="cancelled"):
            reminders.letter_html(db, clinic[3]["id"], key=key, now=datetime.now(UTC))
        with pytest.raises(ValueError, match="over"):
            reminders.letter_html(db, clinic[0]["id"], key=key, now=datetime.now(UTC) + timedelta(days=3))


# -- the command line -------------------------------------------------------------------------------


@pytest.fixture
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = False


def test_cli_sends_then_says_they_were_sent_before(server, site, clinic, day, smtp_server, inbox, tmp_path,
                                                   capsys, _restore_logging):
    argv = ["reminders", "send", "--database", server.url, "--site", site.name, "--day", day.isoformat(),
            "--smtp", f"127.0.0.1:{smtp_server.port}", "--smtp-security", "plain", "--from", SENDER,
            "--checkin-key", str(tmp_path / "cli.key")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{site.name} {day.isoformat()}: 2 sent, 0 failed, 1 without an e-mail address" in out
    assert cli.main(argv) == 0
    assert "0 sent, 0 failed, 1 without an e-mail address, 2 sent before" in capsys.readouterr().out
    assert len(inbox.messages) == 2


def test_cli_exits_1_when_a_reminder_failed(server, site, clinic, day, tmp_path, capsys, _restore_logging):
    argv = ["reminders", "send", "--database", server.url, "--day", day.isoformat(),
            "--smtp", f"127.0.0.1:{free_port()}", "--smtp-security", "plain", "--from", SENDER,
            "--checkin-key", str(tmp_path / "cli.key")]
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "2 failed" in out and "Connection refused (tried again next run)" in out and "@" not in out


def test_cli_needs_a_sender_for_a_real_practice(server, tmp_path, capsys, _restore_logging):
    assert cli.main(["reminders", "send", "--database", server.url, "--smtp", "127.0.0.1:25"]) == 2
    assert "--from" in capsys.readouterr().err


def test_cli_letter_prints_html(server, site, clinic, tmp_path, capsys, _restore_logging):
    argv = ["reminders", "letter", clinic[0]["id"], "--database", server.url,
            "--checkin-key", str(tmp_path / "cli.key")]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert cli.main(["reminders", "letter", "nope", "--database", server.url,
                     "--checkin-key", str(tmp_path / "cli.key")]) == 2
    assert "no appointment" in capsys.readouterr().err


def test_cli_checkin_key_shows_and_rotates(server, tmp_path, capsys, _restore_logging):
    base = ["checkin-key", "--database", server.url, "--checkin-key", str(tmp_path / "cli.key")]
    assert cli.main(base) == 0
    first = re.search(r"signing key: (\w+)", capsys.readouterr().out).group(1)
    assert cli.main([*base, "--rotate"]) == 0
    out = capsys.readouterr().out
    second = re.search(r"signing key: (\w+)", out).group(1)
    assert second != first and f"published to kiosks: {second}" in out  # the old one signed nothing
    assert cli.main([*base, "--revoke-old"]) == 2


# -- the catalogs -----------------------------------------------------------------------------------


def test_every_message_has_a_spanish_translation_with_the_same_placeholders():
    extracted = {message for _, message, _, _ in extract_from_file("python", reminders.__file__)}
    assert len(extracted) > 10
    with open(reminders.LOCALES_DIR / "es" / "LC_MESSAGES" / "reminders.po", "rb") as f:
        catalog = read_po(f)
    with open(reminders.LOCALES_DIR / "reminders.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert template == extracted, "run pybabel extract (see docs) to refresh reminders.pot"
    for message in extracted:
        entry = catalog.get(message)
        assert entry is not None and entry.string and not entry.fuzzy, message
        assert set(re.findall(r"{\w+}", entry.string)) == set(re.findall(r"{\w+}", message)), message
    assert reminders.languages() == ("en", "es")
    assert reminders.translations("es").gettext("Date") == "Fecha"
    assert reminders.translations("fr").gettext("Date") == "Date"


def test_a_patient_language_without_a_catalog_gets_english(server, site, clinic, day, key, smtp_server, inbox):
    with server.sessions.begin() as db:
        db.execute(update(Patient).where(Patient.id == clinic[1]["patient_id"]).values(language="fr-CA"))
        schedule.touch_patient(db, clinic[1]["patient_id"], datetime.now(UTC).date())
    send(server, site, day, plain(smtp_server.port), key)
    assert by_recipient(inbox)["pat1@example.org"]["Subject"].startswith("Appointment reminder:")
