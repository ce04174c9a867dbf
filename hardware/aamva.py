"""Driver's licence / ID card data (AAMVA DL/ID, the PDF417 on the back), read into a Licence.

    licence = parse_aamva(text)           # raises AamvaError when it is not licence data
    licence.family_name, licence.birth_date, licence.expired(date.today()), licence.problems

Pure Python, no I/O. Versions 1 (2000) to 10 (2020) of the AAMVA DL/ID Card Design
Standard, and what real cards and scanners do besides:

  * the header: compliance indicator "@" and the three separators (often lost or turned
    into CR LF by a scanner), file type "ANSI " or the older "AAMVA", 6-digit issuer
    number (IIN), version, jurisdiction version (from version 2; some version 1 cards
    have it too), number of entries, then one 10-character designator per subfile;
  * subfiles (DL, ID, and the jurisdiction's Z.) are found by their designator in the
    data, not by the offsets and lengths of the header, which are wrong on many cards;
  * names: DCS/DAC/DAD (version 4 on), DCS + DCT given names (versions 2-3), DAB/DAC/DAD
    or the full name DAA "FAMILY,GIVEN,MIDDLE[,SUFFIX]" (version 1), with the truncation
    flags DDE/DDF/DDG;
  * dates: CCYYMMDD in version 1 and on Canadian cards, MMDDCCYY on US cards from version 2;
    the country comes from DCG, else from the issuer number or the province/state code;
    a date in the other order is still read (and noted);
  * sex 1/2/9 or M/F/X, US postal codes cut to 5 digits (ZIP+4 and padding dropped).

Licence data is PHI. Nothing here logs it, no error message or problem quotes it, and a
Licence's repr shows only which fields are present.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date

__all__ = ["AamvaError", "Licence", "NameTruncation", "is_aamva", "parse_aamva"]

SUPPORTED_VERSIONS = range(1, 11)  # 2000 (1) ... 2020 (10)

# Where the file type sits: at the start after "@" and up to three separators, but scanners
# add or drop bytes in front, so it is looked for in the first characters.
HEADER_SEARCH_CHARS = 40
_HEADER = re.compile(r"(ANSI ?|AAMVA)(\d{6})(\d{2})")
_DESIGNATOR = re.compile(r"([A-Z]{2})(\d{4})(\d{4})")
_ELEMENT_ID = re.compile(r"[A-Z]{3}")
_SEPARATORS = re.compile(r"[\r\n\x1e\x1d\x1c]+")

# Issuer numbers of Canadian provinces and territories (AAMVA IIN list); dates there are
# CCYYMMDD. Every other issuer in the list is a US state, territory or federal issuer.
CANADIAN_IINS = frozenset({
    "604426",  # Prince Edward Island
    "604428",  # Quebec
    "604429",  # Yukon
    "604432",  # Alberta
    "604433",  # Nunavut
    "604434",  # Northwest Territories
    "636012",  # Ontario
    "636013",  # Nova Scotia
    "636016",  # Newfoundland and Labrador
    "636017",  # New Brunswick
    "636028",  # British Columbia
    "636044",  # Saskatchewan
    "636048",  # Manitoba
})
CANADIAN_PROVINCES = frozenset("AB BC MB NB NL NF NS NT NU ON PE PQ QC SK YT".split())
US_STATES = frozenset((
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI").split())

# Values that jurisdictions put in a name or suffix field that has nothing in it.
_EMPTY_VALUES = frozenset({"", "NONE", "UNAVL", "UNAVAILABLE", "UNKNOWN", "UNK", "N/A", "NA"})
_SUFFIXES = frozenset("JR SR I II III IV V VI VII VIII IX 1ST 2ND 3RD 4TH 5TH 6TH 7TH 8TH 9TH".split())
_SEX = {"1": "M", "M": "M", "2": "F", "F": "F", "9": "X", "X": "X"}
_TRUNCATION = {"T": True, "N": False}  # "U" (unknown) and anything else: None

EARLIEST_YEAR = 1880  # before this a "date" is a misread, not a birth or expiry
LATEST_YEAR = 2200
SHORTFALL_RATIO = 0.75  # data this much shorter than the header's lengths was cut off

# Every element ID of the DL/ID subfile in versions 1-10, for data whose separators a
# scanner dropped: the elements are then found by their IDs (see _split_run_together).
_KNOWN_IDS = frozenset((
    "DAA DAB DAC DAD DAE DAF DAG DAH DAI DAJ DAK DAL DAM DAN DAO DAP DAQ DAR DAS DAT DAU DAV DAW "
    "DAX DAY DAZ DBA DBB DBC DBD DBE DBF DBG DBH DBI DBJ DBK DBL DBM DBN DBO DBP DBQ DBR DBS DCA "
    "DCB DCD DCE DCF DCG DCH DCI DCJ DCK DCL DCM DCN DCO DCP DCQ DCR DCS DCT DCU DDA DDB DDC DDD "
    "DDE DDF DDG DDH DDI DDJ DDK DDL PAA PAB PAC PAD PAE PAF").split())
_RUN_TOGETHER = re.compile("(?=(?:" + "|".join(sorted(_KNOWN_IDS)) + "))")


class AamvaError(ValueError):
    """The data is not driver's licence data, or too damaged to read.

    The message says what is wrong in words for IT and never quotes the data (PHI).
    """


@dataclass(frozen=True, slots=True)
class NameTruncation:
    """Whether the card says each name part was cut to fit: True, False, or None (unknown)."""

    family: bool | None = None
    given: bool | None = None
    middle: bool | None = None

    @property
    def any(self) -> bool:
        return bool(self.family or self.given or self.middle)


_LICENCE_KEYS = ("family_name", "given_name", "middle_name", "birth_date", "expiry_date", "sex", "street", "city",
                 "state", "postal_code", "country", "document_number", "issuer_id", "aamva_version")


@dataclass(frozen=True, repr=False)
class Licence:
    """What the kiosk reads from a licence. Missing or unreadable fields are None.

    Dates are `datetime.date`; sex "M", "F", "X" or None; postal_code 5 digits for the US
    ("A1A 1A1" in Canada); country "USA", "CAN" or None; issuer_id the 6-digit IIN.
    `problems` are warnings for IT (what was missing or odd), free of PHI.
    """

    family_name: str | None
    given_name: str | None
    middle_name: str | None
    birth_date: date | None
    expiry_date: date | None
    sex: str | None
    street: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    document_number: str | None
    issuer_id: str
    aamva_version: int
    truncated: NameTruncation = field(default_factory=NameTruncation)
    problems: tuple[str, ...] = ()

    def expired(self, today: date) -> bool:
        """True when the expiry date has passed (the card is valid through that day).

        An unknown expiry date is not "expired"; `problems` says it is missing.
        """
        return self.expiry_date is not None and self.expiry_date < today

    @property
    def identifies(self) -> bool:
        """Enough to identify a patient: family name, given name and birth date."""
        return bool(self.family_name and self.given_name and self.birth_date)

    @property
    def address(self) -> dict[str, str]:
        """The address fields that are present (street, city, state, postal_code, country)."""
        values = {"street": self.street, "city": self.city, "state": self.state,
                  "postal_code": self.postal_code, "country": self.country}
        return {key: value for key, value in values.items() if value}

    def as_dict(self) -> dict:
        """The 14 licence keys with JSON-ready values (ISO dates)."""
        out = {}
        for key in _LICENCE_KEYS:
            value = getattr(self, key)
            out[key] = value.isoformat() if isinstance(value, date) else value
        return out

    def __repr__(self) -> str:  # PHI stays out of logs and tracebacks
        present = [f.name for f in fields(self) if f.name in _LICENCE_KEYS and getattr(self, f.name) is not None]
        return (f"<Licence AAMVA v{self.aamva_version} issuer {self.issuer_id}: {len(present)} fields present "
                f"({', '.join(present)}), {len(self.problems)} problems>")

    __str__ = __repr__


# ---------------------------------------------------------------------------- reading
def is_aamva(text: str | bytes | None) -> bool:
    """Does this look like licence data (an AAMVA header near the start)? Cheap; no parsing."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return isinstance(text, str) and _HEADER.search(text[:HEADER_SEARCH_CHARS]) is not None


