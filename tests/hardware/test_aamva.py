"""AAMVA licence data: published samples (tests/hardware/data/aamva, see SOURCES.md) and
synthetic edge cases. Bad data gives an AamvaError or a Licence with problems, never any
other exception, and never PHI in a message or a repr."""
from __future__ import annotations

import json
import random
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import pytest

from hardware.aamva import AamvaError, Licence, NameTruncation, is_aamva, parse_aamva

SAMPLES = Path(__file__).parent / "data" / "aamva"
KEYS = ["family_name", "given_name", "middle_name", "birth_date", "expiry_date", "sex", "street", "city", "state",
        "postal_code", "country", "document_number", "issuer_id", "aamva_version"]


def sample(name: str) -> str:
    return (SAMPLES / name).read_bytes().decode("latin-1")


def fields(**kw) -> dict:
    out = dict.fromkeys(KEYS)
    out.update(kw)
    return out


# ---------------------------------------------------------------------------- published samples
PUBLIC_JOHN_CA = dict(family_name="PUBLIC", given_name="JOHN", middle_name="QUINCY", sex="M", city="ANYTOWN",
                      state="CA", postal_code="90223", country="USA", document_number="D12345678", issuer_id="636026")
REAL = {
    # AAMVA DL/ID-2020 standard, Annex D example (Virginia, version 10)
    "aamva_2020_example_v10.txt": (fields(
        family_name="SAMPLE", given_name="MICHAEL", middle_name="JOHN", birth_date="1986-06-06",
        expiry_date="2024-12-10", sex="M", street="2300 WEST BROAD STREET", city="RICHMOND", state="VA",
        postal_code="23269", country="USA", document_number="T64235789", issuer_id="636000", aamva_version=10),
        NameTruncation(False, False, False), []),
    # AAMVA DL/ID-2000 example (version 1): full name DAA, CCYYMMDD dates, sex "M", ZIP+4
    "aamva_2000_example_v1.txt": (fields(
        family_name="PUBLIC", given_name="JOHN", middle_name="Q", birth_date="1976-11-23", expiry_date="2001-12-01",
        sex="M", street="123 MAIN STREET", city="ANYTOWN", state="VA", postal_code="12345", country="USA",
        document_number="0123456789ABC", issuer_id="636000", aamva_version=1), NameTruncation(), []),
    # version 1 with both DAA and DAB/DAC/DAD, no RS/CR in the header, number in DBJ (no DAQ)
    "ksoftllc_v1_full_name.txt": (fields(
        **PUBLIC_JOHN_CA, birth_date="1970-01-15", expiry_date="2035-01-31", street="789 E OAK ST, APT #4A",
        aamva_version=1), NameTruncation(), []),
    # Canadian, version 3: CCYYMMDD dates, family name with a trailing comma, postal code A1A 1A1
    "ksoftllc_v3_canada.txt": (fields(
        family_name="PUBLIC", given_name="JOHN", birth_date="1974-03-28", expiry_date="2025-04-25", sex="M",
        street="789 E OAK AVE", city="VANCOUVER", state="BC", postal_code="A5K 4X9", country="CAN",
        document_number="M1234-12345-12345", issuer_id="636012", aamva_version=3), NameTruncation(), []),
    # version 5, elements out of order, ZIP+4 with a space, truncation "U" (unknown)
    "ksoftllc_v5_arkansas.txt": (fields(
        family_name="PUBLIC", given_name="JOHN", middle_name="QUINCY", birth_date="1972-08-11",
        expiry_date="2019-08-11", sex="M", street="454 APRICOT RD", city="LITTLE ROCK", state="AR",
        postal_code="11111", country="USA", document_number="123456789", issuer_id="636021", aamva_version=5),
        NameTruncation(None, None, None), []),
    # version 8 with CR LF line ends and an impossible expiry date (31 September)
    "ksoftllc_v8_crlf.txt": (fields(
        **PUBLIC_JOHN_CA, birth_date="1970-09-15", expiry_date=None, street="789 E OAK ST, APT #4A",
        aamva_version=8), NameTruncation(False, False, False), ["expiry date is not a valid date"]),
    # version 2: given names in DCT, every line indented as pasted into a test
    "joptimus_v2_given_names.txt": (fields(
        **PUBLIC_JOHN_CA, birth_date="1970-01-31", expiry_date="2035-01-31", street="789 E OAK ST",
        aamva_version=2), NameTruncation(False, False, False), []),
    # the old "AAMVA" file type, no compliance indicator, only a full name: not enough to identify
    "ksoftllc_aamva_file_type_name_only.txt": (fields(
        family_name="PUBLIC", given_name="JOHN", middle_name="QUINCY", country="USA", issuer_id="636006",
        aamva_version=1), NameTruncation(),
        ["pre-standard", "no compliance indicator", "no birth date", "no expiry date"]),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_published_samples_read_as_published(name):
    expected, truncated, problems = REAL[name]
    licence = parse_aamva(sample(name))
    assert licence.as_dict() == expected
    assert licence.truncated == truncated
    assert len(licence.problems) == len(problems), licence.problems
    for wanted, got in zip(problems, licence.problems):
        assert wanted in got


# DLParser-Swift's per-version mocks: the element layout of each version 1-11 (and an ID
# card). Their dates are placeholders ("11111114": year 1114 or 1111), so no date survives.
@pytest.mark.parametrize("version", range(1, 12))
def test_each_versions_layout_from_dlparser_mocks(version):
    name = f"dlparser_v{version:02d}_shape.txt"
    licence = parse_aamva(sample(name))
    assert licence.aamva_version == version
    assert (licence.family_name, licence.given_name) == ("lastName", "firstName")
    # versions 2-3 carry given names in DCT only ("firstName"); the others have DAD middle names
    assert licence.middle_name == (None if version in (2, 3) else "middleName middleName")
    assert (licence.street, licence.city, licence.postal_code) == ("streetAddress, streetAddressTwo", "city", "12345")
    assert licence.document_number == "12345678" and licence.sex == "M" and licence.issuer_id == "123456"
    assert licence.birth_date is None and licence.expiry_date is None
    assert "birth date is not a valid date" in licence.problems and not licence.identifies
    expected_truncation = NameTruncation(False, True, False) if version >= 4 else NameTruncation()
    assert licence.truncated == expected_truncation
    assert any("newer than" in p for p in licence.problems) == (version == 11)


def test_id_card_subfile_reads_like_a_licence():
    card = parse_aamva(sample("dlparser_v10_id_subfile.txt"))
    licence = parse_aamva(sample("dlparser_v10_shape.txt"))
    assert card.as_dict() == licence.as_dict()


def test_sources_file_names_every_sample():
    sources = (SAMPLES / "SOURCES.md").read_text()
    for path in SAMPLES.glob("*.txt"):
        assert path.name in sources, f"{path.name} has no source in SOURCES.md"


# ---------------------------------------------------------------------------- synthetic builder
def build(version: int, elements: list[tuple[str, str]], *, iin: str = "636000", kind: str = "DL",
          jurisdiction: list[tuple[str, str]] | None = None, sep: str = "\n", prefix: str = "@\n\x1e\r",
          file_type: str = "ANSI ", offsets: str = "right", terminator: str = "\r") -> str:
    """Licence data as a card prints it; `offsets` "right", "zero" or "wrong" (off by 37)."""
    subfiles = [(kind, kind + sep.join(e + v for e, v in elements) + terminator)]
    if jurisdiction:
        subfiles.append(("ZX", "ZX" + sep.join(e + v for e, v in jurisdiction) + terminator))
    fixed = prefix + file_type + iin + f"{version:02d}" + ("01" if version >= 2 else "") + f"{len(subfiles):02d}"
    position = len(fixed) + 10 * len(subfiles)
    directory = ""
    for designator, body in subfiles:
        offset = {"right": position, "zero": 0, "wrong": position + 37}[offsets]
        directory += f"{designator}{offset:04d}{len(body):04d}"
        position += len(body)
    return fixed + directory + "".join(body for _, body in subfiles)


ADDRESS = [("DAG", "1 TEST WAY"), ("DAI", "SPRINGFIELD"), ("DAJ", "OR"), ("DAK", "974010000  ")]


def layout(version: int, *, birth: str = "19840229", expiry: str = "20300415", country: str = "USA") -> list:
    """The DL elements of `version` for one synthetic patient (dates given as CCYYMMDD)."""
    def card_date(ymd: str) -> str:
        year_first = version == 1 or country == "CAN"
        return ymd if year_first else ymd[4:] + ymd[:4]
    if version == 1:
        names = [("DAA", "TESTPATIENT,ALEX,QUINN")]
    elif version in (2, 3):
        names = [("DCS", "TESTPATIENT"), ("DCT", "ALEX QUINN")]
    else:
        names = [("DCS", "TESTPATIENT"), ("DAC", "ALEX"), ("DAD", "QUINN"), ("DDE", "N"), ("DDF", "N"), ("DDG", "N")]
    rest = [("DBB", card_date(birth)), ("DBA", card_date(expiry)), ("DBC", "M" if version == 1 else "2")]
    if version >= 2:
        rest.append(("DCG", country))
    address = ADDRESS if country == "USA" else [("DAG", "1 TEST WAY"), ("DAI", "OTTAWA"), ("DAJ", "ON"),
                                                ("DAK", "K1A 0B1")]
    return [("DAQ", "X1234567")] + names + rest + address


@pytest.mark.parametrize("version", range(1, 11))
def test_each_version_shape_reads_the_same_patient(version):
    licence = parse_aamva(build(version, layout(version), jurisdiction=[("ZXA", "01")]))
    assert licence.problems == ()
    assert (licence.family_name, licence.given_name, licence.middle_name) == ("TESTPATIENT", "ALEX", "QUINN")
    assert licence.birth_date == date(1984, 2, 29) and licence.expiry_date == date(2030, 4, 15)
    assert licence.sex == ("M" if version == 1 else "F")
    assert licence.address == {"street": "1 TEST WAY", "city": "SPRINGFIELD", "state": "OR", "postal_code": "97401",
                               "country": "USA"}
    assert licence.aamva_version == version and licence.identifies


def test_canadian_dates_are_year_first_by_country_issuer_or_province():
    by_country = parse_aamva(build(9, layout(9, country="CAN")))
    assert (by_country.birth_date, by_country.country) == (date(1984, 2, 29), "CAN")
    # no DCG: Ontario's issuer number says Canada
    elements = [e for e in layout(9, country="CAN") if e[0] != "DCG"]
    by_issuer = parse_aamva(build(9, elements, iin="636012"))
    assert (by_issuer.birth_date, by_issuer.expiry_date, by_issuer.country) == (date(1984, 2, 29), date(2030, 4, 15), "CAN")
    # no DCG, an issuer number not in the list, but a province code
    by_province = parse_aamva(build(9, [e if e[0] != "DAJ" else ("DAJ", "QC") for e in elements], iin="990000"))
    assert by_province.country == "CAN" and by_province.birth_date == date(1984, 2, 29)
    assert by_country.problems == by_issuer.problems == by_province.problems == ()


def test_a_date_in_the_other_order_is_read_and_noted():
    elements = [e if e[0] != "DBB" else ("DBB", "19840229") for e in layout(9)]  # US card, year first
    licence = parse_aamva(build(9, elements))
    assert licence.birth_date == date(1984, 2, 29)
    assert licence.problems == ("birth date is in CCYYMMDD order, not the order this version and country use",)


@pytest.mark.parametrize("value, problem", [("02301984", "not a valid date"), ("0229198", "not 8 digits"),
                                            ("", "not 8 digits"), ("18000101", "not a valid date"),
                                            ("ABCDEFGH", "not 8 digits")])
def test_bad_birth_dates_become_none_with_a_problem(value, problem):
    elements = [e if e[0] != "DBB" else ("DBB", value) for e in layout(9)]
    licence = parse_aamva(build(9, elements))
    assert licence.birth_date is None and not licence.identifies
    assert any(problem in p for p in licence.problems)


@pytest.mark.parametrize("full_name, expected, noted", [
    ("TESTPATIENT,ALEX,QUINN", ("TESTPATIENT", "ALEX", "QUINN"), False),
    ("TESTPATIENT, ALEX QUINN", ("TESTPATIENT", "ALEX", "QUINN"), False),
    ("TESTPATIENT$ALEX$QUINN", ("TESTPATIENT", "ALEX", "QUINN"), False),
    ("TESTPATIENT,ALEX,QUINN,JR", ("TESTPATIENT", "ALEX", "QUINN"), False),
    ("TESTPATIENT,ALEX", ("TESTPATIENT", "ALEX", None), False),
    ("TESTPATIENT,ALEX,", ("TESTPATIENT", "ALEX", None), False),
    ("TESTPATIENT ALEX QUINN", ("TESTPATIENT", "ALEX", "QUINN"), True),
    ("TESTPATIENT", ("TESTPATIENT", None, None), False),
])
def test_full_name_of_old_versions(full_name, expected, noted):
    elements = [e if e[0] != "DAA" else ("DAA", full_name) for e in layout(1)]
    licence = parse_aamva(build(1, elements))
    assert (licence.family_name, licence.given_name, licence.middle_name) == expected
    assert any("without commas" in p for p in licence.problems) == noted


@pytest.mark.parametrize("dct, given, middle", [("ALEX QUINN", "ALEX", "QUINN"), ("ALEX,QUINN", "ALEX", "QUINN"),
                                                ("ALEX, QUINN MORGAN", "ALEX", "QUINN MORGAN"), ("ALEX", "ALEX", None)])
def test_given_names_of_versions_2_and_3(dct, given, middle):
    elements = [e if e[0] != "DCT" else ("DCT", dct) for e in layout(3)]
    licence = parse_aamva(build(3, elements))
    assert (licence.given_name, licence.middle_name) == (given, middle)


def test_truncation_flags_per_name_part():
    flags = {"DDE": "T", "DDF": "N", "DDG": "U"}
    licence = parse_aamva(build(10, [(e, flags.get(e, v)) for e, v in layout(10)]))
    assert licence.truncated == NameTruncation(family=True, given=False, middle=None)
    assert licence.truncated.any
    assert not parse_aamva(build(10, layout(10))).truncated.any


@pytest.mark.parametrize("code, sex", [("1", "M"), ("2", "F"), ("9", "X"), ("M", "M"), ("F", "F"), ("X", "X"),
                                       ("0", None), ("", None)])
def test_sex_codes(code, sex):
    licence = parse_aamva(build(10, [(e, code if e == "DBC" else v) for e, v in layout(10)]))
    assert licence.sex == sex and licence.problems == ()


def test_unknown_sex_code_is_noted():
    licence = parse_aamva(build(10, [(e, "Q" if e == "DBC" else v) for e, v in layout(10)]))
    assert licence.sex is None and licence.problems == ("sex code is not 1, 2, 9, M, F or X",)


@pytest.mark.parametrize("value, country, postal, noted", [
    ("974010000  ", "USA", "97401", False), ("97401-1234", "USA", "97401", False), ("97401", "USA", "97401", False),
    ("974", "USA", None, True), ("K1A0B1", "CAN", "K1A 0B1", False), ("k1a 0b1 ", "CAN", "K1A 0B1", False),
    ("K1A", "CAN", None, True),
])
def test_postal_codes(value, country, postal, noted):
    elements = [(e, value if e == "DAK" else v) for e, v in layout(10, country=country)]
    licence = parse_aamva(build(10, elements))
    assert licence.postal_code == postal
    assert any("postal code" in p for p in licence.problems) == noted


@pytest.mark.parametrize("variant", [
    dict(sep="\r\n"), dict(sep="\r", terminator="\r"), dict(prefix="@\n\n"), dict(prefix="@"), dict(prefix=""),
    dict(prefix="\n@\n\x1e\r"), dict(file_type="ANSI"), dict(offsets="zero"), dict(offsets="wrong"),
    dict(terminator=""), dict(kind="ID"),
])
def test_header_and_separator_variants_read_the_same(variant):
    reference = parse_aamva(build(10, layout(10), jurisdiction=[("ZXA", "01")])).as_dict()
    licence = parse_aamva(build(10, layout(10), jurisdiction=[("ZXA", "01")], **variant))
    assert licence.as_dict() == reference
    assert all("compliance indicator" in p for p in licence.problems)  # the only thing worth a note


def test_jurisdiction_subfile_elements_stay_out_of_the_licence():
    text = build(10, layout(10), jurisdiction=[("ZXA", "DCSOTHER"), ("ZXB", "DBB01011999"), ("ZXC", "N")])
    licence = parse_aamva(text)
    assert licence.family_name == "TESTPATIENT" and licence.birth_date == date(1984, 2, 29)


def test_data_whose_separators_were_lost_is_split_by_element_codes():
    text = build(10, layout(10), sep="")
    licence = parse_aamva(text)
    assert (licence.family_name, licence.given_name, licence.birth_date) == ("TESTPATIENT", "ALEX", date(1984, 2, 29))
    assert any("no separators" in p for p in licence.problems)


def test_header_announcing_more_subfiles_than_it_lists():
    text = build(10, layout(10)).replace("ANSI 636000100101", "ANSI 636000100102", 1)
    licence = parse_aamva(text)
    assert licence.family_name == "TESTPATIENT"
    assert "the header announces 2 subfiles but lists 1" in licence.problems


def test_missing_subfile_is_noted_as_incomplete():
    full = build(10, layout(10), jurisdiction=[("ZXA", "01")])
    cut = full[:full.index("ZXZXA")]
    licence = parse_aamva(cut)
    assert licence.family_name == "TESTPATIENT"
    assert any("missing" in p for p in licence.problems)


def test_versions_out_of_range_are_read_with_a_note():
    newer = parse_aamva(build(12, layout(10)))
    assert newer.family_name == "TESTPATIENT" and newer.aamva_version == 12
    assert any("newer than" in p for p in newer.problems)
    zero = parse_aamva(build(0, layout(1)))
    assert zero.family_name == "TESTPATIENT" and any("read as version 1" in p for p in zero.problems)


# ---------------------------------------------------------------------------- not licence data
@pytest.mark.parametrize("text", [
    "", "   ", None, b"", 42, "CK1.b3BhcXVl.c2lnbmF0dXJl", "https://example.org/portal?t=abc", "DCSTESTPATIENT\nDBB",
    "@\n\x1e\rANSI ", "@\n\x1e\rANSI 6360",
])
def test_what_is_not_licence_data_is_an_aamva_error(text):
    with pytest.raises(AamvaError):
        parse_aamva(text)


def test_a_header_without_licence_fields_is_an_aamva_error():
    header_only = build(10, layout(10))[:31]
    with pytest.raises(AamvaError, match="no licence fields"):
        parse_aamva(header_only)
    only_jurisdiction = "@\n\x1e\rANSI 636000100101ZX00310010ZXZXA01\r"
    with pytest.raises(AamvaError, match="no licence fields"):
        parse_aamva(only_jurisdiction)


def test_every_cut_of_a_real_sample_gives_a_licence_or_an_aamva_error():
    """Half a barcode (a scanner buffer cut anywhere): never another exception."""
    text = sample("aamva_2020_example_v10.txt")
    outcomes = {"licence": 0, "error": 0, "identifies": 0}
    for end in range(len(text) + 1):
        try:
            licence = parse_aamva(text[:end])
        except AamvaError:
            outcomes["error"] += 1
            continue
        outcomes["licence"] += 1
        outcomes["identifies"] += licence.identifies
        if not licence.identifies:
            assert licence.problems, "an incomplete licence must say what is missing"
    assert outcomes["error"] > 40 and outcomes["identifies"] > 100  # both kinds happen


def test_corrupted_samples_give_a_licence_or_an_aamva_error():
    rng = random.Random(6)
    texts = [p.read_bytes().decode("latin-1") for p in sorted(SAMPLES.glob("*.txt"))]
    alphabet = "\n\r\x1e@ ANSIDLZ0123456789,$-"
    for _ in range(1500):
        chars = list(rng.choice(texts))
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(chars))
            action = rng.random()
            if action < 0.4:
                chars[position] = rng.choice(alphabet)
            elif action < 0.7:
                del chars[position]
            else:
                chars.insert(position, chr(rng.randrange(0, 256)))
        try:
            parse_aamva("".join(chars))
        except AamvaError:
            pass


