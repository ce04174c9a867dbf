from __future__ import annotations

import base64

import pytest

from kiosk import staff_pin
from kiosk.staff_pin import DEMO_PIN, DEMO_PIN_HASH, hash_pin, parse_pin_hash, verify_pin


def test_round_trip_and_format() -> None:
    encoded = hash_pin("918273")
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert verify_pin("918273", encoded)


def test_wrong_pin() -> None:
    encoded = hash_pin("918273")
    assert not verify_pin("918274", encoded)
    assert not verify_pin("", encoded)
    assert not verify_pin("9182730", encoded)


def test_salt_is_random() -> None:
    assert hash_pin("1234") != hash_pin("1234")


def test_demo_hash_is_the_demo_pin() -> None:
    assert DEMO_PIN == "2468"
    assert verify_pin("2468", DEMO_PIN_HASH)
    assert not verify_pin("2469", DEMO_PIN_HASH)


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_tampered_hash_rejected() -> None:
    encoded = hash_pin("918273")
    parts = encoded.split("$")
    tampered_digest = "$".join(parts[:5] + [_flip_b64(parts[5])])
    tampered_salt = "$".join(parts[:4] + [_flip_b64(parts[4]), parts[5]])
    tampered_n = "$".join([parts[0], "8192"] + parts[2:])
    for bad in (tampered_digest, tampered_salt, tampered_n):
        assert not verify_pin("918273", bad)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2468",
        "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$not base64!$AAAA",
        "scrypt$12345$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$x$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==",
    ],
)
def test_malformed_hash_never_matches(bad: str) -> None:
    assert not verify_pin("2468", bad)
    with pytest.raises(staff_pin.PinHashError):
        parse_pin_hash(bad)


def test_verify_accepts_surrounding_whitespace() -> None:
    assert verify_pin("2468", "  " + DEMO_PIN_HASH + "\n")


def test_pin_format() -> None:
    assert staff_pin.valid_pin_format("1234")
    assert staff_pin.valid_pin_format("123456789012")
    assert not staff_pin.valid_pin_format("123")
    assert not staff_pin.valid_pin_format("1234567890123")
    assert not staff_pin.valid_pin_format("12a4")
    assert not staff_pin.valid_pin_format("١٢٣٤")  # non-ASCII digits


def test_cli_prints_hash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["975310", "975310"])
    monkeypatch.setattr(staff_pin.getpass, "getpass", lambda prompt="": next(answers))
    assert staff_pin.main([]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith('staff_pin_hash = "scrypt$')
    assert verify_pin("975310", out.split('"')[1])


@pytest.mark.parametrize("answers, code", [(["975310", "975311"], 1), (["12"], 2), (["2468"], 2)])
def test_cli_refuses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answers: list[str], code: int
) -> None:
    it = iter(answers)
    monkeypatch.setattr(staff_pin.getpass, "getpass", lambda prompt="": next(it))
    assert staff_pin.main([]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error" in captured.err
