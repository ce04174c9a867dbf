import base64
import os
import stat

import pytest

from kiosk.store import StoreError, open_store
from kiosk.store.keys import create_key_file, derive_keys, load_key_file


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_open_creates_key_0600_and_data_dir_0700(data_dir, key_file):
    open_store(data_dir, key_file).close()
    assert mode(key_file) == 0o600
    assert mode(data_dir) == 0o700
    assert len(base64.b64decode(key_file.read_bytes().strip())) == 32
    assert key_file.read_bytes().endswith(b"\n")


def test_key_file_with_loose_permissions_is_refused(data_dir, key_file):
    create_key_file(key_file)
    os.chmod(key_file, 0o644)
    with pytest.raises(StoreError) as err:
        open_store(data_dir, key_file)
    assert str(key_file) in str(err.value)
    assert "chmod 600" in str(err.value)


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o660, 0o700 | 0o001])
def test_any_group_or_other_bit_is_refused(key_file, loose):
    create_key_file(key_file)
    os.chmod(key_file, loose)
    with pytest.raises(StoreError, match="chmod 600"):
        load_key_file(key_file)


def test_key_inside_data_dir_is_refused(data_dir):
    with pytest.raises(StoreError, match="must not be inside"):
        open_store(data_dir, data_dir / "kiosk.key")
    with pytest.raises(StoreError, match="must not be inside"):
        open_store(data_dir, data_dir / "sub" / "kiosk.key")


def test_missing_key_without_create_is_refused(data_dir, key_file):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(data_dir, key_file, create_key=False)
    assert not key_file.exists()


def test_existing_key_is_never_overwritten(key_file):
    create_key_file(key_file)
    before = key_file.read_bytes()
    with pytest.raises(FileExistsError):
        create_key_file(key_file)
    assert key_file.read_bytes() == before


@pytest.mark.parametrize("content", [b"not base64 !!\n", base64.b64encode(b"short") + b"\n", b""])
def test_malformed_key_file_is_refused(key_file, content):
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(content)
    os.chmod(key_file, 0o600)
    with pytest.raises(StoreError, match=str(key_file)):
        load_key_file(key_file)


def test_hkdf_split_gives_two_distinct_stable_keys():
    master = bytes(range(32))
    a, b = derive_keys(master), derive_keys(master)
    assert a.enc == b.enc and a.index == b.index
    assert a.enc != a.index and master not in (a.enc, a.index)
    assert len(a.enc) == len(a.index) == 32
    assert derive_keys(bytes(32)).enc != a.enc
    assert "hidden" in repr(a) and a.enc.hex() not in repr(a)
