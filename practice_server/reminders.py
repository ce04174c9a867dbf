"""Appointment reminders by e-mail, and printable appointment letters, each carrying
the appointment's check-in QR code.

The code (sync_protocol/checkin_token.py) is signed with the practice's check-in key
(practice_keys.py), bound to the appointment and its site, valid until the end of the
appointment day in the site's time zone, and holds no PHI. The e-mail goes to the
patient's own address, so it names the patient, the time and the clinician; it is
plain text plus HTML in the patient's language (gettext catalogs in
practice_server/locales, English and Spanish), with the QR code as an inline PNG
and the code as text for the front desk.

`send_reminders` sends one e-mail per booked appointment of a day whose patient has
an address. Each reminder is a `reminders` row: claimed ("sending") and committed
before the SMTP conversation, then "sent" or "failed" — so a reminder is never sent
twice by two runs, and a failed one (server down, refused, bad address) is tried
again by the next run (up to MAX_ATTEMPTS). One reminder's failure never stops the
batch. Recorded errors and logs hold the error class and SMTP code only, never an
address or a server's reply text (which often quotes the address).

`letter_html` is the same content as a self-contained page to print (the QR code as a
data: URI, no external resource).
"""

from __future__ import annotations

import base64
import gettext
import html
import io
import ipaddress
import logging
import smtplib
import ssl
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path

import qrcode
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sync_protocol.checkin_token import expiry_for_day, make_checkin_token, new_token_id

from . import practice_keys, schedule
from .models import Appointment, Clinician, Patient, Reminder, Site
from .practice_keys import SigningKey

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
TEMPLATES_DIR = Path(__file__).resolve().parent / "reminder_templates"
DOMAIN = "reminders"
SOURCE_LANGUAGE = "en"
BABEL_LOCALES = {"en": "en_US", "es": "es_US"}
CURRENCY = "USD"
SENDING, SENT, FAILED = "sending", "sent", "failed"
MAX_ATTEMPTS = 8
# A claim older than this whose run never finished (killed mid-send) is tried again.
STALE_SENDING = timedelta(minutes=15)
SECURITIES = ("starttls", "ssl", "plain")


# -- SMTP settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str  # the From address, e.g. reminders@northside-clinic.example
    security: str = "starttls"  # starttls (submission, 587) | ssl (465) | plain (a local relay)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  # trust this CA for the SMTP server (else the system's)
    timeout: float = 30.0

    def check(self) -> None:
        """ValueError with a message for IT."""
        if self.security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITIES)}, not {self.security!r}")
        if not self.host or not 1 <= self.port <= 65535:
            raise ValueError("the SMTP server must be host:port with a port 1-65535")
        if self.security == "plain" and self.username and not _is_loopback(self.host):
            raise ValueError(
                "refusing to send an SMTP password without TLS to another machine: use "
                "--smtp-security starttls or ssl"
            )
        if self.password and not self.username:
            raise ValueError("an SMTP password needs a user name (--smtp-user)")
        try:
            Address(addr_spec=self.sender)
        except Exception:
            raise ValueError(f"the sender address {self.sender!r} is not an e-mail address") from None


