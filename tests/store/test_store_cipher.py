from datetime import date, datetime

import pytest

from kiosk.store import StoreError, normalise_name
from kiosk.store.cipher import FieldCipher
from kiosk.store.keys import derive_keys


@pytest.fixture
def cipher():
    return FieldCipher(derive_keys(b"\x11" * 32))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("García-López", "garcialopez"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),  # typographic apostrophe
        ("de la Cruz", "delacruz"),
        ("DE LA CRUZ", "delacruz"),
        ("Muñoz", "munoz"),
        ("José", "jose"),
        ("Nguyễn", "nguyen"),
        ("Đặng", "dang"),
        ("St. John", "stjohn"),
        ("  Smith  ", "smith"),
        ("Müller", "muller"),
        ("Øberg", "oberg"),
        ("Straße", "strasse"),
        ("Ó Súilleabháin", "osuilleabhain"),
        ("Smith 3rd", "smith3rd"),
        ("ＳＭＩＴＨ", "smith"),  # full-width letters (NFKD)
        ("", ""),
        ("-' .", ""),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


def test_round_trip_and_format(cipher):
    blob = cipher.encrypt("Nguyễn", b"patients.last_name")
    assert blob[:1] == b"\x01"
    assert len(blob) == 1 + 12 + len("Nguyễn".encode()) + 16
    assert cipher.decrypt(blob, b"patients.last_name") == "Nguyễn"


def test_nonces_differ_so_equal_values_do_not_look_equal(cipher):
    assert cipher.encrypt("Smith", b"t.c") != cipher.encrypt("Smith", b"t.c")


def test_aad_pins_a_value_to_its_column(cipher):
    blob = cipher.encrypt("1956-03-14", b"patients.birth_date")
    with pytest.raises(StoreError):
        cipher.decrypt(blob, b"patients.phone")


def test_wrong_key_gives_a_clear_error(cipher):
    blob = cipher.encrypt("Maria", b"patients.first_name")
    other = FieldCipher(derive_keys(b"\x22" * 32))
    with pytest.raises(StoreError, match="the data key does not match this database") as err:
        other.decrypt(blob, b"patients.first_name")
    assert "Maria" not in str(err.value)


def test_tampered_or_unknown_format_is_refused(cipher):
    blob = bytearray(cipher.encrypt("Maria", b"a.b"))
    blob[-1] ^= 1
    with pytest.raises(StoreError):
        cipher.decrypt(bytes(blob), b"a.b")
    with pytest.raises(StoreError, match="unknown format"):
        cipher.decrypt(b"\x02" + bytes(40), b"a.b")
    with pytest.raises(StoreError, match="unknown format"):
        cipher.decrypt(b"\x01abc", b"a.b")


def test_identity_index_ignores_spelling_noise_but_not_the_date(cipher):
    dob = date(1956, 3, 14)
    base = cipher.identity_index("García-López", dob)
    assert len(base) == 32
    for variant in ("garcia lopez", "GARCIA-LOPEZ", "García López", "garcialópez"):
        assert cipher.identity_index(variant, dob) == base
    assert cipher.identity_index("García-López", date(1956, 3, 15)) != base
    assert cipher.identity_index("Garcia", dob) != base
    # The index key matters: another kiosk's index says nothing about this one's.
    assert FieldCipher(derive_keys(b"\x22" * 32)).identity_index("García-López", dob) != base


def test_identity_index_wants_a_date_not_a_datetime(cipher):
    with pytest.raises(TypeError):
        cipher.identity_index("Smith", datetime(1980, 1, 1))
    with pytest.raises(TypeError):
        cipher.identity_index("Smith", "1980-01-01")


def test_only_strings_are_encrypted(cipher):
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes", b"a.b")
    assert "key" in repr(cipher) and "hidden" in repr(cipher)
