"""Consent documents: the bundled ones, the server's bundle, the text shown and its hash."""
from __future__ import annotations

import copy
import hashlib
import json

import pytest

from kiosk.consent.documents import (
    DOCUMENTS_DIR,
    KINDS,
    ConsentDocumentError,
    load_default_documents,
    parse_consent_document,
    parse_consents_bundle,
    sha256_for,
    text_for,
)

VALID = {
    "id": "photo-consent",
    "kind": "treatment",
    "version": "2027-01",
    "title": {"en": "Photos of your skin", "es": "Fotos de su piel"},
    "body": {"en": "We may take photos of your skin for your record.",
             "es": "Podemos tomar fotos de su piel para su expediente."},
}


def _valid(**changes):
    raw = copy.deepcopy(VALID)
    raw.update(changes)
    return raw


# -- the bundled documents --------------------------------------------------------------------

def test_the_three_default_documents_load_in_signing_order():
    documents = load_default_documents()
    assert [d.id for d in documents] == ["hipaa-notice", "financial-policy", "treatment-consent"]
    assert [d.kind for d in documents] == list(KINDS)
    assert all(d.version == "2026-11" for d in documents)


@pytest.mark.parametrize("document", load_default_documents(), ids=lambda d: d.id)
def test_every_default_document_is_in_english_and_spanish_and_plain(document):
    assert document.languages == ("en", "es")
    for language in ("en", "es"):
        shown = text_for(document, language)
        assert not shown.fell_back and shown.language == language
        words = len(shown.body.split())
        assert 150 <= words <= 320, f"{document.id} {language}: {words} words"
        lines = shown.body.split("\n")  # a paragraph or a bullet
        assert max(len(line.split()) for line in lines) <= 70, "short paragraphs, no walls of text"
        lowered = shown.text.lower()
        assert "sample" not in lowered and "family clinic" not in lowered
    assert "practice" in document.body["en"] and "consultorio" in document.body["es"]


def test_the_privacy_document_is_the_acknowledgement_not_the_notice():
    hipaa = next(d for d in load_default_documents() if d.kind == "privacy")
    assert "not the notice itself" in hipaa.body["en"]
    assert "no es el aviso completo" in hipaa.body["es"]


def test_a_broken_bundled_file_names_itself(tmp_path):
    (tmp_path / "photo-consent.json").write_text(json.dumps(_valid(kind="photos")))
    with pytest.raises(ConsentDocumentError, match="photo-consent.json.*'kind'"):
        load_default_documents(tmp_path)
    (tmp_path / "photo-consent.json").write_text(json.dumps(_valid(id="other")))
    with pytest.raises(ConsentDocumentError, match="must match the file name"):
        load_default_documents(tmp_path)
    (tmp_path / "photo-consent.json").write_text("{not json")
    with pytest.raises(ConsentDocumentError, match="cannot be read as JSON"):
        load_default_documents(tmp_path)


def test_bundled_files_are_what_the_server_bundle_format_reads():
    items = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DOCUMENTS_DIR.glob("*.json"))]
    documents, problems = parse_consents_bundle(items)
    assert problems == [] and len(documents) == 3
    assert {d.id: d for d in documents} == {d.id: d for d in load_default_documents()}
    assert all(parse_consent_document(d.as_dict()) == d for d in documents)


# -- text shown and its hash -----------------------------------------------------------------

def test_missing_language_falls_back_to_english_and_says_so():
    doc = parse_consent_document(_valid(title={"en": "Photos"}, body={"en": "We may take photos."}))
    shown = text_for(doc, "es")
    assert shown.fell_back and shown.language == "en" and shown.requested_language == "es"
    assert shown.title == "Photos"
    regional = text_for(parse_consent_document(VALID), "es-US")
    assert not regional.fell_back and regional.language == "es" and regional.title == "Fotos de su piel"


def test_hash_is_sha256_of_title_blank_line_body():
    doc = parse_consent_document(VALID)
    expected = hashlib.sha256("Photos of your skin\n\nWe may take photos of your skin for your record.".encode()).hexdigest()
    assert sha256_for(doc, "en") == expected == text_for(doc, "en").sha256
    assert text_for(doc, "en").text == "Photos of your skin\n\nWe may take photos of your skin for your record."