def parse_aamva(text: str | bytes) -> Licence:
    """Read AAMVA licence data. Raises AamvaError (only) when it is not licence data or has no
    licence fields; damaged or odd fields become None with a note in `problems`."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")  # AAMVA data is ASCII; latin-1 never fails
    if not isinstance(text, str) or not text.strip():
        raise AamvaError("no data: the barcode was empty")
    try:
        return _Reader(text).licence()
    except AamvaError:
        raise
    except Exception as error:  # a bug here must not crash the kiosk nor leak the data
        raise AamvaError(f"licence data could not be read (internal error {type(error).__name__})") from None


@dataclass
class _Subfile:
    kind: str
    elements: dict[str, str] = field(default_factory=dict)
    lines: int = 0


class _Reader:
    """One parse: header, subfiles, then the fields. Collects problems as it goes."""

    def __init__(self, text: str):
        self.text = text.replace("\x00", "")
        self.problems: list[str] = []

    # -- structure ---------------------------------------------------------------------
    def licence(self) -> Licence:
        match = _HEADER.search(self.text[:HEADER_SEARCH_CHARS])
        if match is None:
            raise AamvaError("not driver's licence data: no AAMVA header (\"ANSI \" or \"AAMVA\" followed by a "
                             "6-digit issuer number) at the start")
        file_type, self.issuer_id, version_text = match.groups()
        self.version = int(version_text)
        if self.version == 0 or file_type == "AAMVA":
            self.problems.append(f"pre-standard or version {self.version} header: read as version 1")
        elif self.version not in SUPPORTED_VERSIONS:
            self.problems.append(f"AAMVA version {self.version} is newer than the versions this kiosk knows "
                                 f"(1-10): read as version 10")
        if not self.text[:match.start()].lstrip().startswith("@"):
            self.problems.append("no compliance indicator (@) before the header")
        directory, body = self._directory(self.text[match.end():])
        subfiles = self._subfiles(directory, body)
        main = self._main_subfile(directory, subfiles)
        if main is None or not main.elements:
            raise AamvaError("licence data has a header but no licence fields (DL or ID subfile): the barcode "
                             "was read only in part or is damaged; scan it again")
        self._check_complete(directory, subfiles)
        return self._fields(main.elements)

    def _directory(self, rest: str) -> tuple[list[tuple[str, int, int]], str]:
        """The subfile designators after the version, and the text after them.

        From version 2 two fields come first: jurisdiction version and number of entries
        (version 1 has only the number of entries, but some version 1 cards have both).
        """
        first = _DESIGNATOR.search(rest[:16])  # 4 digits, then the first designator
        lead = rest[:first.start()] if first else ""
        if first is None or not lead.isdigit() or len(lead) not in (2, 4):
            # The designators are missing or damaged: subfiles are found by their type alone.
            self.problems.append("the header's subfile list is missing or damaged")
            skip = len(lead) if lead.isdigit() else 0
            return [], rest[skip:]
        entries = int(lead[-2:])
        directory, position = [], first.start()
        while True:
            found = _DESIGNATOR.match(rest, position)
            if found is None or (entries and len(directory) >= entries):
                break
            directory.append((found.group(1), int(found.group(2)), int(found.group(3))))
            position = found.end()
        if entries and len(directory) != entries:
            self.problems.append(f"the header announces {entries} subfiles but lists {len(directory)}")
        return directory, rest[position:]

    def _subfiles(self, directory, body: str) -> dict[str, _Subfile]:
        kinds = {kind for kind, _, _ in directory} | {"DL", "ID"}
        primary = next((kind for kind, _, _ in directory if not kind.startswith("Z")), "DL")
        subfiles: dict[str, _Subfile] = {}
        current: _Subfile | None = None
        skipped = 0
        lines = _SEPARATORS.split(body)
        jurisdiction_kinds = sorted(kind for kind in kinds if kind.startswith("Z"))
        if jurisdiction_kinds:  # a lost segment terminator glues "ZVZVA01" to the last element
            glued = re.compile("(?=(?:" + "|".join(k + k for k in jurisdiction_kinds) + ")[A-Z])")
            lines = [part for line in lines for part in glued.split(line)]
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            kind = line[:2]
            if (kind in kinds or kind.startswith("Z")) and self._opens_subfile(kind, line[2:]):
                current = subfiles.setdefault(kind, _Subfile(kind))
                line = line[2:]
            elif current is None:
                # An element before any designator (e.g. "AAMVA...DL12345678DAA..." cards, or a
                # designator lost in transit): it belongs to the licence subfile.
                current = subfiles.setdefault(primary, _Subfile(primary))
            if not _ELEMENT_ID.match(line):
                skipped += 1
                continue
            current.lines += 1
            for element_id, value in self._elements(line, current):
                current.elements.setdefault(element_id, value)
        if skipped:
            self.problems.append(f"{skipped} unreadable line(s) skipped")
        return subfiles

    @staticmethod
    def _opens_subfile(kind: str, rest: str) -> bool:
        """Does "<kind><rest>" start a subfile (rather than being an element that starts with
        the same letters)? DL/ID elements start with D (or P in version 1); the elements of a
        jurisdiction subfile Zx start with Zx itself (ZVZVA01)."""
        if not _ELEMENT_ID.match(rest):
            return False
        return rest.startswith(kind) if kind.startswith("Z") else rest[0] in "DP"

    def _elements(self, line: str, subfile: _Subfile):
        """One element per line, or, when the separators were lost, many run together."""
        if subfile.kind.startswith("Z") or len(line) < 60:
            yield line[:3], line[3:].strip()
            return
        parts = [part for part in _RUN_TOGETHER.split(line) if part]
        if len(parts) < 3:
            yield line[:3], line[3:].strip()
            return
        self.problems.append("the data has no separators between fields: fields were split at their codes, "
                             "check the result")
        for part in parts:
            if _ELEMENT_ID.match(part):
                yield part[:3], part[3:].strip()

    @staticmethod
    def _main_subfile(directory, subfiles: dict[str, _Subfile]) -> _Subfile | None:
        for kind, _, _ in directory:
            if kind in ("DL", "ID") and kind in subfiles:
                return subfiles[kind]
        for kind in ("DL", "ID"):
            if kind in subfiles:
                return subfiles[kind]
        return next((s for kind, s in subfiles.items() if not kind.startswith("Z")), None)

    def _check_complete(self, directory, subfiles: dict[str, _Subfile]) -> None:
        """Half a barcode (a misread, a scanner buffer cut) shows as missing subfiles or as
        less data than the header's lengths add up to."""
        missing = [kind for kind, _, _ in directory if kind not in subfiles]
        if missing:
            self.problems.append(f"{len(missing)} subfile(s) listed in the header are missing: "
                                 "the data may be incomplete")
        if not directory:
            return
        # Offsets and lengths are often a little wrong on complete cards (CR LF line ends,
        # miscounted headers): only a large shortfall with no final separator counts.
        offsets_sane = 15 <= directory[0][1] <= 80
        expected = max(offset + length for _, offset, length in directory)
        ends_cleanly = self.text.rstrip(" ")[-1:] in ("\r", "\n")
        if offsets_sane and len(self.text) < SHORTFALL_RATIO * expected and not ends_cleanly:
            self.problems.append("the data is shorter than its header says: the barcode may have been read "
                                 "only in part")

    # -- fields ------------------------------------------------------------------------
    def _fields(self, e: dict[str, str]) -> Licence:
        country = self._country(e)
        family, given, middle = self._names(e)
        truncated = NameTruncation(_TRUNCATION.get(e.get("DDE", "").upper()),
                                   _TRUNCATION.get(e.get("DDF", "").upper()),
                                   _TRUNCATION.get(e.get("DDG", "").upper()))
        year_first = self.version <= 1 or country == "CAN"
        birth = self._date(e.get("DBB"), "birth date", year_first, country)
        expiry = self._date(e.get("DBA"), "expiry date", year_first, country)
        if birth and expiry and expiry < birth:
            self.problems.append("expiry date is before the birth date: both may be misread")
        for name, value in (("family name", family), ("given name", given), ("birth date", birth)):
            if value is None:
                self.problems.append(f"no {name} on the licence data")
        if expiry is None and "DBA" not in e:
            self.problems.append("no expiry date on the licence data")
        state = _clean(e.get("DAJ"))
        return Licence(
            family_name=family, given_name=given, middle_name=middle,
            birth_date=birth, expiry_date=expiry,
            sex=self._sex(e.get("DBC")),
            street=self._street(e), city=_clean(e.get("DAI")),
            state=state.upper() if state else None,
            postal_code=self._postal_code(e.get("DAK"), country),
            country=country,
            document_number=_clean(e.get("DAQ")) or _clean(e.get("DBJ")),
            issuer_id=self.issuer_id, aamva_version=self.version,
            truncated=truncated, problems=tuple(dict.fromkeys(self.problems)),
        )

    def _names(self, e: dict[str, str]) -> tuple[str | None, str | None, str | None]:
        family = _name(e.get("DCS")) or _name(e.get("DAB"))
        given = _name(e.get("DAC"))
        middle = _name_list(e.get("DAD"))
        if given is None and e.get("DCT"):  # versions 2-3: all given names in one field
            given_names = _split_names(e["DCT"])
            given = given_names[0] if given_names else None
            middle = middle or (" ".join(given_names[1:]) or None)
        if e.get("DAA") and (family is None or given is None):  # version 1: the full name
            full_family, full_given, full_middle = self._full_name(e["DAA"])
            family, given = family or full_family, given or full_given
            middle = middle or full_middle
        return family, given, middle

    def _full_name(self, value: str) -> tuple[str | None, str | None, str | None]:
        """DAA: "FAMILY,GIVEN,MIDDLE[,SUFFIX]" ($ also seen); "FAMILY, GIVEN MIDDLE" too."""
        text = value.strip()
        if "," in text or "$" in text:
            parts = [p.strip() for p in re.split(r"[,$]", text)]
            family = parts[0] or None
            given_names = [n for p in parts[1:] for n in p.split()]
        else:
            words = text.split()
            if len(words) > 1:
                self.problems.append("full name (DAA) without commas: read as family, given, middle; "
                                     "check the name")
            family = words[0] if words else None
            given_names = words[1:]
        if given_names and given_names[-1].upper().rstrip(".") in _SUFFIXES and len(given_names) > 1:
            given_names = given_names[:-1]  # the suffix is not a middle name
        family = _name(family)
        given = _name(given_names[0]) if given_names else None
        middle = _name(" ".join(given_names[1:])) if len(given_names) > 1 else None
        return family, given, middle

    def _country(self, e: dict[str, str]) -> str | None:
        declared = (e.get("DCG") or "").strip().upper()
        if declared in ("USA", "CAN"):
            return declared
        if declared:
            self.problems.append("country (DCG) is neither USA nor CAN")
        state = (e.get("DAJ") or "").strip().upper()
        if self.issuer_id in CANADIAN_IINS or state in CANADIAN_PROVINCES:
            return "CAN"
        if state in US_STATES or self.issuer_id.startswith("636"):
            return "USA"
        return None

    def _date(self, value: str | None, what: str, year_first: bool, country: str | None) -> date | None:
        if value is None:
            return None
        text = value.strip()
        iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if iso:
            text = "".join(iso.groups())
        if not re.fullmatch(r"\d{8}", text):
            self.problems.append(f"{what} is not 8 digits")
            return None
        as_ymd = _make_date(text[0:4], text[4:6], text[6:8])
        as_mdy = _make_date(text[4:8], text[0:2], text[2:4])
        expected, other = (as_ymd, as_mdy) if year_first else (as_mdy, as_ymd)
        if expected is not None:
            return expected
        if other is not None:
            order = "MMDDCCYY" if year_first else "CCYYMMDD"
            self.problems.append(f"{what} is in {order} order, not the order this version and country use")
            return other
        self.problems.append(f"{what} is not a valid date")
        return None

    def _sex(self, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()[:1]
        if code in _SEX:
            return _SEX[code]
        if code not in ("", "0"):
            self.problems.append("sex code is not 1, 2, 9, M, F or X")
        return None

    @staticmethod
    def _street(e: dict[str, str]) -> str | None:
        lines = [_clean(e.get("DAG")), _clean(e.get("DAH"))]
        lines = [line for line in lines if line and line.upper() not in _EMPTY_VALUES]
        return ", ".join(lines) or None

    def _postal_code(self, value: str | None, country: str | None) -> str | None:
        text = (value or "").strip().upper()
        if not text:
            return None
        if country == "CAN" or re.match(r"[A-Z]\d[A-Z]", text):
            compact = re.sub(r"[^A-Z0-9]", "", text)
            if re.fullmatch(r"[A-Z]\d[A-Z]\d[A-Z]\d", compact):
                return f"{compact[:3]} {compact[3:]}"
            self.problems.append("postal code is not a Canadian postal code")
            return None
        digits = re.match(r"\d{5}", text.replace("-", ""))
        if digits is None:
            self.problems.append("postal code has fewer than 5 digits")
            return None
        return digits.group(0)


# ---------------------------------------------------------------------------- helpers
def _clean(value: str | None) -> str | None:
    """A value without padding and the trailing commas some jurisdictions leave."""
    if value is None:
        return None
    text = " ".join(value.split()).strip(" ,")
    return text or None


def _name(value: str | None) -> str | None:
    text = _clean(value)
    return None if text is None or text.upper() in _EMPTY_VALUES else text


def _split_names(value: str) -> list[str]:
    return [n for n in re.split(r"[,\s]+", value.strip()) if n and n.upper() not in _EMPTY_VALUES]


def _name_list(value: str | None) -> str | None:
    """DAD may hold several middle names separated by commas ("ANN, MARIE")."""
    if value is None:
        return None
    return _name(" ".join(_split_names(value)))


def _make_date(year: str, month: str, day: str) -> date | None:
    try:
        made = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return made if EARLIEST_YEAR <= made.year <= LATEST_YEAR else None
