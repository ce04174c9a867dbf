"""Versioned consent documents: read, checked, shown in the patient's language, hashed.

A document is one JSON object (the bundled ones are in `documents/*.json`; the server's
consents bundle has a list of them as its items)::

    {"id": "hipaa-notice", "kind": "privacy", "version": "2026-11",
     "title": {"en": "...", "es": "..."}, "body": {"en": "...", "es": "..."}}

Every document has English, the language the kiosk falls back to when a patient's language
has no translation; the result says when that happened, so the consent event can record
the language actually shown. The hash is the shared definition in
`sync_protocol.consent_hash` (title + blank line + body, verbatim, UTF-8, SHA-256): the
server accepts a signature only for a text it published, so texts are never altered here.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sync_protocol.consent_hash import consent_sha256, consent_text

DOCUMENTS_DIR = Path(__file__).with_name("documents")
KINDS = ("privacy", "financial", "treatment")  # also the order the defaults are signed in
FALLBACK_LANGUAGE = "en"
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
MAX_VERSION_LENGTH = 40
_QUOTE_LIMIT = 40  # problems quote at most this much of a bad value


class ConsentDocumentError(ValueError):
    """A consent document is malformed; the message names it and every problem found."""


@dataclass(frozen=True)
class ConsentDocument:
    id: str
    kind: str  # one of KINDS
    version: str
    title: Mapping[str, str]  # language code -> text, verbatim
    body: Mapping[str, str]

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with both a title and a body."""
        return tuple(sorted(set(self.title) & set(self.body)))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (what `parse_consent_document` reads)."""
        return {"id": self.id, "kind": self.kind, "version": self.version,
                "title": dict(self.title), "body": dict(self.body)}


@dataclass(frozen=True)
class ConsentText:
    """What the patient is shown for one document, and in which language."""

    document_id: str
    version: str
    requested_language: str
    language: str  # the language of title and body
    fell_back: bool  # True when the requested language had no text and English is shown
    title: str
    body: str

    @property
    def text(self) -> str:
        return consent_text(self.title, self.body)

    @property
    def sha256(self) -> str:
        return consent_sha256(self.title, self.body)


@dataclass(frozen=True)
class ConsentProblem:
    """One reason a document of a bundle (or a file) was not used."""

    where: str  # "consents bundle item 3" or a file name
    document_id: str | None
    message: str

    def __str__(self) -> str:
        named = f" (id {self.document_id!r})" if self.document_id else ""
        return f"{self.where}{named}: {self.message}"


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."


def _texts(raw: dict[str, Any], field: str, problems: list[str]) -> dict[str, str]:
    value = raw.get(field)
    if not isinstance(value, dict) or not value:
        problems.append(f"'{field}' must be an object of texts by language, like {{\"en\": \"...\"}}; "
                        f"found {_quote(value)}")
        return {}
    texts = {}
    for language, text in value.items():
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            problems.append(f"'{field}' has {_quote(language)}, which is not a language code like 'en' or 'es'")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"'{field}' in {language!r} must be non-empty text; found {_quote(text)}")
        else:
            texts[language] = text
    return texts


def _check(raw: Any) -> tuple[ConsentDocument | None, str | None, list[str]]:
    """The document, its id (when readable) and every problem found in it."""
    if not isinstance(raw, dict):
        return None, None, [f"must be a JSON object (a consent document); found {type(raw).__name__}"]
    problems: list[str] = []
    doc_id = raw.get("id")
    if not isinstance(doc_id, str) or not _ID.fullmatch(doc_id):
        problems.append("'id' must be lower-case letters, digits, '-', '_' or '.' (at most 64), "
                        f"like 'hipaa-notice'; found {_quote(doc_id)}")
        doc_id = None
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append(f"'kind' must be one of {', '.join(KINDS)}; found {_quote(kind)}")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > MAX_VERSION_LENGTH:
        problems.append(f"'version' must be non-empty text of at most {MAX_VERSION_LENGTH} characters, "
                        f"like '2026-11'; found {_quote(version)}")
    title = _texts(raw, "title", problems)
    body = _texts(raw, "body", problems)
    if title and body:
        for language in sorted(set(title) ^ set(body)):
            has, lacks = ("title", "body") if language in title else ("body", "title")
            problems.append(f"has a {has} but no {lacks} in {language!r}: translate both or neither")
        if FALLBACK_LANGUAGE not in title or FALLBACK_LANGUAGE not in body:
            problems.append(f"has no English ('{FALLBACK_LANGUAGE}') title and body: English is shown "
                            "when a patient's language has no translation")
    if problems:
        return None, doc_id, problems
    document = ConsentDocument(id=doc_id, kind=kind, version=version,
                               title=MappingProxyType(title), body=MappingProxyType(body))
    return document, doc_id, []


def parse_consent_document(raw: Any, where: str = "consent document") -> ConsentDocument:
    """One document from its JSON form; ConsentDocumentError lists every problem in it."""
    document, doc_id, problems = _check(raw)
    if document is None:
        raise ConsentDocumentError("; ".join(str(ConsentProblem(where, doc_id, p)) for p in problems))
    return document


def parse_consents_bundle(items: Any) -> tuple[list[ConsentDocument], list[ConsentProblem]]:
    """The usable documents of the server's consents bundle, in its order, and the problems.

    A bad entry is left out with its problems; it never stops the others. An id that comes
    twice is used once (the first), so a patient never signs two texts for one document.
    """
    if not isinstance(items, list):
        return [], [ConsentProblem("consents bundle", None,
                                   f"'items' must be a list of consent documents; found {type(items).__name__}")]
    documents: list[ConsentDocument] = []
    problems: list[ConsentProblem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(items, start=1):
        where = f"consents bundle item {index}"
        document, doc_id, found = _check(raw)
        problems += [ConsentProblem(where, doc_id, message) for message in found]
        if document is None:
            continue
        if document.id in seen:
            problems.append(ConsentProblem(where, document.id,
                                           f"the same id as item {seen[document.id]}: only item "
                                           f"{seen[document.id]} is used; give each document one entry"))
            continue
        seen[document.id] = index
        documents.append(document)
    return documents, problems


def load_default_documents(directory: Path = DOCUMENTS_DIR) -> list[ConsentDocument]:
    """The bundled documents (used until the server sends its own), privacy first.

    They ship with the kiosk, so a broken one is a bug: ConsentDocumentError names the file.
    """
    documents = []
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConsentDocumentError(f"{path}: cannot be read as JSON ({error})") from None
        document = parse_consent_document(raw, where=str(path))
        if document.id != path.stem:
            raise ConsentDocumentError(f"{path}: its id {document.id!r} must match the file name")
        documents.append(document)
    if not documents:
        raise ConsentDocumentError(f"{directory}: no consent documents (*.json) found")
    return sorted(documents, key=lambda d: (KINDS.index(d.kind), d.id))


def text_for(document: ConsentDocument, language: str) -> ConsentText:
    """The title and body in `language` ('es-US' finds 'es'), else English, saying which."""
    for candidate in (language, language.split("-")[0].lower()):
        if candidate in document.title and candidate in document.body:
            return ConsentText(document.id, document.version, language, candidate, False,
                               document.title[candidate], document.body[candidate])
    return ConsentText(document.id, document.version, language, FALLBACK_LANGUAGE, True,
                       document.title[FALLBACK_LANGUAGE], document.body[FALLBACK_LANGUAGE])


def sha256_for(document: ConsentDocument, language: str) -> str:
    """Hex SHA-256 of the text shown for `language` (after any fallback to English)."""
    return text_for(document, language).sha256
