"""Helpers for the education tests: article folders and bundle items written on the fly,
and a store that has only what library_from_store uses."""
from __future__ import annotations

import json
from pathlib import Path

EASY_EN = ("Wash your hands", ["Wash your hands with soap. Do it for a short time. It keeps germs away.",
                               "Dry them well. Then you are done."])


def write_article(root: Path, article_id: str, meta: dict | str | None = None,
                  texts: dict[str, str] | None = None) -> Path:
    """An article folder: article.json from `meta` (a dict, or raw text), and <lang>.txt files."""
    folder = root / article_id
    folder.mkdir(parents=True, exist_ok=True)
    if meta is None:
        meta = {"id": article_id, "version": 1, "topics": ["germs"], "visit_types": []}
    (folder / "article.json").write_text(meta if isinstance(meta, str) else json.dumps(meta), encoding="utf-8")
    if texts is None:
        title, paragraphs = EASY_EN
        texts = {"en": title + "\n\n" + "\n\n".join(paragraphs) + "\n"}
    for language, text in texts.items():
        (folder / f"{language}.txt").write_text(text, encoding="utf-8")
    return folder


def bundle_item(article_id: str = "wash-hands", version: int = 1, **changes) -> dict:
    title, paragraphs = EASY_EN
    item = {"id": article_id, "version": version, "topics": ["germs"], "visit_types": [],
            "languages": {"en": {"title": title, "paragraphs": list(paragraphs)}}}
    item.update(changes)
    return item


class FakeStore:
    """What library_from_store uses of kiosk.store.Store: bundle(kind)."""

    def __init__(self, bundles: dict | None = None):
        self.bundles = bundles or {}
        self.asked: list[str] = []

    def bundle(self, kind: str):
        self.asked.append(kind)
        body = self.bundles.get(kind)
        return None if body is None else (body, '"etag"')