def parse_host_port(text: str, default_port: int = 587) -> tuple[str, int]:
    """'smtp.example.org:587', 'smtp.example.org', '[::1]:25' -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"{text!r} is not host:port") from None
    if not host:
        raise ValueError(f"{text!r} has no host")
    return host, port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- languages ------------------------------------------------------------------------------------


def languages() -> tuple[str, ...]:
    """The languages reminders can be written in (English plus each catalog)."""
    found = {SOURCE_LANGUAGE}
    if LOCALES_DIR.is_dir():
        found |= {d.name for d in LOCALES_DIR.iterdir() if (d / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()}
    return tuple(sorted(found, key=lambda c: (c != SOURCE_LANGUAGE, c)))


@lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for `language` (English for a language without one). Compiled from the
    .po in memory: no build step, and no stale .mo can ever be read."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language not in languages() or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _language(code: str | None) -> str:
    code = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in languages() else SOURCE_LANGUAGE


# -- what a reminder says -------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class _Visit:
    """One appointment with what its reminder shows (PHI: never logged)."""

    appointment_id: str
    site_id: str
    site_name: str
    timezone: str
    day: date
    start: datetime  # naive local clinic time
    clinician: str
    first_name: str
    last_name: str
    email: str
    language: str
    copay_cents: int | None

    def __repr__(self) -> str:
        return f"_Visit({self.appointment_id})"


def _visits(db: Session, *where) -> list[_Visit]:
    rows = db.execute(
        select(Appointment, Patient, Clinician, Site)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Clinician, Clinician.id == Appointment.clinician_id)
        .join(Site, Site.id == Appointment.site_id)
        .where(*where)
        .order_by(Appointment.start, Appointment.id)
    )
    return [
        _Visit(appointment_id=a.id, site_id=s.id, site_name=s.name, timezone=s.timezone, day=a.day,
               start=a.start, clinician=c.display_name, first_name=p.first_name, last_name=p.last_name,
               email=p.email.strip(), language=_language(p.language), copay_cents=a.copay_cents)
        for a, p, c, s in rows
    ]


def qr_png(text: str) -> bytes:
    """`text` as a QR code PNG (error correction M, 4-module quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def _texts(visit: _Visit, token: str) -> dict[str, str]:
    """Every sentence of the e-mail and the letter, translated and filled in (plain text)."""
    _ = translations(visit.language).gettext
    locale = Locale.parse(BABEL_LOCALES.get(visit.language, visit.language))
    values = {
        "first_name": visit.first_name, "last_name": visit.last_name, "clinician": visit.clinician,
        "site": visit.site_name, "date": format_date(visit.day, "full", locale=locale),
        # CLDR puts a narrow no-break space before AM/PM, which older mail clients show as a box.
        "time": format_time(visit.start.time(), "short", locale=locale).replace("\u202f", " "),
    }
    if visit.copay_cents is None:
        copay = ""
    elif visit.copay_cents == 0:
        copay = _("There is no copay for this visit.")
    else:
        amount = format_currency(visit.copay_cents / 100, CURRENCY, locale=locale)
        copay = _("Your copay for this visit is {amount}.").format(amount=amount)
    return {
        **values,
        "lang": visit.language,
        "token": token,
        "copay": copay,
        "subject": _("Appointment reminder: {date} at {time}").format(**values),
        "greeting": _("Hello {first_name},").format(**values),
        "appointment": _("This is a reminder of your appointment on {date} at {time} with {clinician} "
                         "at {site}.").format(**values),
        "how": _("To check in at the kiosk, show it the code below. The kiosk will then ask for your "
                 "birth date."),
        "fallback": _("If the code does not scan, the front desk can type it in:"),
        "validity": _("The code is only for this appointment and works until the end of {date}.").format(**values),
        "footer": _("Please do not reply to this e-mail. To change or cancel your appointment, call "
                    "{site}.").format(**values),
        "qr_alt": _("Check-in code"),
        "title": _("Your appointment at {site}").format(**values),
        "letter_greeting": _("Dear {first_name} {last_name},").format(**values),
        "bring": _("Please bring this letter to your appointment. At the kiosk, scan the code below, "
                   "then enter your birth date to check in."),
        "label_date": _("Date"),
        "label_time": _("Time"),
        "label_with": _("With"),
        "label_where": _("Where"),
    }


@lru_cache(maxsize=None)
def _template(name: str) -> string.Template:
    return string.Template((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def _render_html(name: str, texts: dict[str, str], **raw: str) -> str:
    escaped = {k: html.escape(v) for k, v in texts.items()}
    return _template(name).substitute({**escaped, **raw})


def _recipient(address: str) -> Address:
    try:
        return Address(addr_spec=address)
    except Exception:
        raise ValueError("the patient's e-mail address is not valid") from None


def reminder_email(visit: _Visit, token: str, sender: str, now: datetime) -> EmailMessage:
    texts = _texts(visit, token)
    sender_domain = sender.rpartition("@")[2] or "localhost"
    qr_cid = make_msgid("checkin-qr", domain=sender_domain)
    message = EmailMessage()
    message["Subject"] = texts["subject"]
    message["From"] = sender
    message["To"] = _recipient(visit.email)
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid("reminder", domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(_template("reminder.txt").substitute(texts))
    message.add_alternative(_render_html("reminder.html", texts, qr_cid=qr_cid[1:-1]), subtype="html")
    message.get_payload()[1].add_related(qr_png(token), "image", "png", cid=qr_cid,
                                         filename="check-in-code.png", disposition="inline")
    message["Content-Language"] = visit.language  # after set_content, which clears Content-* headers
    return message


def letter_html(db: Session, appointment_id: str, *, key: SigningKey, now: datetime) -> str:
    """A printable appointment letter with the check-in QR code: one self-contained HTML
    page (inline CSS, the QR code as a data: URI) in the patient's language.
    Records the signed code's expiry on the key (practice_keys.note_signed): the caller
    commits. LookupError: no such appointment; ValueError: its day is over, or cancelled."""
    visits = _visits(db, Appointment.id == appointment_id) if len(appointment_id) <= 64 else []
    if not visits:
        raise LookupError(f"no appointment with id {appointment_id!r}")
    visit = visits[0]
    status = db.scalar(select(Appointment.status).where(Appointment.id == appointment_id))
    if status == "cancelled":
        raise ValueError(f"appointment {appointment_id} was cancelled")
    expires_at = expiry_for_day(visit.day, visit.timezone)
    if expires_at <= now:
        raise ValueError(f"the day of appointment {appointment_id} is over: its check-in code would not work")
    token = make_checkin_token(key.private_key, appointment_id=visit.appointment_id, site_id=visit.site_id,
                               expires_at=expires_at, key_id=key.key_id)
    practice_keys.note_signed(db, key.key_id, expires_at)
    texts = _texts(visit, token)
    texts["greeting"] = texts["letter_greeting"]
    qr_base64 = base64.b64encode(qr_png(token)).decode("ascii")
    return _render_html("letter.html", texts, qr_base64=qr_base64)


# -- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderOutcome:
    appointment_id: str
    status: str  # sent | failed
    error: str | None = None


@dataclass
class ReminderReport:
    sent: int = 0
    failed: int = 0
    no_email: int = 0  # booked, but the patient has no e-mail address
    already: int = 0  # sent before, being sent by another run, or given up after MAX_ATTEMPTS
    outcomes: list[ReminderOutcome] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    """What went wrong, for the reminders table and the log: the error class, the SMTP
    code and OS/TLS reasons, never the server's reply text (it often quotes the address)."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        return f"{name}: recipient refused (SMTP {', '.join(codes)})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{name}: the SMTP server does not offer STARTTLS or AUTH as configured"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: SMTP {exc.smtp_code}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{name}: {exc.verify_message} (give the SMTP server's CA with --smtp-ca)"
    if isinstance(exc, ssl.SSLError):
        return f"{name}: {exc.reason or 'TLS failed'}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name}: {exc.strerror}"
    if isinstance(exc, TimeoutError):
        return f"{name}: no answer in time"
    if isinstance(exc, ValueError) and "e-mail address" in str(exc):
        return f"{name}: {exc}"
    return name


class _Mailer:
    """One SMTP connection for the batch, opened when first needed and opened again after
    a drop. When the server cannot be reached at all, the rest of the batch is not tried
    (each would wait for the same time-out) and is recorded as failed."""

    def __init__(self, smtp: SmtpSettings, connect: Callable[[SmtpSettings], smtplib.SMTP]) -> None:
        self._smtp = smtp
        self._connect = connect
        self._conn: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(self, message: EmailMessage) -> str | None:
        """None when the server took the message, else what went wrong."""
        if self.unreachable:
            return f"not tried: {self.unreachable}"
        if self._conn is None:
            try:
                self._conn = self._connect(self._smtp)
            except (OSError, smtplib.SMTPException) as e:
                self.unreachable = describe_error(e)
                return self.unreachable
        try:
            self._conn.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            return describe_error(e)  # this message's problem; the connection is still good
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            return describe_error(e)
        return None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                self._conn.close()
            self._conn = None


def connect_smtp(smtp: SmtpSettings) -> smtplib.SMTP:
    """A logged-in connection per `smtp.security` (certificates verified)."""
    context = ssl.create_default_context(cafile=smtp.ca_file)
    conn: smtplib.SMTP
    if smtp.security == "ssl":
        conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.security == "starttls":
            conn.starttls(context=context)
        if smtp.username:
            conn.login(smtp.username, smtp.password or "")
    except BaseException:
        conn.close()
        raise
    return conn


def _retryable(row: Reminder, now: datetime) -> bool:
    if row.status == FAILED:
        return row.attempts < MAX_ATTEMPTS
    if row.status == SENDING:  # a run that died mid-send
        return row.last_attempt_at < now - STALE_SENDING and row.attempts < MAX_ATTEMPTS
    return False


def _claim(sessions: sessionmaker[Session], visit: _Visit, token_id: str, key: SigningKey,
           expires_at: datetime, now: datetime) -> bool:
    """Take this reminder for this run (committed before any SMTP): False when another
    run has it or it needs nothing."""
    with sessions.begin() as db:
        row = db.get(Reminder, visit.appointment_id)
        if row is None:
            try:
                with db.begin_nested():
                    db.add(Reminder(appointment_id=visit.appointment_id, status=SENDING, token_id=token_id,
                                    attempts=1, last_attempt_at=now))
                    db.flush()
            except IntegrityError:  # another run claimed it just now
                return False
        else:
            if not _retryable(row, now):
                return False
            claimed = db.execute(
                update(Reminder)
                .where(Reminder.appointment_id == row.appointment_id, Reminder.status == row.status,
                       Reminder.attempts == row.attempts)
                .values(status=SENDING, token_id=token_id, attempts=row.attempts + 1, last_attempt_at=now,
                        error=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                return False
        practice_keys.note_signed(db, key.key_id, expires_at)  # before the code leaves
    return True


def _finish(sessions: sessionmaker[Session], appointment_id: str, error: str | None, now: datetime) -> None:
    with sessions.begin() as db:
        db.execute(
            update(Reminder).where(Reminder.appointment_id == appointment_id)
            .values(status=FAILED if error else SENT, error=error, sent_at=None if error else now)
            .execution_options(synchronize_session=False)
        )


def send_reminders(
    sessions: sessionmaker[Session],
    site_id: str,
    day: date,
    smtp: SmtpSettings,
    now: datetime,
    *,
    key: SigningKey,
    connect: Callable[[SmtpSettings], smtplib.SMTP] = connect_smtp,
) -> ReminderReport:
    """E-mail the reminders of the site's booked appointments on `day` (the site's local
    date) not sent yet, and retry failed ones. Each reminder commits on its own, so give a
    sessionmaker (writer sessions), not a session. ValueError: bad settings, unknown site,
    or a day already over."""
    smtp.check()
    now = now.astimezone(UTC)
    with sessions() as db:
        site = db.get(Site, site_id) if len(site_id) <= 36 else None
        if site is None:
            raise ValueError(f"no site with id {site_id!r}")
        if day < schedule.local_today(site.timezone, now):
            raise ValueError(f"{day.isoformat()} is over at {site.name}: its check-in codes would not work")
        visits = _visits(db, Appointment.site_id == site_id, Appointment.day == day,
                         Appointment.status == "booked")
        ids = [v.appointment_id for v in visits]
        done = {r.appointment_id: r for r in db.scalars(select(Reminder).where(Reminder.appointment_id.in_(ids)))}
    report = ReminderReport()
    mailer = _Mailer(smtp, connect)
    try:
        for visit in visits:
            if not visit.email:
                report.no_email += 1
                continue
            row = done.get(visit.appointment_id)
            if row is not None and not _retryable(row, now):
                report.already += 1
                continue
            outcome = _send_one(sessions, visit, smtp, mailer, key, now)
            if outcome is None:
                report.already += 1
                continue
            report.outcomes.append(outcome)
            if outcome.status == SENT:
                report.sent += 1
            else:
                report.failed += 1
                log.warning("reminder.failed", extra={"fields": {
                    "appointment_id": visit.appointment_id, "error": outcome.error}})
    finally:
        mailer.close()
    log.info("reminders.sent", extra={"fields": {
        "site_id": site_id, "day": day.isoformat(), "sent": report.sent, "failed": report.failed,
        "no_email": report.no_email, "already": report.already}})
    return report


def _send_one(sessions: sessionmaker[Session], visit: _Visit, smtp: SmtpSettings, mailer: _Mailer,
              key: SigningKey, now: datetime) -> ReminderOutcome | None:
    token_id = new_token_id()
    expires_at = expiry_for_day(visit.day, visit.timezone)
    if not _claim(sessions, visit, token_id, key, expires_at, now):
        return None
    try:
        token = make_checkin_token(key.private_key, appointment_id=visit.appointment_id,
                                   site_id=visit.site_id, expires_at=expires_at, key_id=key.key_id,
                                   token_id=token_id)
        message = reminder_email(visit, token, smtp.sender, now)
        error = mailer.send(message)
    except Exception as e:  # a bad address or a rendering problem fails this reminder, not the batch
        error = describe_error(e)
    _finish(sessions, visit.appointment_id, error, now)
    return ReminderOutcome(visit.appointment_id, FAILED if error else SENT, error)
