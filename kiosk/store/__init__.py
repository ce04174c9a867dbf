"""The kiosk's local encrypted store (SQLite + SQLAlchemy 2 + Alembic). No Kivy here.

    store = open_store(data_dir, key_file)
    matches = store.find_appointments("García-López", date(1956, 3, 14), date.today())

See docs/INTERFACES.md (section kiosk/store).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .cipher import FieldCipher, normalise_name
from .database import DB_FILENAME, make_engine, upgrade_to_head
from .errors import StoreError
from .keys import create_key_file, derive_keys, load_key_file
from .outbox import HIGH_PRIORITY, NORMAL_PRIORITY, OutboxEvent
from .records import (
    AppointmentMatch,
    AppointmentRecord,
    CheckInResult,
    ClinicianRecord,
    Contact,
    DeadLetter,
    FormDraft,
    HistoryEntry,
    KioskStatus,
    NewEvent,
    PatientRecord,
    PaymentRecord,
)
from .store import Store

__all__ = [
    "AppointmentMatch",
    "AppointmentRecord",
    "CheckInResult",
    "ClinicianRecord",
    "Contact",
    "DeadLetter",
    "FormDraft",
    "HIGH_PRIORITY",
    "HistoryEntry",
    "KioskStatus",
    "NORMAL_PRIORITY",
    "NewEvent",
    "OutboxEvent",
    "PatientRecord",
    "PaymentRecord",
    "Store",
    "StoreError",
    "normalise_name",
    "open_store",
]

log = logging.getLogger(__name__)


def open_store(data_dir: Path, key_file: Path, *, create_key: bool = True) -> Store:
    """Open (creating if needed) the kiosk database in data_dir, keyed by key_file.

    The key file lives outside data_dir so a copy of the data directory alone
    (a backup, a stolen disk image of that folder) is useless.
    """
    data_dir, key_file = Path(data_dir), Path(key_file)
    if key_file.resolve().is_relative_to(data_dir.resolve()):
        raise StoreError(f"key file {key_file} must not be inside the data directory {data_dir}")
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
        os.chmod(data_dir, 0o700)  # mkdir's mode is filtered by the umask
    if not key_file.exists():
        if not create_key:
            raise StoreError(f"key file {key_file} does not exist")
        create_key_file(key_file)
        log.info("created a new data key at %s", key_file)
    cipher = FieldCipher(derive_keys(load_key_file(key_file)))

    db_path = data_dir / DB_FILENAME
    engine = make_engine(db_path)
    try:
        upgrade_to_head(engine)
        store = Store(engine, cipher, db_path)
        store._check_key()
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:
        engine.dispose()
        raise StoreError(f"cannot open the kiosk database {db_path}: {type(exc).__name__}") from exc
    return store
