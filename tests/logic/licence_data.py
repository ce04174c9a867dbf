"""Synthetic AAMVA licence text for tests (the demo clinic's made-up patients)."""

from __future__ import annotations

from datetime import date


def aamva_text(family: str, given: str, born: date, *, expires: date = date(2031, 1, 1),
               street: str = "12 ELM ST", city: str = "SPRINGFIELD", state: str = "IL", postal: str = "627040000",
               number: str = "S1234567") -> str:
    """A version-10 AAMVA DL subfile as a licence's PDF417 carries it (US dates MMDDCCYY)."""
    fields = [
        f"DAQ{number}", f"DCS{family}", "DDEN", f"DAC{given}", "DDFN", "DADNONE", "DDGN",
        f"DBA{expires:%m%d%Y}", f"DBB{born:%m%d%Y}", "DBC2", f"DAG{street}", f"DAI{city}",
        f"DAJ{state}", f"DAK{postal}  ", "DCGUSA", "DCFDOC0001",
    ]
    body = "DL" + "\n".join(fields) + "\r"
    header = "@\n\x1e\rANSI 636000100001"
    offset = len(header) + 10
    return header + f"DL{offset:04d}{len(body):04d}" + body