def test_hashes_are_stable_and_differ_per_language_and_text():
    hipaa = load_default_documents()[0]
    assert sha256_for(hipaa, "en") == sha256_for(load_default_documents()[0], "en")
    assert sha256_for(hipaa, "en") != sha256_for(hipaa, "es")
    hashes = {sha256_for(d, lang) for d in load_default_documents() for lang in ("en", "es")}
    assert len(hashes) == 6
    # A new version changes the text, and so the hash; the hash covers the text verbatim.
    doc = parse_consent_document(VALID)
    body = dict(VALID["body"], en=VALID["body"]["en"] + " We keep them private.")
    revised = parse_consent_document(_valid(version="2027-06", body=body))
    assert sha256_for(revised, "en") != sha256_for(doc, "en")
    assert sha256_for(revised, "es") == sha256_for(doc, "es")  # same Spanish text, same hash
    spaced = parse_consent_document(_valid(title=dict(VALID["title"], en="Photos of your skin ")))
    assert sha256_for(spaced, "en") != sha256_for(doc, "en")  # never normalised


def test_a_fallback_hashes_the_english_text_shown():
    doc = parse_consent_document(_valid(title={"en": "Photos"}, body={"en": "We may take photos."}))
    assert sha256_for(doc, "vi") == sha256_for(doc, "en")


# -- the server's bundle -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "bad, expected",
    [
        ("not a document", "must be a JSON object"),
        (_valid(id="HIPAA Notice"), "'id' must be lower-case"),
        (_valid(id=None), "'id' must be"),
        (_valid(kind="privcy"), "'kind' must be one of privacy, financial, treatment; found 'privcy'"),
        (_valid(version=""), "'version' must be non-empty"),
        (_valid(version=202701), "'version' must be non-empty text"),
        (_valid(title="Photos"), "'title' must be an object of texts by language"),
        (_valid(body={}), "'body' must be an object"),
        (_valid(body=dict(VALID["body"], es="  ")), "'body' in 'es' must be non-empty text"),
        (_valid(title=dict(VALID["title"], Spanish="Fotos")), "'Spanish', which is not a language code"),
        (_valid(title={"en": "Photos", "es": "Fotos", "fr": "Photos"}), "has a title but no body in 'fr'"),
        (_valid(title={"es": "Fotos"}, body={"es": "Fotos."}), "has no English ('en') title and body"),
    ],
)
def test_a_bad_entry_is_reported_and_does_not_stop_the_others(bad, expected):
    documents, problems = parse_consents_bundle([VALID, bad, load_default_documents()[0].as_dict()])
    assert [d.id for d in documents] == ["photo-consent", "hipaa-notice"]
    assert problems, "the bad entry was not reported"
    assert all(p.where == "consents bundle item 2" for p in problems)
    assert any(expected in str(p) for p in problems), [str(p) for p in problems]


def test_every_problem_of_an_entry_is_reported_at_once():
    _, problems = parse_consents_bundle([_valid(kind="x", version="", body="y")])
    assert len(problems) == 3
    assert all(p.document_id == "photo-consent" for p in problems)
    assert str(problems[0]).startswith("consents bundle item 1 (id 'photo-consent'): ")


def test_a_document_listed_twice_is_used_once():
    documents, problems = parse_consents_bundle([VALID, _valid(version="2027-06")])
    assert [d.version for d in documents] == ["2027-01"]
    assert len(problems) == 1 and "the same id as item 1" in problems[0].message


def test_items_that_are_not_a_list():
    documents, problems = parse_consents_bundle({"id": "hipaa-notice"})
    assert documents == [] and "'items' must be a list" in str(problems[0])
    assert parse_consents_bundle([]) == ([], [])


def test_a_long_bad_value_is_quoted_short():
    _, problems = parse_consents_bundle([_valid(kind="x" * 500)])
    assert len(str(problems[0])) < 200


def test_parse_one_document_raises_with_every_problem():
    with pytest.raises(ConsentDocumentError, match="'kind'.*'version'"):
        parse_consent_document(_valid(kind="x", version=""))


def test_documents_cannot_be_changed_after_parsing():
    doc = parse_consent_document(VALID)
    with pytest.raises(TypeError):
        doc.body["en"] = "something else"  # the signed text must be the text hashed
