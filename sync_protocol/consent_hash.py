"""The text of a consent document as the patient sees it, and its SHA-256.

The kiosk hashes the text it showed and sends the hash with the signature; the
practice server hashes the documents it published the same way and accepts a
signature only for a text it knows. Both sides call these two functions, so the
hash cannot drift between them.
"""

from __future__ import annotations

import hashlib


def consent_text(title: str, body: str) -> str:
    """The shown text in one language: the title, a blank line, the body (verbatim)."""
    return title + "\n\n" + body


def consent_sha256(title: str, body: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 shown text."""
    return hashlib.sha256(consent_text(title, body).encode()).hexdigest()