# ---------------------------------------------------------------------------- PHI and the API
PHI = ["SAMPLE", "MICHAEL", "JOHN", "1986", "T64235789", "2300 WEST BROAD", "RICHMOND", "23269"]


def test_repr_and_str_hide_phi():
    licence = parse_aamva(sample("aamva_2020_example_v10.txt"))
    for shown in (repr(licence), str(licence), f"{licence}", repr([licence])):
        assert not any(value in shown for value in PHI), shown
    assert "14 fields present" in repr(licence)


def test_error_messages_and_problems_never_quote_the_data():
    text = sample("aamva_2020_example_v10.txt")
    broken = [text[:40], text.replace("ANSI ", "ANSX "), text.replace("DBB06061986", "DBB13131986"),
              text.replace("DAK232690000", "DAK23"), text.replace("DBC1", "DBCQ")]
    for candidate in broken:
        try:
            messages = list(parse_aamva(candidate).problems)
        except AamvaError as error:
            messages = [str(error)]
        assert messages
        for message in messages:
            assert not any(value in message for value in PHI), message


def test_expired_is_relative_to_today_and_inclusive():
    licence = parse_aamva(sample("aamva_2020_example_v10.txt"))  # expires 2024-12-10
    assert not licence.expired(date(2024, 12, 10))
    assert licence.expired(date(2024, 12, 11))
    assert not licence.expired(date(2020, 1, 1))
    no_expiry = parse_aamva(sample("ksoftllc_v8_crlf.txt"))
    assert no_expiry.expiry_date is None and not no_expiry.expired(date(2100, 1, 1))
    assert licence.identifies  # an expired licence still identifies; the kiosk notes it


def test_licence_is_frozen_and_as_dict_has_exactly_the_keys():
    licence = parse_aamva(sample("ksoftllc_v3_canada.txt"))
    with pytest.raises(FrozenInstanceError):
        licence.family_name = "OTHER"  # type: ignore[misc]
    as_dict = licence.as_dict()
    assert list(as_dict) == KEYS
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert isinstance(licence, Licence) and isinstance(licence.problems, tuple)


def test_bytes_are_read_as_latin_1():
    text = sample("aamva_2020_example_v10.txt")
    assert parse_aamva(text.encode("latin-1")).as_dict() == parse_aamva(text).as_dict()
    accented = text.replace("DACMICHAEL", "DACMICH\xc9L")
    assert parse_aamva(accented.encode("latin-1")).given_name == "MICH\xc9L"


def test_is_aamva_is_a_cheap_check():
    assert is_aamva(sample("aamva_2020_example_v10.txt"))
    assert is_aamva(sample("ksoftllc_aamva_file_type_name_only.txt").encode())
    assert not is_aamva("CK1.abc.def") and not is_aamva("") and not is_aamva(None)
    assert not is_aamva("x" * 100 + "ANSI 636000100102")  # a header only counts near the start
