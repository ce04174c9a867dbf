"""The practice's check-in signing keys (the key behind every reminder's QR code).

Where the keys live — the simplest safe split:
- the PRIVATE key is an Ed25519 PEM (PKCS#8) file, mode 0600, on the host that sends
  reminders and prints letters: `--checkin-key FILE`, else $CLINIC_PRACTICE_CHECKIN_KEY,
  else `default_key_path()` ($XDG_DATA_HOME/clinic-practice/checkin-signing.key). It
  is made on first use (`load_or_create`). It never enters the database, so a copy
  of the database (a backup, a replica) cannot forge check-in codes. A file readable
  by group or others is refused. Back it up like the practice CA key.
- the PUBLIC keys are rows of `checkin_keys`, published to kiosks in the enrolment
  answer and in the config bundle (`published_keys`), so a new key reaches enrolled
  kiosks on their next sync.

Rotation (`rotate`): a new key is written over the file and signs from then on; the
older keys are retired but stay published while a code they signed may still be
valid (`signed_until`, the latest expiry each key signed, recorded by `note_signed`
before a code leaves the server). `rotate(..., revoke_old=True)` (a key that leaked)
withdraws the old keys at once: their codes stop working at every kiosk after its
next sync. Several hosts may sign: copy the key file to each (after a rotation too: a
host still holding a retired key is told so instead of signing).

The demo practice signs with the public DEMO key of sync_protocol.checkin_token
(`install_demo_key`), only ever in the demo database.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync_protocol.checkin_token import (
    DEMO_KEY_ID,
    demo_private_key,
    encode_public_key,
    key_id_for,
)

from .models import CheckinKey
from .settings import default_database_path

KEY_FILE_ENV = "CLINIC_PRACTICE_CHECKIN_KEY"


class KeyFileError(ValueError):
    """The check-in key file cannot be used; the message says what to do."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey = field(repr=False)


def default_key_path() -> Path:
    return default_database_path().parent / "checkin-signing.key"


def key_path(given: str | Path | None) -> Path:
    """--checkin-key, else the environment variable, else the default."""
    return Path(given or os.environ.get(KEY_FILE_ENV) or default_key_path()).expanduser()


# -- the private key file -------------------------------------------------------------------


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _write_new(path: Path, key: Ed25519PrivateKey) -> bool:
    """Create `path` (0600 from the start); False when it already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as e:
        raise KeyFileError(f"cannot create the check-in key file {path}: {e.strerror}") from None
    try:
        os.write(fd, _pem(key))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _replace(path: Path, key: Ed25519PrivateKey) -> None:
    """Atomically put `key` at `path`: a crash leaves the old key or the new one."""
    tmp = path.with_name(f".{path.name}.new-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    if not _write_new(tmp, key):
        raise KeyFileError(f"cannot write {tmp}")
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read the check-in key file {path}: {e.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise KeyFileError(
            f"the check-in key file {path} can be read by other users: `chmod 600 {path}` "
            "(anyone with this key can make check-in codes)"
        )
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


# -- the public keys in the database ----------------------------------------------------------


def _register(db: Session, key: Ed25519PrivateKey, now: datetime, key_id: str | None = None) -> CheckinKey:
    """The key's row, added as a current (signing) key if it is new."""
    key_id = key_id or key_id_for(key.public_key())
    row = db.get(CheckinKey, key_id)
    if row is not None:
        return row
    row = CheckinKey(key_id=key_id, public_key=encode_public_key(key.public_key()), created_at=now)
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:  # another process registered it just now
        row = db.get(CheckinKey, key_id)
        assert row is not None
    return row


def _usable(row: CheckinKey, path: Path) -> None:
    if row.revoked_at is not None:
        raise KeyFileError(
            f"the check-in key in {path} (key id {row.key_id}) was revoked on "
            f"{row.revoked_at:%Y-%m-%d}: copy the current key file from the host that rotated "
            "it, or rotate again on this host"
        )
    if row.retired_at is not None:
        raise KeyFileError(
            f"the check-in key in {path} (key id {row.key_id}) was replaced on "
            f"{row.retired_at:%Y-%m-%d}: copy the current key file from the host that rotated "
            "it (python -m practice_server checkin-key shows the current key id)"
        )


def load_or_create(db: Session, path: Path, now: datetime) -> SigningKey:
    """The key in `path` (made, 0600, when there is none), registered in `db`.
    Raises KeyFileError. The caller commits."""
    now = _aware(now)
    if not path.exists():
        _write_new(path, Ed25519PrivateKey.generate())  # False: made by a racing process
    key = _read(path)
    row = _register(db, key, now)
    _usable(row, path)
    return SigningKey(key_id=row.key_id, private_key=key)


def rotate(db: Session, path: Path, now: datetime, *, revoke_old: bool = False) -> SigningKey:
    """A new key in `path` that signs from now on; the other keys are retired (kept for
    the codes they signed) or, with `revoke_old`, withdrawn at once. The caller commits."""
    now = _aware(now)
    key = Ed25519PrivateKey.generate()
    _replace(path, key)  # first the file: a key in the database that no host has would be worse
    row = _register(db, key, now)
    others = CheckinKey.key_id != row.key_id
    db.execute(update(CheckinKey).where(others, CheckinKey.retired_at.is_(None)).values(retired_at=now)
               .execution_options(synchronize_session=False))
    if revoke_old:
        db.execute(update(CheckinKey).where(others, CheckinKey.revoked_at.is_(None)).values(revoked_at=now)
                   .execution_options(synchronize_session=False))
    db.flush()
    db.expire_all()
    return SigningKey(key_id=row.key_id, private_key=key)


def install_demo_key(db: Session, now: datetime) -> SigningKey:
    """DEMO DATABASE ONLY: register and return the public demo key (see checkin_token)."""
    key = demo_private_key()
    _register(db, key, _aware(now), key_id=DEMO_KEY_ID)
    return SigningKey(key_id=DEMO_KEY_ID, private_key=key)


def note_signed(db: Session, key_id: str, expires_at: datetime) -> None:
    """Record that a code valid until `expires_at` was signed with this key, so the key
    stays published (after a rotation) until then. Call before the code leaves."""
    expires_at = _aware(expires_at)
    db.execute(
        update(CheckinKey)
        .where(CheckinKey.key_id == key_id,
               or_(CheckinKey.signed_until.is_(None), CheckinKey.signed_until < expires_at))
        .values(signed_until=expires_at)
        .execution_options(synchronize_session=False)
    )


def published_keys(db: Session, now: datetime) -> dict[str, str]:
    """{key_id: base64 raw public key} that kiosks must accept now."""
    now = _aware(now)
    rows = db.scalars(
        select(CheckinKey)
        .where(CheckinKey.revoked_at.is_(None),
               or_(CheckinKey.retired_at.is_(None), CheckinKey.signed_until > now))
        .order_by(CheckinKey.key_id)
    )
    return {row.key_id: row.public_key for row in rows}


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware (e.g. datetime.now(UTC))")
    return now.astimezone(UTC)
